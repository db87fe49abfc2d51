import { parseTsRendition } from '@diststream/media'
import type { JobAnnounce } from '@diststream/protocol'

/**
 * A job's segment bytes checked against what its announce declared, by parsing (no ffmpeg):
 * the SPS's picture must not have more pixels than declared, the video span must not run far
 * past the declared duration. A mismatch is refused at once and counted
 * (`diststream_worker_jobs_refused_total{why="mismatch"}`), before any ffmpeg starts; the
 * transcode's own pins (`-max_pixels`, `-t`: media's untrusted.ts) back this up mid-stream.
 */

/** Bytes may span this much longer than the declared duration (×, then + {@link SPAN_SLACK_SEC}): GOP-rounded cuts. */
export const SPAN_FACTOR = 1.5
/** Absolute slack on the span check, seconds. */
export const SPAN_SLACK_SEC = 0.5

export class InputMismatchError extends Error {
  static readonly NAME = 'InputMismatchError'
  override name = InputMismatchError.NAME
}

/** Throws {@link InputMismatchError} when `segment` is not the H.264 MPEG-TS segment `job` declared. */
export function checkSegmentInput (segment: Uint8Array, job: Pick<JobAnnounce, 'width' | 'height' | 'durationMs'>): void {
  let parsed
  try {
    parsed = parseTsRendition(segment)
  } catch (err: any) {
    throw new InputMismatchError(`segment is not readable MPEG-TS H.264: ${String(err?.message ?? err)}`)
  }
  if (parsed.videoCodec !== 'h264') throw new InputMismatchError(`segment video is ${parsed.videoCodec}, not H.264`)
  if (parsed.width * parsed.height > job.width * job.height) {
    throw new InputMismatchError(`segment is ${parsed.width}x${parsed.height}, the job declared ${job.width}x${job.height}`)
  }
  const declared = job.durationMs / 1000
  if (parsed.durationSec > declared * SPAN_FACTOR + SPAN_SLACK_SEC) {
    throw new InputMismatchError(`segment spans ${parsed.durationSec.toFixed(2)} s, the job declared ${declared} s`)
  }
}
