import type { SegmentRecord, StreamRecord } from '@diststream/store'
import type { WebhookEventData } from '@diststream/webhooks'

/** Payloads of the stream events the ingest emits through `onEvent` (pure builders). */

export function streamStarted (s: StreamRecord): WebhookEventData['stream.started'] {
  return { streamId: s.id, name: s.name, startedAt: new Date(s.startedAt ?? Date.now()).toISOString() }
}

export function streamEnded (s: StreamRecord, reason: WebhookEventData['stream.ended']['reason']): WebhookEventData['stream.ended'] {
  return { streamId: s.id, name: s.name, endedAt: new Date(s.endedAt ?? Date.now()).toISOString(), lastSeq: s.lastSeq ?? null, reason }
}

export function segmentReady (seg: SegmentRecord): WebhookEventData['segment.ready'] {
  return { streamId: seg.streamId, seq: seg.seq, durationMs: seg.durationMs, pdtMs: seg.pdtMs, renditions: seg.renditions.map(r => ({ name: r.name, size: r.size, sha256: r.sha256 })) }
}

