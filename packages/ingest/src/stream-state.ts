/**
 * The stream state machine of the ingest, written down (pure: no I/O; every
 * function takes the time as `now`). A live stream (RTMP publish):
 * `idle → live → idle` (the publisher left: over for players until published
 * again) `→ ended` (deleted, or stale). A pulled stream: `live → ended`, or
 * `failed` when its source cannot be read. A VOD: `processing → ready`, or
 * `failed`. Callers store what these return; `undefined` means "no change".
 */
import { StreamAnnounce } from '@diststream/protocol'
import { REPROVIDE_MS } from './constants.js'
import { mergeRenditions, streamRendition } from './session/renditions.js'
import type { LifecycleRecord } from '@diststream/scheduler'
import type { SegmentRecord, StreamRecord } from '@diststream/store'

/** The wire state of a stream: a stream whose publisher left is over for players (ENDLIST) until it is published again. */
export function isEndedForPlayers (s: StreamRecord): boolean {
  return s.state === 'ended' || (s.state === 'idle' && s.endedAt != null && s.endedAt >= (s.startedAt ?? 0))
}

/** What the lifecycle rules see of a stream record. */
export function lifecycleRecord (s: StreamRecord): LifecycleRecord {
  return {
    id: s.id,
    ended: s.state === 'ended',
    lastActivityAt: Math.max(s.createdAt, s.startedAt ?? 0, s.endedAt ?? 0, s.lastSegmentAt ?? 0, s.heartbeatAt ?? 0),
    endedAt: s.endedAt
  }
}

/** Whether an RTMP publisher may (still) publish with this stream's key: a live stream not ended for good. */
export function acceptsPublish (s: StreamRecord): boolean {
  return s.sourceUrl == null && s.vod !== true && s.state !== 'ended'
}

/**
 * A record as the previous process left it, on start: a publish died with it
 * (over for players until published again); a VOD being processed failed.
 * Pulled live streams stay live (they are pulled again).
 */
export function onRestart (s: StreamRecord, now: number): StreamRecord | undefined {
  if (s.state === 'live' && s.sourceUrl == null) return toIdle(s, now)
  if (s.state === 'processing') return { ...s, state: 'failed', error: 'the ingest restarted while processing this VOD; upload it again', endedAt: now }
  return undefined
}

/** A publish (or a pull) starts (a refused publish's reason is cleared). */
export function goLive (s: StreamRecord, now: number): StreamRecord {
  const { error: _previous, ...rest } = s
  return { ...rest, state: 'live', startedAt: now }
}

/**
 * The publisher left, or its publish was refused (`refused`: why, shown as the stream's `error`
 * until it is published again): over for players (ENDLIST) until published again; the stale
 * sweep ends it for good.
 */
export function toIdle (s: StreamRecord, now: number, refused?: { message: string }): StreamRecord {
  return { ...s, state: 'idle', endedAt: now, ...(refused != null ? { error: `publish stopped: ${refused.message}` } : {}) }
}

/**
 * Stopped by DELETE (or ended as stale): a VOD stopped while processing has
 * failed; a ready one stays `ended` for announcing (edges keep what they
 * have); a stream whose publisher already left ended then (for players and
 * for its retention).
 */
export function afterDelete (cur: StreamRecord, now: number): StreamRecord {
  if (cur.state === 'processing') return { ...cur, state: 'failed', error: 'stopped by DELETE while processing', endedAt: now }
  const endedAt = cur.state !== 'ready' && isEndedForPlayers(cur) && cur.endedAt != null ? cur.endedAt : now
  return { ...cur, state: cur.state === 'failed' ? 'failed' : 'ended', endedAt }
}

/** A pulled source's session ended: `ended`, or `failed` with the (redacted) reason ffmpeg gave. Only a live stream changes. */
export function pullEnded (cur: StreamRecord, end: { error?: string, refused?: { message: string } }, now: number): StreamRecord | undefined {
  if (cur.state !== 'live') return undefined
  if (end.refused != null) return { ...cur, state: 'failed', error: `source stopped: ${end.refused.message}`, endedAt: now }
  return end.error != null
    ? { ...cur, state: 'failed', error: `cannot read the source: ${end.error}`, endedAt: now }
    : { ...cur, state: 'ended', endedAt: now }
}

/**
 * A VOD's session ended: `ready` with every segment, or `failed` (unreadable,
 * no video, or longer than `maxSegments`: `tooLong` when it was stopped for
 * that). Only a VOD still processing changes.
 */
export function vodEnded (cur: StreamRecord, end: { segments: number, error?: string, refused?: { message: string } }, tooLong: boolean, maxSegments: number, now: number): StreamRecord | undefined {
  if (cur.state !== 'processing') return undefined
  const error = end.refused != null
    ? `cannot cut the file: ${end.refused.message}`
    : end.error != null
      ? `cannot read the file: ${end.error}`
      : end.segments === 0
        ? 'the file has no video'
        : tooLong || end.segments > maxSegments ? `the video is longer than ${maxSegments} segments, the most a VOD may have` : undefined
  return error != null
    ? { ...cur, state: 'failed', error, endedAt: now }
    : { ...cur, state: 'ready', endedAt: now, progress: { segments: end.segments, done: end.segments, cutDone: true } }
}

/** The state announced to edges: a VOD is LIVE while processing (workers take jobs only for live streams), ENDED once ready. */
export function wireState (s: StreamRecord): StreamAnnounce.State {
  return s.state === 'ready' || s.state === 'failed' || isEndedForPlayers(s) ? StreamAnnounce.State.ENDED : StreamAnnounce.State.LIVE
}

/**
 * Whether the periodic keep-alive announce (and the answer to a newcomer) includes this stream:
 * live, processing, and ready VODs (for as long as they are kept). An end is announced when it
 * happens (and repeated once, see the announcer), not on the keep-alive.
 */
export function shouldReannounce (s: StreamRecord): boolean {
  return s.state === 'live' || s.state === 'processing' || s.state === 'ready'
}

/** Whether a live stream's DHT provider record is due (`providedAt`: when it was last provided). */
export function shouldReprovide (s: StreamRecord, providedAt: number | undefined, now: number): boolean {
  return s.state === 'live' && now - (providedAt ?? 0) > REPROVIDE_MS
}

/**
 * A final segment was stored (`stream`: the session's view, with the probed
 * source): its renditions merged into the stream's, its number and time
 * recorded. `renditionsChanged`: a rendition or peak bandwidth is new, so
 * edges must hear the stream again.
 */
export function afterSegment (cur: StreamRecord, stream: StreamRecord, seg: SegmentRecord, now: number): { next: StreamRecord, renditionsChanged: boolean } {
  const merged = mergeRenditions(cur.renditions ?? [], seg.renditions.map(streamRendition))
  const next = { ...cur, source: stream.source ?? cur.source, lastSeq: Math.max(cur.lastSeq ?? -1, seg.seq), lastSegmentAt: now, renditions: merged }
  return { next, renditionsChanged: merged.some((r, i) => r.bandwidth !== cur.renditions?.[i]?.bandwidth) }
}
