import { runProcess, tailLines } from './proc.js'
import { sniffFormat, untrustedInputArgs } from './untrusted.js'
import { open } from 'node:fs/promises'

/**
 * Picture checks compare on a gray downscale of this size (security review H1): every frame of the
 * segment is compared, and at 160x90 an honest encode of even a noisy 720p source at 150 kbit/s
 * stays above ~27 dB on its worst frame while a different picture (another pattern, a solid colour,
 * a caption burnt into part of the frames) falls below ~20 dB. Smaller (64x36) blurs away a caption;
 * larger only costs scaling. Decoding the inputs is most of the cost: ~0.1 s CPU for a 640x360
 * source and its 240p rung, ~0.5 s for a 720p source and three rungs (2 s segments).
 */
export const PICTURE_CHECK_WIDTH = 160
export const PICTURE_CHECK_HEIGHT = 90

/** How close one rendition's picture is to its source, over every frame of the segment. */
export interface PictureScore {
  /** Mean PSNR (dB, luma of the downscale) over the frames; `Infinity` when identical. */
  meanDb: number
  /** The worst frame's PSNR: a few injected frames pull this down even when the mean stays high. */
  worstDb: number
}

/** A file of peer bytes and the picture size it declares (the decoder refuses larger frames). */
export interface PictureInput {
  file: string
  width: number
  height: number
}

export interface ComparePicturesOptions {
  ffmpegPath: string
  /** The segment's declared duration (s): reading of every input stops just past it. */
  durationSec?: number
  signal?: AbortSignal
}

/**
 * Compares each rendition against `reference` (the source segment), every frame, on a
 * {@link PICTURE_CHECK_WIDTH}x{@link PICTURE_CHECK_HEIGHT} gray downscale, in one ffmpeg: the source
 * is decoded once whatever the number of renditions. Frame n of a rendition is compared with frame n
 * of the source (a rendition holds the same frames as its source segment). Every input is peer bytes (a worker's
 * rendition; the source a broadcaster sent), so each is pinned ({@link untrustedInputArgs}).
 * Throws when ffmpeg fails or does not report a score for every rendition.
 */
export async function comparePictures (renditions: readonly PictureInput[], reference: Partial<PictureInput> & { file: string }, opts: ComparePicturesOptions): Promise<PictureScore[]> {
  if (renditions.length === 0) return []
  const pin = async (p: Partial<PictureInput> & { file: string }): Promise<string[]> => {
    const fh = await open(p.file)
    const head = new Uint8Array(8)
    try { await fh.read(head, 0, 8, 0) } finally { await fh.close() }
    return [...untrustedInputArgs({ format: sniffFormat(head) ?? 'mpegts', ...(p.width != null && p.height != null ? { width: p.width, height: p.height } : {}), ...(opts.durationSec != null ? { durationSec: opts.durationSec } : {}) }), '-i', p.file]
  }
  // Frames are paired by index, not timestamp: a source muxed with ms timestamps (FLV) and its
  // rendition's 90 kHz ones would otherwise pair every third frame with its neighbour.
  const small = `settb=AVTB,setpts=N,scale=${PICTURE_CHECK_WIDTH}:${PICTURE_CHECK_HEIGHT}:flags=area,format=gray`
  const n = renditions.length
  const refs = renditions.map((_, i) => `[s${i}]`).join('')
  // Each psnr filter is named (psnr@rN), so its summary line says which rendition it scored.
  const graph = [`[0:v]${small},split=${n}${refs}`, ...renditions.map((_, i) => `[${i + 1}:v]${small}[o${i}];[o${i}][s${i}]psnr@r${i}`)].join(';')
  const inputs: string[] = [...await pin(reference)]
  for (const r of renditions) inputs.push(...await pin(r))
  const { code, stderr } = await runProcess(
    opts.ffmpegPath,
    ['-hide_banner', '-nostdin', '-loglevel', 'info', ...inputs, '-filter_complex', graph, '-an', '-sn', '-f', 'null', '-'],
    { signal: opts.signal }
  )
  if (code !== 0) throw new Error(`picture check failed (exit ${code}): ${tailLines(stderr, 3).join(' | ')}`)
  const scores = new Map<number, PictureScore>()
  const db = (s: string): number => (s === 'inf' ? Infinity : Number(s))
  for (const m of stderr.matchAll(/\[psnr@r(\d+) @ [^\]]*\] PSNR .*?average:(inf|[\d.]+) min:(inf|[\d.]+)/g)) {
    scores.set(Number(m[1]), { meanDb: db(m[2]!), worstDb: db(m[3]!) })
  }
  return renditions.map((r, i) => {
    const s = scores.get(i)
    if (s === undefined) throw new Error(`picture check: no score for ${r.file}: ${tailLines(stderr, 3).join(' | ')}`)
    return s
  })
}

/**
 * The worst frame's PSNR (dB) of `file` against `reference` over the whole segment
 * ({@link comparePictures}); `Infinity` for identical pictures. An honest encode of the same source
 * scores ~27–50 dB whatever the encoder; a different picture, even on a few frames, far below.
 */
export async function measurePsnr (
  file: string,
  reference: string,
  opts: { ffmpegPath: string; width: number; height: number; referenceWidth?: number; referenceHeight?: number; durationSec?: number; signal?: AbortSignal }
): Promise<number> {
  const [score] = await comparePictures(
    [{ file, width: opts.width, height: opts.height }],
    { file: reference, ...(opts.referenceWidth != null && opts.referenceHeight != null ? { width: opts.referenceWidth, height: opts.referenceHeight } : {}) },
    { ffmpegPath: opts.ffmpegPath, ...(opts.durationSec != null ? { durationSec: opts.durationSec } : {}), ...(opts.signal != null ? { signal: opts.signal } : {}) }
  )
  return score!.worstDb
}
