/**
 * How every ffmpeg/ffprobe over bytes a peer sent (a job's segment at a worker, a worker's
 * rendition at the ingest) is pinned (security review H5): the container is forced (no format
 * probing of hostile bytes), only local files and pipes may be opened (no `concat:`, `http:`,
 * `subfile:` tricks inside a playlist-like input), only the decoders we expect run, a frame
 * larger than the size the job declared is refused by the decoder, reading stops past the
 * declared duration, and the decoder's threads are capped.
 */

/** Protocols an ffmpeg over peer bytes may open: the file we wrote, or a pipe. */
export const UNTRUSTED_PROTOCOLS = 'file,pipe'
/** Decoders an ffmpeg over peer bytes may run: H.264 video, AAC audio (all the pipeline carries). */
export const UNTRUSTED_DECODERS = 'h264,aac'
/** Decoder threads per ffmpeg over peer bytes: a hostile stream cannot take every core. */
export const UNTRUSTED_DECODE_THREADS = 2
/**
 * The decoder checks `-max_pixels` against its frame buffer, padded to its alignment (426x240
 * is checked as 448x240): the bound allows each side rounded up to this many pixels.
 */
export const UNTRUSTED_PIXEL_ALIGN = 64
/** ffprobe's JSON over one peer's segment: a 2 s segment's packet list is ~20 KB; beyond this it is killed. */
export const UNTRUSTED_MAX_STDOUT_BYTES = 8 << 20
/** Read past the declared duration by at most this (s): GOP-rounded segments run a little long. */
export const UNTRUSTED_DURATION_SLACK_SEC = 1

export interface UntrustedInput {
  /** The container the bytes must be. */
  format: 'mpegts' | 'mp4'
  /** Declared picture size: the decoder refuses frames with more pixels (`-max_pixels`). */
  width?: number
  height?: number
  /** Declared duration (s): reading stops at it plus {@link UNTRUSTED_DURATION_SLACK_SEC} (`-t`). */
  durationSec?: number
}

const align = (n: number): number => Math.ceil(n / UNTRUSTED_PIXEL_ALIGN) * UNTRUSTED_PIXEL_ALIGN

/** Input options (before `-i`) for ffmpeg over peer bytes. */
export function untrustedInputArgs (u: UntrustedInput): string[] {
  return [
    '-f', u.format,
    '-protocol_whitelist', UNTRUSTED_PROTOCOLS,
    '-codec_whitelist', UNTRUSTED_DECODERS,
    '-threads', String(UNTRUSTED_DECODE_THREADS),
    ...(u.width != null && u.height != null && u.width > 0 && u.height > 0 ? ['-max_pixels', String(align(u.width) * align(u.height))] : []),
    ...(u.durationSec != null && u.durationSec > 0 ? ['-t', String(u.durationSec + UNTRUSTED_DURATION_SLACK_SEC)] : [])
  ]
}

/** The same pins for ffprobe (which bounds reading with `-read_intervals`, not `-t`). */
export function untrustedProbeArgs (u: UntrustedInput): string[] {
  const args = untrustedInputArgs({ ...u, durationSec: undefined })
  return u.durationSec != null && u.durationSec > 0 ? [...args, '-read_intervals', `%+${u.durationSec + UNTRUSTED_DURATION_SLACK_SEC}`] : args
}

/** The container of bytes by their first bytes: `mp4` (ftyp), `mpegts` (sync byte), or null. */
export function sniffFormat (head: Uint8Array): 'mp4' | 'mpegts' | null {
  if (head.byteLength >= 8 && head[4] === 0x66 && head[5] === 0x74 && head[6] === 0x79 && head[7] === 0x70) return 'mp4'
  if (head.byteLength >= 1 && head[0] === 0x47) return 'mpegts'
  return null
}
