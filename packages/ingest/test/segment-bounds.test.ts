import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_DURATION_MS, MAX_SEGMENT_BYTES } from '@diststream/protocol'
import { MAX_MAX_SEGMENT_SECONDS, MAX_SOURCE_SEGMENT_BYTES, segmentLimits } from '@diststream/media'

describe('segmenter bounds fit what the protocol announces (review M3)', () => {
  it('every segment the segmenter lets through can be announced (JobAnnounce / SegmentAnnounce validation)', () => {
    assert.ok(MAX_SOURCE_SEGMENT_BYTES < MAX_SEGMENT_BYTES, 'size')
    assert.ok(MAX_MAX_SEGMENT_SECONDS * 1000 < MAX_DURATION_MS, 'duration')
    // --segment-seconds is 1..10 (node config).
    for (let s = 1; s <= 10; s++) {
      const l = segmentLimits(s)
      assert.ok(l.maxSeconds * 1000 < MAX_DURATION_MS && l.maxSeconds >= 2 * s, `segmentSeconds ${s}: ${l.maxSeconds} s`)
      assert.ok(l.maxBytes < MAX_SEGMENT_BYTES)
    }
  })
})
