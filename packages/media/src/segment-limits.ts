/**
 * Bounds on one source segment while the segmenter cuts it (security review M3). The segmenter cuts
 * only at keyframes: an input without them (a huge GOP, intra refresh without IDR, a hostile
 * publisher) would grow one file without end. Pure logic: the caller passes the time and the
 * size it saw; {@link Segmenter} polls the open file and stops ffmpeg when a bound is passed.
 */

const MiB = 1024 * 1024

/**
 * Largest source segment (bytes). Below the protocol's `MAX_SEGMENT_BYTES` (64 MiB: a bigger
 * segment could never be announced) with room for what ffmpeg writes between two polls
 * (a poll's worth at 100 Mbit/s is ~6 MiB). 48 MiB is 20 s at 20 Mbit/s or 2 s at 190 Mbit/s:
 * more than any live encoder we feed sends per segment.
 */
export const MAX_SOURCE_SEGMENT_BYTES = 48 * MiB
/**
 * A segment may last this many target lengths before the publish is refused. Honest encoders
 * put a keyframe every 1–4 target lengths; OBS's "auto" (x264's keyint 250) is 8–10 s, i.e.
 * up to 5 target lengths of the default 2 s; 10 leaves that twice over.
 */
export const MAX_SEGMENT_DURATION_FACTOR = 10
/**
 * The duration bound never goes below this (s): with `--segment-seconds 1` an OBS-default GOP
 * (~10 s at 25 fps) is still taken.
 */
export const MIN_MAX_SEGMENT_SECONDS = 20
/**
 * ...nor above this (s): the protocol's `MAX_DURATION_MS` (60 s) bounds every segment it
 * announces; 10 s less leaves room for the poll interval and ffmpeg's read-ahead.
 */
export const MAX_MAX_SEGMENT_SECONDS = 50
/** How often the segmenter looks at the open segment (ms): bounds what is written past a cap. */
export const SEGMENT_WATCH_INTERVAL_MS = 250

/** Why a publish was stopped: `keyframe_interval` (a segment outlasted the duration bound) or `segment_too_large`. */
export type SegmentRefusalWhy = 'keyframe_interval' | 'segment_too_large'

export interface SegmentRefusal {
  why: SegmentRefusalWhy
  /** For people (logs, the stream's `error`, the dashboard). */
  message: string
}

export interface SegmentLimits {
  maxBytes: number
  maxSeconds: number
}

/** The bounds for a segmenter with this target length. */
export function segmentLimits (segmentSeconds: number): SegmentLimits {
  const maxSeconds = Math.min(MAX_MAX_SEGMENT_SECONDS, Math.max(MIN_MAX_SEGMENT_SECONDS, MAX_SEGMENT_DURATION_FACTOR * segmentSeconds))
  return { maxBytes: MAX_SOURCE_SEGMENT_BYTES, maxSeconds }
}

/** The refusal for a segment of `size` bytes lasting `seconds`, or null if it is within `limits`. */
export function checkSegment (size: number, seconds: number, limits: SegmentLimits): SegmentRefusal | null {
  if (size > limits.maxBytes) {
    return { why: 'segment_too_large', message: `segment too large: more than ${limits.maxBytes} bytes without a keyframe to cut at (lower the bitrate or the keyframe interval)` }
  }
  if (seconds > limits.maxSeconds) {
    return { why: 'keyframe_interval', message: `keyframe interval too long: no keyframe for more than ${limits.maxSeconds} s (set the encoder's keyframe interval to at most a few seconds)` }
  }
  return null
}

/**
 * The open segment as the segmenter's polls see it. Its age counts from the first poll that saw
 * the file (ffmpeg opens it at the previous cut, or at the first packet), so time spent
 * connecting to a source does not count.
 */
export class OpenSegmentWatch {
  private index = -1
  private seenAt: number | null = null

  constructor (private readonly limits: SegmentLimits) {}

  /**
   * One poll: the open segment is file number `index`; `size` is its size, or null if it does
   * not exist yet. Returns the refusal once a bound is passed.
   */
  observe (index: number, size: number | null, now: number): SegmentRefusal | null {
    if (index !== this.index) { this.index = index; this.seenAt = null }
    if (size === null) return null
    this.seenAt ??= now
    return checkSegment(size, (now - this.seenAt) / 1000, this.limits)
  }
}
