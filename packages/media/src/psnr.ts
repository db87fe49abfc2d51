import { runProcess, tailLines } from './proc.js'
import { sniffFormat, untrustedInputArgs } from './untrusted.js'
import { open } from 'node:fs/promises'

/**
 * Mean luma+chroma PSNR (dB) of the first `frames` frames of `file` against
 * `reference` scaled to the same size, both from their first frame (a
 * rendition holds the same frames as its source segment). `Infinity` for identical
 * pictures. Used by spot checks: an honest encode of the same source scores
 * ~30–45 dB whatever the encoder; a different picture scores far below.
 */
export async function measurePsnr (
  file: string,
  reference: string,
  opts: { ffmpegPath: string; width: number; height: number; frames?: number; signal?: AbortSignal }
): Promise<number> {
  const frames = opts.frames ?? 10
  // Both inputs are peers' bytes (a worker's rendition; the source a broadcaster sent): pinned.
  const pin = async (f: string, w?: number, h?: number): Promise<string[]> => {
    const fh = await open(f)
    const head = new Uint8Array(8)
    try { await fh.read(head, 0, 8, 0) } finally { await fh.close() }
    return untrustedInputArgs({ format: sniffFormat(head) ?? 'mpegts', ...(w != null && h != null ? { width: w, height: h } : {}) })
  }
  const { code, stderr } = await runProcess(
    opts.ffmpegPath,
    [
      '-hide_banner', '-nostdin', '-loglevel', 'info',
      ...await pin(file, opts.width, opts.height), '-i', file, ...await pin(reference), '-i', reference,
      '-filter_complex', `[1:v]setpts=PTS-STARTPTS,scale=${opts.width}:${opts.height}:flags=bicubic,format=yuv420p[ref];[0:v]setpts=PTS-STARTPTS,format=yuv420p[out];[out][ref]psnr`,
      '-frames:v', String(frames), '-an', '-f', 'null', '-'
    ],
    { signal: opts.signal }
  )
  const m = /PSNR .*average:(inf|[\d.]+)/.exec(stderr)
  if (code !== 0 || m === null) throw new Error(`psnr failed (exit ${code}): ${tailLines(stderr, 3).join(' | ')}`)
  return m[1] === 'inf' ? Infinity : Number(m[1])
}
