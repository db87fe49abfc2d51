import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { contentTypeFor, etagMatches, playlistCacheControl, segmentResponse, SEGMENT_CACHE_CONTROL, SingleFlight } from '../src/index.js'

const seg = { data: Buffer.from('0123456789'), etag: '"abc"' }
const TS = 'video/mp2t'

describe('segmentResponse', () => {
  it('200 with the immutable cache policy, strong ETag and accept-ranges', () => {
    const r = segmentResponse(seg, TS, {})
    assert.equal(r.status, 200)
    assert.equal(r.headers['cache-control'], SEGMENT_CACHE_CONTROL)
    assert.equal(r.headers.etag, '"abc"')
    assert.equal(r.headers['accept-ranges'], 'bytes')
    assert.equal(r.headers['content-type'], TS)
    assert.equal(r.body?.toString(), '0123456789')
  })

  it('If-None-Match with the ETag (alone, in a list, weak or *) → 304 without a body', () => {
    for (const inm of ['"abc"', '"x", "abc"', 'W/"abc"', '*']) {
      const r = segmentResponse(seg, TS, { ifNoneMatch: inm })
      assert.equal(r.status, 304, inm)
      assert.equal(r.body, undefined)
      assert.equal(r.headers.etag, '"abc"')
    }
    assert.equal(segmentResponse(seg, TS, { ifNoneMatch: '"other"' }).status, 200)
  })

  it('Range → 206 with Content-Range and the bytes asked for', () => {
    const cases: Array<[string, string, string]> = [['bytes=2-4', 'bytes 2-4/10', '234'], ['bytes=7-', 'bytes 7-9/10', '789'], ['bytes=-3', 'bytes 7-9/10', '789'], ['bytes=8-100', 'bytes 8-9/10', '89']]
    for (const [range, cr, body] of cases) {
      const r = segmentResponse(seg, TS, { range })
      assert.equal(r.status, 206, range)
      assert.equal(r.headers['content-range'], cr)
      assert.equal(r.body?.toString(), body)
    }
  })

  it('unsatisfiable Range → 416 with bytes */size; malformed or multiple ranges → the whole segment', () => {
    const r = segmentResponse(seg, TS, { range: 'bytes=10-20' })
    assert.equal(r.status, 416)
    assert.equal(r.headers['content-range'], 'bytes */10')
    assert.equal(r.body, undefined)
    assert.equal(segmentResponse(seg, TS, { range: 'garbage' }).status, 200)
    assert.equal(segmentResponse(seg, TS, { range: 'bytes=0-1,5-6' }).status, 200)
  })

  it('If-Range with another validator ignores the Range', () => {
    assert.equal(segmentResponse(seg, TS, { range: 'bytes=0-1', ifRange: '"abc"' }).status, 206)
    assert.equal(segmentResponse(seg, TS, { range: 'bytes=0-1', ifRange: '"old"' }).status, 200)
  })
})

describe('content types and playlist caching', () => {
  it('maps extensions to the types players expect', () => {
    assert.equal(contentTypeFor('12.ts'), 'video/mp2t')
    assert.equal(contentTypeFor('12.m4s'), 'video/mp4')
    assert.equal(contentTypeFor('init.mp4'), 'video/mp4')
    assert.equal(contentTypeFor('index.m3u8'), 'application/vnd.apple.mpegurl')
    assert.equal(contentTypeFor('manifest.mpd'), 'application/dash+xml')
    assert.equal(contentTypeFor('x.exe'), undefined)
  })

  it('live playlists: about half a segment; ended: the retention', () => {
    assert.equal(playlistCacheControl({ ended: false, targetDurationSec: 2, retentionSec: 3600 }), 'public, max-age=1')
    assert.equal(playlistCacheControl({ ended: false, targetDurationSec: 6, retentionSec: 3600 }), 'public, max-age=3')
    assert.equal(playlistCacheControl({ ended: true, targetDurationSec: 2, retentionSec: 3600 }), 'public, max-age=3600')
  })

  it('etagMatches compares weakly', () => {
    assert.ok(etagMatches('W/"a"', '"a"'))
    assert.ok(!etagMatches('"b"', '"a"'))
  })
})

describe('SingleFlight', () => {
  it('concurrent calls for one key share one run; later calls start a new one', async () => {
    const sf = new SingleFlight<number>()
    let runs = 0
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const calls = Array.from({ length: 10 }, async () => await sf.do('k', async () => { runs++; await gate; return 42 }))
    assert.equal(sf.size, 1)
    release()
    assert.deepEqual(await Promise.all(calls), Array(10).fill(42))
    assert.equal(runs, 1)
    assert.equal(sf.size, 0)
    await sf.do('k', async () => { runs++; return 1 })
    assert.equal(runs, 2)
  })

  it('a failure reaches every waiter and is not cached', async () => {
    const sf = new SingleFlight<number>()
    const a = sf.do('k', async () => { throw new Error('boom') })
    const b = sf.do('k', async () => 1)
    await assert.rejects(a, /boom/)
    await assert.rejects(b, /boom/)
    assert.equal(await sf.do('k', async () => 7), 7)
  })
})
