import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { vodReady } from '../src/events.js'
import type { SegmentRecord, StreamRecord } from '@diststream/store'

describe('events: the vod.ready payload', () => {
  const s: StreamRecord = { id: 'v1', name: 'film', keyHash: 'h', createdAt: 0, state: 'ready', vod: true }
  const seg = (seq: number, durationMs: number, pending?: boolean): SegmentRecord => ({ streamId: 'v1', seq, durationMs, pdtMs: 0, discontinuity: false, renditions: [], ...(pending === true ? { pending } : {}) })

  it('counts the finished segments and their duration, with the playback URL', () => {
    assert.deepEqual(vodReady(s, [seg(0, 2000), seg(1, 2000), seg(2, 1500)], 'http://127.0.0.1:8080/live/v1/index.m3u8'),
      { streamId: 'v1', name: 'film', playbackUrl: 'http://127.0.0.1:8080/live/v1/index.m3u8', durationMs: 5500, segments: 3 })
  })

  it('leaves out pending segments, and the URL when the node gave none', () => {
    assert.deepEqual(vodReady(s, [seg(0, 2000), seg(1, 2000, true)], undefined), { streamId: 'v1', name: 'film', durationMs: 2000, segments: 1 })
  })
})
