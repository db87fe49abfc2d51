import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DvrHistory } from '../src/dvr.js'
import { MAX_DVR_SEGMENTS } from '../src/constants.js'
import type { Rendition, SegmentAnnounce } from '@diststream/protocol'

const sha = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(32).fill(n)
const rendition = (name: string, cmafInit = false): Rendition => ({
  name,
  width: 640,
  height: 360,
  bandwidth: 800_000,
  codecs: 'avc1.64001e',
  size: 100,
  sha256: sha(1),
  ...(cmafInit ? { initSize: 10, initSha256: sha(0xab) } : {})
})
const seg = (seq: number, o: { durationMs?: number, discontinuity?: boolean, renditions?: string[], cmafInit?: boolean } = {}): SegmentAnnounce => ({
  streamId: 's',
  seq,
  durationMs: o.durationMs ?? 1500,
  pdtMs: 1_000_000 + seq * 1500,
  discontinuity: o.discontinuity ?? false,
  renditions: (o.renditions ?? ['360p']).map(n => rendition(n, o.cmafInit))
})

describe('DvrHistory: the one DVR/VOD/DASH list', () => {
  it('lists every seq from the oldest to the newest held; a missing seq is a gap as long as the one before it', () => {
    const h = new DvrHistory({ cmaf: false })
    for (const s of [10, 13, 11]) h.remember(seg(s))
    const list = h.segments('360p', { targetDurationSec: 2 })
    assert.deepEqual(list.map(s => [s.seq, s.uri, s.gap, s.durationSec]), [
      [10, '10.ts', false, 1.5],
      [11, '11.ts', false, 1.5],
      [12, 'gap-12.ts', true, 1.5],
      [13, '13.ts', false, 1.5]
    ])
  })

  it('a CMAF stream\'s DVR playlist lists its gaps as .m4s, with the target duration when nothing comes before them', () => {
    const h = new DvrHistory({ cmaf: true, maxSegments: 4 })
    h.remember(seg(0, { cmafInit: true }))
    h.remember(seg(9, { cmafInit: true, renditions: ['720p'] }))
    h.remember(seg(10, { cmafInit: true }))
    // span clamped to seqs 7..10: 7 and 8 were never heard of, 9 lacks this rendition
    const list = h.segments('360p', { targetDurationSec: 2 })
    assert.deepEqual(list.map(s => [s.seq, s.uri, s.gap === true, s.durationSec]), [
      [7, 'gap-7.m4s', true, 2],
      [8, 'gap-8.m4s', true, 2],
      [9, 'gap-9.m4s', true, 1.5],
      [10, '10.m4s', false, 1.5]
    ])
    assert.equal(list.at(-1)?.map, 'init-abababab.mp4')
    const text = h.playlist('360p', { targetDurationSec: 2, vod: false })
    assert.match(text, /#EXT-X-VERSION:7/)
    assert.match(text, /#EXTINF:2\.000,\n#EXT-X-GAP\ngap-7\.m4s/)
    assert.doesNotMatch(text, /gap-\d+\.ts/)
    assert.match(text, /#EXT-X-ENDLIST/)
    assert.doesNotMatch(text, /PLAYLIST-TYPE/)
  })

  it('keeps discontinuities, and a VOD says so', () => {
    const h = new DvrHistory({ cmaf: false })
    h.remember(seg(1))
    h.remember(seg(2, { discontinuity: true }))
    assert.deepEqual(h.segments('360p', { targetDurationSec: 2 }).map(s => s.discontinuity), [false, true])
    const text = h.playlist('360p', { targetDurationSec: 2, vod: true })
    assert.match(text, /#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:1\.500,\n2\.ts/)
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/)
  })

  it('a rendition this edge could not get becomes a gap', () => {
    const h = new DvrHistory({ cmaf: false })
    h.remember(seg(1))
    h.remember(seg(2))
    h.dropRendition(2, '360p')
    assert.deepEqual(h.segments('360p', { targetDurationSec: 2 }).map(s => [s.uri, s.gap]), [['1.ts', false], ['gap-2.ts', true]])
  })

  it('the first announcement of a seq wins, and it holds at most maxSegments (the oldest seq goes)', () => {
    const h = new DvrHistory({ cmaf: false, maxSegments: 3 })
    h.remember(seg(5, { durationMs: 1000 }))
    h.remember(seg(5, { durationMs: 9000 }))
    assert.equal(h.get(5)?.durationSec, 1)
    for (const s of [7, 6, 8]) h.remember(seg(s))
    assert.equal(h.size, 3)
    assert.equal(h.get(5), undefined)
    assert.deepEqual(h.segments('360p', { targetDurationSec: 2 }).map(s => s.seq), [6, 7, 8])
  })

  it('seqs 0 and 2^53-1 from a hostile peer give a bounded list at once (security review C1)', () => {
    const h = new DvrHistory({ cmaf: false })
    const last = Number.MAX_SAFE_INTEGER
    h.remember(seg(0))
    h.remember({ ...seg(last), pdtMs: 2_000_000 })
    const t0 = performance.now()
    const list = h.segments('360p', { targetDurationSec: 2 })
    const text = h.playlist('360p', { targetDurationSec: 2, vod: false })
    assert.ok(performance.now() - t0 < 2000, 'no loop over the whole seq range')
    assert.equal(list.length, MAX_DVR_SEGMENTS)
    assert.equal(list[0]?.seq, last - MAX_DVR_SEGMENTS + 1)
    assert.equal(list.at(-1)?.seq, last)
    assert.equal(list.at(-1)?.gap, false)
    assert.ok(text.length < 5_000_000)
  })

  it('offers init candidates newest first, only held ones with a matching hash prefix', () => {
    const h = new DvrHistory({ cmaf: true })
    h.remember(seg(1, { cmafInit: true }))
    h.remember(seg(3, { cmafInit: true }))
    h.remember(seg(2, { cmafInit: true }))
    h.remember(seg(4))
    h.dropRendition(3, '360p')
    assert.deepEqual(h.initCandidates('360p', 'abababab').map(c => c.seq), [2, 1])
    assert.deepEqual(h.initCandidates('360p', 'cd'), [])
    assert.deepEqual(h.initCandidates('720p', 'ab'), [])
  })

  it('an empty history lists nothing', () => {
    assert.deepEqual(new DvrHistory({ cmaf: true }).segments('360p', { targetDurationSec: 2 }), [])
  })
})
