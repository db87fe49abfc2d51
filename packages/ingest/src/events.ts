import type { SegmentRecord, StreamRecord } from '@diststream/store'
import type { WebhookEventData } from '@diststream/webhooks'

/** Payloads of the stream events the ingest emits through `onEvent` (pure builders). */

export function streamStarted (s: StreamRecord): WebhookEventData['stream.started'] {
  return { streamId: s.id, name: s.name, startedAt: new Date(s.startedAt ?? Date.now()).toISOString() }
}

export function streamEnded (s: StreamRecord, reason: WebhookEventData['stream.ended']['reason']): WebhookEventData['stream.ended'] {
  return { streamId: s.id, name: s.name, endedAt: new Date(s.endedAt ?? Date.now()).toISOString(), lastSeq: s.lastSeq ?? null, reason, ...(reason === 'refused' && s.error != null ? { error: s.error } : {}) }
}

export function segmentReady (seg: SegmentRecord): WebhookEventData['segment.ready'] {
  return { streamId: seg.streamId, seq: seg.seq, durationMs: seg.durationMs, pdtMs: seg.pdtMs, renditions: seg.renditions.map(r => ({ name: r.name, size: r.size, sha256: r.sha256 })) }
}

/** A VOD became `ready`: its segments (finished ones) and their total duration. */
export function vodReady (s: StreamRecord, segments: readonly SegmentRecord[], playbackUrl: string | undefined): WebhookEventData['vod.ready'] {
  const done = segments.filter(x => x.pending !== true)
  return {
    streamId: s.id,
    name: s.name,
    ...(playbackUrl != null ? { playbackUrl } : {}),
    durationMs: done.reduce((sum, x) => sum + x.durationMs, 0),
    segments: done.length
  }
}
