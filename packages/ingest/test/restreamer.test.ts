import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openStore } from '@diststream/store'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { MAX_OUTPUTS_PER_STREAM } from '../src/constants.js'
import { Restreamer } from '../src/restream/restreamer.js'
import type { Store } from '@diststream/store'

/** Names resolve to a public address, except `lan.example` (private). No DNS. */
const policyIo = { lookup: async (host: string) => [host === 'lan.example' ? '192.168.1.20' : '93.184.216.34'], realpath: async () => undefined }

describe('Restreamer: outputs persisted with the stream (no publish: nothing runs)', () => {
  let dir: string
  let store: Store
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'ds-restreamer-')); store = await openStore(dir) })
  after(async () => { await store.close(); await rm(dir, { recursive: true, force: true }) })
  const make = (allowPrivate = false): Restreamer => new Restreamer({ table: store.outputs, ffmpegPath: '/nonexistent/ffmpeg', logger: pino({ level: 'silent' }), registry: new Registry(), policy: { allowPrivate }, policyIo })

  it('adds, lists (full for the token holder, redacted otherwise), removes; a new instance reads them back', async () => {
    const r = make()
    const a = await r.add('s1', 'rtmp://a.rtmp.youtube.com/live2/secret-key-1')
    assert.equal(a.state, 'idle')
    assert.match(a.id, /^[0-9a-f]{16}$/)
    await r.add('s1', 'srt://ingest.example:9000?streamid=secret2')
    assert.deepEqual((await r.list('s1', true)).map(o => o.url), ['rtmp://a.rtmp.youtube.com/live2/secret-key-1', 'srt://ingest.example:9000?streamid=secret2'])
    const pub = JSON.stringify(await r.list('s1', false))
    assert.ok(!pub.includes('secret'), pub)
    assert.deepEqual((await make().list('s1', true)).map(o => o.id)[0], a.id, 'persisted')
    await r.remove('s1', a.id)
    await assert.rejects(r.remove('s1', a.id), (err: Error & { statusCode?: number }) => err.statusCode === 404)
    assert.equal((await r.list('s1', true)).length, 1)
    await r.removeAll('s1')
    assert.deepEqual(await r.list('s1', true), [])
  })

  it(`holds at most ${MAX_OUTPUTS_PER_STREAM} per stream, also when added concurrently`, async () => {
    const r = make()
    const results = await Promise.allSettled(Array.from({ length: MAX_OUTPUTS_PER_STREAM + 3 }, async (_, i) => await r.add('s2', `rtmp://platform.example/app/k${i}`)))
    assert.equal(results.filter(x => x.status === 'fulfilled').length, MAX_OUTPUTS_PER_STREAM)
    assert.ok(results.every(x => x.status === 'fulfilled' || (x.reason as { statusCode?: number }).statusCode === 409))
    assert.equal((await r.list('s2', true)).length, MAX_OUTPUTS_PER_STREAM)
  })

  it('refuses a bad URL, a private host without --allow-private-sources and a metadata address always (400)', async () => {
    const is400 = (err: Error & { statusCode?: number }): boolean => err.statusCode === 400
    await assert.rejects(make().add('s3', 'http://platform.example/app/k'), is400)
    await assert.rejects(make().add('s3', 'rtmp://lan.example/app/k'), (err: Error & { statusCode?: number }) => is400(err) && /output host/.test(err.message))
    await assert.rejects(make(true).add('s3', 'rtmp://169.254.169.254/app/k'), is400)
    assert.equal((await make(true).add('s3', 'rtmp://lan.example/app/k')).state, 'idle')
  })
})
