import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_THUMBNAIL_CANDIDATES, thumbnailCandidates } from '../src/index.js'

const renditions = [
  { name: 'source', width: 1280, height: 720 },
  { name: '240p', width: 426, height: 240 },
  { name: '360p', width: 640, height: 360 },
  { name: 'audio', width: 0, height: 0 }
]
const held = (entries: Array<[number, string[]]>): Array<[number, { renditions: Set<string> }]> => entries.map(([seq, r]) => [seq, { renditions: new Set(r) }])

describe('thumbnailCandidates', () => {
  it('live: the smallest video rendition of the newest segments first, never audio', () => {
    const out = thumbnailCandidates(held([[1, ['source', '240p', 'audio']], [3, ['source', '360p', 'audio']], [2, ['audio']], [4, ['source', '240p']], [5, ['source', '240p']]]), renditions, { vod: false })
    assert.deepEqual(out.map(c => [c.seq, c.rendition]), [[5, '240p'], [4, '240p'], [3, '360p']])
    assert.equal(out.length, MAX_THUMBNAIL_CANDIDATES)
    assert.deepEqual(out[0], { seq: 5, rendition: '240p', width: 426, height: 240 })
  })

  it('VOD: a tenth of the way in, then later, then earlier ones', () => {
    const all = held(Array.from({ length: 20 }, (_, i) => [i, ['240p']]))
    assert.deepEqual(thumbnailCandidates(all, renditions, { vod: true }).map(c => c.seq), [2, 3, 4])
    assert.deepEqual(thumbnailCandidates(held([[7, ['240p']]]), renditions, { vod: true }).map(c => c.seq), [7])
  })

  it('nothing held, or no video rendition: no candidate', () => {
    assert.deepEqual(thumbnailCandidates([], renditions, { vod: false }), [])
    assert.deepEqual(thumbnailCandidates(held([[1, ['audio']]]), renditions, { vod: false }), [])
    assert.deepEqual(thumbnailCandidates(held([[1, ['240p']]]), [{ name: 'audio', width: 0, height: 0 }], { vod: false }), [])
  })
})
