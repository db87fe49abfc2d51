import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { LiveWindow, parseMediaPlaylist, PlaylistValidationError, type PlaylistSegment } from '../src/index.js'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 0)
const seg = (seq: number, extra: Partial<PlaylistSegment> = {}): PlaylistSegment =>
  ({ seq, durationSec: 2, uri: `${seq}.ts`, pdtMs: T0 + seq * 2000, ...extra })
const seqs = (w: LiveWindow): number[] => w.segments().map(s => s.seq)
const gaps = (w: LiveWindow): number[] => w.segments().filter(s => s.gap === true).map(s => s.seq)

describe('LiveWindow', () => {
  it('validates options', () => {
    assert.throws(() => new LiveWindow({ windowSize: 0 }), PlaylistValidationError)
    assert.throws(() => new LiveWindow({ windowSize: 3, maxHoldSegments: -1 }), PlaylistValidationError)
    assert.throws(() => new LiveWindow({ windowSize: 3, firstSeq: 1.5 }), PlaylistValidationError)
    assert.throws(() => new LiveWindow({ windowSize: 3 }).add(seg(0, { durationSec: -1 })), PlaylistValidationError)
  })

  it('slides: keeps the last windowSize segments and advances the media sequence', () => {
    const w = new LiveWindow({ windowSize: 3, firstSeq: 0 })
    assert.equal(w.mediaSequence, 0)
    assert.deepEqual(w.segments(), [])
    for (let i = 0; i < 5; i++) assert.equal(w.add(seg(i)), 'accepted')
    assert.deepEqual(seqs(w), [2, 3, 4])
    assert.equal(w.mediaSequence, 2)
    assert.equal(w.nextSeq, 5)
    const parsed = parseMediaPlaylist(w.toPlaylist({ targetDurationSec: 2 }))
    assert.equal(parsed.mediaSequence, 2)
    assert.deepEqual(parsed.segments, w.segments())
  })

  it('publishes only the contiguous prefix when segments complete out of order', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 5 })
    assert.equal(w.add(seg(2)), 'accepted')
    assert.equal(w.add(seg(1)), 'accepted')
    assert.deepEqual(seqs(w), [])
    assert.equal(w.pendingCount, 2)
    assert.equal(w.add(seg(0)), 'accepted')
    assert.deepEqual(seqs(w), [0, 1, 2])
    assert.equal(w.add(seg(4)), 'accepted')
    assert.deepEqual(seqs(w), [0, 1, 2])
    assert.equal(w.add(seg(3)), 'accepted')
    assert.deepEqual(seqs(w), [0, 1, 2, 3, 4])
    assert.equal(w.pendingCount, 0)
    assert.deepEqual(gaps(w), [])
  })

  it('reports duplicates and late arrivals without changing published entries', () => {
    const w = new LiveWindow({ windowSize: 5, firstSeq: 0 })
    w.add(seg(0))
    w.add(seg(2))
    assert.equal(w.add(seg(0, { uri: 'other.ts' })), 'duplicate')
    assert.equal(w.add(seg(2, { uri: 'other.ts' })), 'duplicate')
    w.add(seg(1))
    assert.deepEqual(w.segments().map(s => s.uri), ['0.ts', '1.ts', '2.ts'])
  })

  it('gives up on a missing segment after maxHoldSegments and publishes a gap', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 2 })
    w.add(seg(0))
    w.add(seg(2)) // 1 missing; edge trails newest by 1
    assert.deepEqual(seqs(w), [0])
    w.add(seg(3)) // trails by 2 = maxHold: 1 becomes a gap
    assert.deepEqual(seqs(w), [0, 1, 2, 3])
    assert.deepEqual(gaps(w), [1])
    const gap = w.segments()[1]
    assert.deepEqual(gap, { seq: 1, durationSec: 2, uri: 'gap-1.ts', gap: true, pdtMs: T0 + 2000 })
    // The real segment 1 arriving now is late: published entries never change.
    assert.equal(w.add(seg(1)), 'late')
    assert.deepEqual(gaps(w), [1])
  })

  it('holds each missing seq individually within a run of holes', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 2 })
    w.add(seg(0))
    w.add(seg(3)) // 1 and 2 missing, highest 3: 1 is 2 behind -> gap; 2 is 1 behind -> hold
    assert.deepEqual(seqs(w), [0, 1])
    assert.deepEqual(gaps(w), [1])
    assert.equal(w.add(seg(2)), 'accepted') // made it in time
    assert.deepEqual(seqs(w), [0, 1, 2, 3])
    assert.deepEqual(gaps(w), [1])
  })

  it('maxHoldSegments 0 never waits', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 0 })
    w.add(seg(0))
    w.add(seg(3))
    assert.deepEqual(seqs(w), [0, 1, 2, 3])
    assert.deepEqual(gaps(w), [1, 2])
    assert.deepEqual(w.segments().map(s => s.pdtMs), [0, 1, 2, 3].map(i => T0 + i * 2000))
  })

  it('markGap publishes a failed segment at once', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 5, gapUri: s => `missing/${s}`, gapDurationSec: 1.5 })
    w.add(seg(0))
    w.add(seg(2))
    assert.equal(w.markGap(1), true)
    assert.deepEqual(seqs(w), [0, 1, 2])
    assert.deepEqual(w.segments()[1], { seq: 1, durationSec: 1.5, uri: 'missing/1', gap: true, pdtMs: T0 + 2000 })
    assert.equal(w.markGap(1), false)
    assert.equal(w.markGap(2), false)
    assert.equal(w.markGap(4), true) // declared ahead of time
    w.add(seg(3))
    assert.deepEqual(seqs(w), [0, 1, 2, 3, 4])
    assert.deepEqual(gaps(w), [1, 4])
    // a declared gap that arrives before it is reached is used after all
    assert.equal(w.markGap(6), true)
    w.add(seg(6))
    w.add(seg(5))
    assert.deepEqual(gaps(w), [1, 4])
  })

  it('skips holes before the first published segment instead of gapping them', () => {
    const w = new LiveWindow({ windowSize: 5, firstSeq: 0, maxHoldSegments: 1 })
    w.add(seg(3)) // 0..2 given up on; nothing was published yet, so the window starts at 3
    assert.deepEqual(seqs(w), [3])
    w.add(seg(4))
    assert.deepEqual(seqs(w), [3, 4])
    assert.deepEqual(gaps(w), [])
    assert.equal(w.mediaSequence, 3)
    assert.equal(w.add(seg(1)), 'late')
  })

  it('without firstSeq, the first segment added starts the window', () => {
    const w = new LiveWindow({ windowSize: 5 })
    assert.equal(w.nextSeq, undefined)
    w.add(seg(10))
    assert.equal(w.mediaSequence, 10)
    assert.equal(w.add(seg(9)), 'late')
    assert.deepEqual(seqs(w), [10])
  })

  it('a long run of holes keeps only windowSize gap entries', () => {
    const w = new LiveWindow({ windowSize: 3, firstSeq: 0, maxHoldSegments: 0 })
    w.add(seg(0, { discontinuity: true }))
    w.add(seg(1_000_000))
    assert.deepEqual(seqs(w), [999_998, 999_999, 1_000_000])
    assert.deepEqual(gaps(w), [999_998, 999_999])
    assert.equal(w.discontinuitySequence, 1)
    assert.equal(w.segments()[0]?.pdtMs, T0 + 999_998 * 2000)
  })

  it('increments the discontinuity sequence when a discontinuity slides out', () => {
    const w = new LiveWindow({ windowSize: 2, firstSeq: 0 })
    w.add(seg(0))
    w.add(seg(1, { discontinuity: true }))
    w.add(seg(2))
    assert.equal(w.discontinuitySequence, 0)
    w.add(seg(3))
    assert.equal(w.discontinuitySequence, 1)
    const parsed = parseMediaPlaylist(w.toPlaylist())
    assert.equal(parsed.discontinuitySequence, 1)
  })

  it('end() flushes waiting segments (holes become gaps) and ends', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 5 })
    w.add(seg(0))
    w.add(seg(2))
    w.end()
    assert.equal(w.ended, true)
    assert.deepEqual(seqs(w), [0, 1, 2])
    assert.deepEqual(gaps(w), [1])
    assert.equal(w.add(seg(3)), 'after-end')
    const parsed = parseMediaPlaylist(w.toPlaylist())
    assert.equal(parsed.ended, true)
    w.end() // idempotent
  })

  it('end({ lastSeq }) waits for in-flight segments, then ends', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0, maxHoldSegments: 5 })
    w.add(seg(0))
    w.add(seg(2))
    w.end({ lastSeq: 2 })
    assert.equal(w.ended, false)
    assert.equal(w.add(seg(3)), 'after-end')
    w.add(seg(1))
    assert.equal(w.ended, true)
    assert.deepEqual(seqs(w), [0, 1, 2])
    assert.deepEqual(gaps(w), [])
  })

  it('end({ lastSeq }) plus markGap ends when the last segment failed', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0 })
    w.add(seg(0))
    w.end({ lastSeq: 1 })
    assert.equal(w.ended, false)
    w.markGap(1)
    assert.equal(w.ended, true)
    assert.deepEqual(gaps(w), [1])
  })

  it('toPlaylist keeps the target duration from shrinking as long segments slide out', () => {
    const w = new LiveWindow({ windowSize: 2, firstSeq: 0 })
    w.add(seg(0, { durationSec: 4.2 }))
    w.add(seg(1))
    w.add(seg(2))
    assert.match(w.toPlaylist({ targetDurationSec: 2 }), /#EXT-X-TARGETDURATION:5\n/)
    assert.equal(w.maxTargetDurationSec, 5)
  })

  it('renders an empty window with the expected media sequence', () => {
    const w = new LiveWindow({ windowSize: 3, firstSeq: 7 })
    w.add(seg(8))
    const parsed = parseMediaPlaylist(w.toPlaylist({ targetDurationSec: 2 }))
    assert.equal(parsed.mediaSequence, 7)
    assert.equal(parsed.targetDuration, 2)
    assert.deepEqual(parsed.segments, [])
  })
})

describe('LiveWindow: VOD', () => {
  it('writes PLAYLIST-TYPE:VOD only once the window has ended', () => {
    const w = new LiveWindow({ windowSize: 10, firstSeq: 0 })
    w.add({ seq: 1, durationSec: 2, uri: '1.ts' })
    w.add({ seq: 0, durationSec: 2, uri: '0.ts' })
    assert.doesNotMatch(w.toPlaylist({ playlistType: 'VOD' }), /PLAYLIST-TYPE/)
    w.end()
    const text = w.toPlaylist({ playlistType: 'VOD' })
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD\n/)
    assert.match(text, /0\.ts\n#EXTINF:2\.000,\n1\.ts\n#EXT-X-ENDLIST\n$/)
  })
})
