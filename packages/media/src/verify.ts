import { ProbeError } from './errors.js'
import { probeMedia, type ProbeResult } from './probe.js'

export interface RenditionExpectation {
  width: number;
  height: number;
  durationSec: number;
  /** Allowed |actual − expected| duration, seconds (default 0.25). */
  toleranceSec?: number;
}

/**
 * `{ ok: true, probe }` or `{ ok: false, reason, probe }` (probe null when the file could not be
 * probed at all). Checking `ok` narrows `probe` to non-null.
 */
export type VerifyResult =
  | { ok: true; reason?: undefined; probe: ProbeResult }
  | { ok: false; /** Why the file was rejected (first failed check). */ reason: string; probe: ProbeResult | null }

/**
 * Check a produced rendition by decoding it: H.264 video, exact resolution, first packet a
 * keyframe, every packet decodes, and a duration within tolerance — measured both as decoded
 * frames ÷ fps and as the video PTS span (never the container duration, which copied audio
 * overhanging the last frame inflates). Never throws for a bad file: returns `ok: false`.
 */
export async function verifyRendition (
  file: string,
  expect: RenditionExpectation,
  opts: { ffprobePath?: string | null; ffmpegPath?: string; signal?: AbortSignal }
): Promise<VerifyResult> {
  const tol = expect.toleranceSec ?? 0.25
  let probe: ProbeResult
  try {
    probe = await probeMedia(file, { ...opts, countFrames: true })
  } catch (e) {
    if (opts.signal?.aborted) throw e
    const msg = e instanceof ProbeError ? e.message.split('\n').slice(0, 3).join(' | ') : (e as Error).message
    return { ok: false, reason: `cannot probe: ${msg}`, probe: null }
  }
  const fail = (reason: string): VerifyResult => ({ ok: false, reason, probe })
  if (probe.videoCodec !== 'h264') return fail(`video codec is ${probe.videoCodec}, expected h264`)
  if (probe.width !== expect.width || probe.height !== expect.height) {
    return fail(`resolution is ${probe.width}x${probe.height}, expected ${expect.width}x${expect.height}`)
  }
  if (!probe.keyframeStart) return fail('first video packet is not a keyframe')
  const frames = probe.videoFrames ?? 0
  if (frames === 0) return fail('no decodable video frames')
  if (frames < probe.videoPackets) return fail(`only ${frames} of ${probe.videoPackets} video packets decoded`)
  if (!(probe.fpsMilli > 0)) return fail('unknown frame rate')
  const byFrames = (frames * 1000) / probe.fpsMilli
  if (Math.abs(byFrames - expect.durationSec) > tol) {
    return fail(`duration ${byFrames.toFixed(3)} s (${frames} frames), expected ${expect.durationSec} ± ${tol} s`)
  }
  if (Math.abs(probe.durationSec - expect.durationSec) > tol) {
    return fail(`video PTS span ${probe.durationSec.toFixed(3)} s, expected ${expect.durationSec} ± ${tol} s`)
  }
  return { ok: true, probe }
}
