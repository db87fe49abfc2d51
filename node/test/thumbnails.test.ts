/** The thumbnail cache without ffmpeg or a network (fake clock): freshness, single-flight, the run limit, the same segment not decoded twice, the bound. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FakeClock } from '@diststream/util'
import { MAX_THUMBNAIL_STREAMS, POSTER_MAX_AGE_S, THUMBNAIL_MAX_AGE_S, Thumbnails } from '../src/http/thumbnails.js'
import { etagMatches } from '../src/http/thumbnail-routes.js'
import type { ThumbnailSource } from '@diststream/edge'

function source (over: Partial<ThumbnailSource> = {}): ThumbnailSource {
  return { seq: 1, rendition: '240p', width: 426, height: 240, vod: false, ended: false, data: Buffer.from('seg'), etag: '"aa"', ...over }
}

describe('Thumbnails', () => {
  it('keeps a live thumbnail THUMBNAIL_MAX_AGE_S, then asks for the newest segment; the same segment is not decoded again', async () => {
    const clock = new FakeClock(0)
    let seq = 1
    let runs = 0
    const outcomes: string[] = []
    const t = new Thumbnails({ clock, source: async () => source({ seq, etag: `"s${seq}"` }), make: async (s) => { runs++; return Buffer.from(`jpeg-${s.seq}`) }, onOutcome: o => { outcomes.push(o) } })
    const a = await t.get('s')
    assert.equal(a.jpeg.toString(), 'jpeg-1')
    assert.equal(a.maxAgeS, THUMBNAIL_MAX_AGE_S)
    assert.match(a.etag, /^"[0-9a-f]{32}"$/)
    clock.advance(THUMBNAIL_MAX_AGE_S * 1000 - 1)
    assert.equal(await t.get('s'), a)
    clock.advance(1)
    assert.equal((await t.get('s')).etag, a.etag, 'no newer segment: the same picture')
    assert.equal(runs, 1)
    seq = 2
    clock.advance(THUMBNAIL_MAX_AGE_S * 1000)
    const b = await t.get('s')
    assert.equal(b.jpeg.toString(), 'jpeg-2')
    assert.notEqual(b.etag, a.etag)
    assert.equal(runs, 2)
    assert.deepEqual(outcomes, ['made', 'cached', 'unchanged', 'made'])
  })

  it('a VOD or ended stream: a poster kept POSTER_MAX_AGE_S', async () => {
    const t = new Thumbnails({ clock: new FakeClock(0), source: async () => source({ vod: true }), make: async () => Buffer.from('p') })
    assert.equal((await t.get('v')).maxAgeS, POSTER_MAX_AGE_S)
  })

  it('concurrent requests for one stream share one run; past maxRuns over all streams: 503', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    let runs = 0
    const t = new Thumbnails({ clock: new FakeClock(0), maxRuns: 2, source: async (id) => source({ etag: `"${id}"` }), make: async () => { runs++; await gate; return Buffer.from('j') } })
    const same = [t.get('a'), t.get('a'), t.get('a'), t.get('b')]
    await new Promise(resolve => setImmediate(resolve))
    await assert.rejects(t.get('c'), (err: any) => err.statusCode === 503)
    release()
    await Promise.all(same)
    assert.equal(runs, 2)
    await t.get('c')
  })

  it('a failed run is not kept: the next request tries again', async () => {
    let fail = true
    const t = new Thumbnails({ clock: new FakeClock(0), source: async () => source(), make: async () => { if (fail) throw new Error('ffmpeg failed'); return Buffer.from('j') } })
    await assert.rejects(t.get('s'), /ffmpeg failed/)
    fail = false
    assert.equal((await t.get('s')).jpeg.toString(), 'j')
  })

  it('keeps at most MAX_THUMBNAIL_STREAMS pictures', async () => {
    const t = new Thumbnails({ clock: new FakeClock(0), source: async (id) => source({ etag: `"${id}"` }), make: async () => Buffer.from('j') })
    for (let i = 0; i < MAX_THUMBNAIL_STREAMS + 10; i++) await t.get(`s${i}`)
    assert.equal(t.kept, MAX_THUMBNAIL_STREAMS)
  })

  it('etagMatches: exact, weak, lists and *', () => {
    assert.equal(etagMatches('"a"', '"a"'), true)
    assert.equal(etagMatches('W/"a"', '"a"'), true)
    assert.equal(etagMatches('"b", "a"', '"a"'), true)
    assert.equal(etagMatches('*', '"a"'), true)
    assert.equal(etagMatches('"b"', '"a"'), false)
    assert.equal(etagMatches(undefined, '"a"'), false)
  })
})
