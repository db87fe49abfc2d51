/**
 * A small JPEG of a segment's first picture (its keyframe: every segment
 * starts on an IDR), for thumbnails and VOD posters. One ffmpeg run over the
 * segment's bytes on stdin, pinned as every ffmpeg over peer bytes is
 * (untrusted.ts: forced container, file/pipe only, h264/aac decoders, pixel
 * bound, capped threads), only keyframes decoded, one frame out, the JPEG
 * bounded in size and the run bounded in time.
 */
import { spawn } from 'node:child_process'
import { LineTail, killOnAbort, trackProcess } from './proc.js'
import { sniffFormat, untrustedInputArgs } from './untrusted.js'

/** Width of a thumbnail (px); the height follows the picture's aspect ratio (even). */
export const THUMBNAIL_WIDTH = 320
/** Largest JPEG accepted from ffmpeg: a 320x180 picture at this quality is ~10 KB; more means something is wrong. */
export const MAX_THUMBNAIL_BYTES = 256 * 1024
/** One thumbnail run at most this long (one keyframe of a small rendition decodes in tens of ms). */
export const THUMBNAIL_TIMEOUT_MS = 10_000
/** JPEG quality (ffmpeg's -q:v, 2 best .. 31 worst): small files, faces still recognisable at 320 px. */
const THUMBNAIL_QUALITY = 6

export interface ThumbnailOptions {
  /** The picture size the segment was announced with: the decoder refuses bigger frames. */
  width?: number
  height?: number
  /** Output width (px). Default {@link THUMBNAIL_WIDTH}. */
  outWidth?: number
  signal?: AbortSignal
  timeoutMs?: number
}

export class ThumbnailError extends Error {
  static readonly NAME = 'ThumbnailError'
  override name = ThumbnailError.NAME
}

/** The ffmpeg arguments of one thumbnail run (exported for tests). */
export function thumbnailArgs (format: 'mp4' | 'mpegts', opts: ThumbnailOptions = {}): string[] {
  const w = opts.outWidth ?? THUMBNAIL_WIDTH
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...untrustedInputArgs({ format, width: opts.width, height: opts.height }),
    '-skip_frame', 'nokey',
    '-i', 'pipe:0',
    '-map', '0:v:0', '-frames:v', '1', '-an', '-sn', '-dn',
    '-vf', `scale=${w}:-2:flags=bilinear`,
    '-c:v', 'mjpeg', '-q:v', String(THUMBNAIL_QUALITY), '-f', 'image2pipe', 'pipe:1'
  ]
}

/** A JPEG (`THUMBNAIL_WIDTH` wide) of the first keyframe of `segment` (MPEG-TS or fMP4 with its init). */
export async function makeThumbnail (ffmpegPath: string, segment: Uint8Array, opts: ThumbnailOptions = {}): Promise<Buffer> {
  const format = sniffFormat(segment.subarray(0, 8))
  if (format == null) throw new ThumbnailError('not an MPEG-TS or MP4 segment')
  const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? THUMBNAIL_TIMEOUT_MS), ...(opts.signal != null ? [opts.signal] : [])])
  signal.throwIfAborted()
  return await new Promise<Buffer>((resolve, reject) => {
    const child = trackProcess(spawn(ffmpegPath, thumbnailArgs(format, opts), { stdio: ['pipe', 'pipe', 'pipe'] }))
    const out: Buffer[] = []
    let bytes = 0
    let tooBig = false
    const stderr = new LineTail(5)
    child.stdout.on('data', (b: Buffer) => {
      bytes += b.length
      if (bytes <= MAX_THUMBNAIL_BYTES) out.push(b)
      else if (!tooBig) { tooBig = true; child.kill('SIGKILL') }
    })
    child.stderr.on('data', (b: Buffer) => { stderr.push(b.toString('utf8')) })
    // ffmpeg stops reading after its frame: the rest of the segment is not wanted (EPIPE).
    child.stdin.on('error', () => { /* EPIPE once ffmpeg has its frame: expected */ })
    child.stdin.end(segment)
    const unlisten = killOnAbort(child, signal)
    child.on('error', (err) => { unlisten(); reject(err) })
    child.on('close', (code) => {
      unlisten()
      if (signal.aborted) reject(new ThumbnailError(`thumbnail not made: ${String(signal.reason?.message ?? 'aborted')}`))
      else if (tooBig) reject(new ThumbnailError(`thumbnail over ${MAX_THUMBNAIL_BYTES} bytes`))
      else if (code !== 0 || bytes === 0) reject(new ThumbnailError(`ffmpeg made no thumbnail (exit ${String(code)}): ${stderr.tail().join(' | ')}`))
      else resolve(Buffer.concat(out))
    })
  })
}
