import { open, readFile } from 'node:fs/promises'
import { ProbeError } from './errors.js'
import { profileName } from './h264-sps.js'
import { codecString, probeMedia, round6, type ProbeResult } from './probe.js'
import { parseRendition, type ParsedRendition } from './rendition-parse.js'
import { sniffFormat, type UntrustedInput } from './untrusted.js'

/**
 * The most frames a second a rendition may carry (security review M10): our
 * rungs are at most 60 fps; twice that leaves room for any honest encoder,
 * while a rendition of tens of thousands of tiny frames (built to make the
 * sampled decode cost the ingest seconds) is refused by the parse alone.
 */
export const MAX_VERIFY_FPS = 120

/**
 * Share of renditions that parse cleanly and are decoded in full anyway: parsing proves the
 * structure (SPS size, IDR start, timestamps), a sample of decodes keeps the decoder's view
 * honest at a twentieth of the cost. Picture content is the spot check's job.
 */
export const VERIFY_DECODE_RATE = 0.05

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

export interface VerifyOptions {
  ffprobePath?: string | null;
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** Decode in full whatever the parse says (default: a {@link VERIFY_DECODE_RATE} sample). */
  decode?: boolean;
  /** Random source for the decode sample (tests). */
  random?: () => number;
}

/**
 * Check a produced rendition by parsing its container (fMP4 boxes or MPEG-TS packets): H.264,
 * the SPS's picture size, an IDR first, frame count and the span of the container's own
 * timestamps within tolerance. Decodes in full ({@link decodeRendition}) on a sample
 * ({@link VERIFY_DECODE_RATE}), when asked, and on suspicion: bytes the parser cannot read go to
 * the decoder, which has the last word. Never throws for a bad file: returns `ok: false`.
 */
export async function verifyRendition (file: string, expect: RenditionExpectation, opts: VerifyOptions): Promise<VerifyResult> {
  const tol = expect.toleranceSec ?? 0.25
  let parsed: ParsedRendition
  try {
    parsed = parseRendition(await readFile(file))
  } catch (err) {
    if (opts.signal?.aborted) throw err
    return await decodeRendition(file, expect, opts) // suspicion: the decoder decides
  }
  const probe = probeOf(parsed)
  const fail = (reason: string): VerifyResult => ({ ok: false, reason, probe })
  if (parsed.videoCodec !== 'h264') return fail(`video codec is ${parsed.videoCodec}, expected h264`)
  if (parsed.width !== expect.width || parsed.height !== expect.height) {
    return fail(`resolution is ${parsed.width}x${parsed.height}, expected ${expect.width}x${expect.height}`)
  }
  if (!parsed.keyframeStart) return fail('first video frame is not an IDR keyframe')
  if (parsed.frames > Math.ceil(expect.durationSec * MAX_VERIFY_FPS)) {
    return fail(`${parsed.frames} frames in ${expect.durationSec} s: more than ${MAX_VERIFY_FPS} frames a second`)
  }
  if (Math.abs(parsed.durationSec - expect.durationSec) > tol) {
    return fail(`duration ${parsed.durationSec.toFixed(3)} s (container timestamps, ${parsed.frames} frames), expected ${expect.durationSec} ± ${tol} s`)
  }
  if (opts.decode === true || (opts.random ?? Math.random)() < VERIFY_DECODE_RATE) return await decodeRendition(file, expect, opts)
  return { ok: true, probe }
}

function probeOf (p: ParsedRendition): ProbeResult {
  const profile = profileName(p)
  let codecs = ''
  try {
    codecs = p.videoCodec === 'h264' ? codecString(profile, p.levelIdc, p.hasAac) : ''
  } catch {
    codecs = '' // a profile or level outside the table: the rendition's codecs string stays empty, as probeMedia's
  }
  return {
    width: p.width,
    height: p.height,
    videoCodec: p.videoCodec,
    audioCodec: p.hasAac ? 'aac' : null,
    profile,
    level: p.levelIdc,
    fpsMilli: p.durationSec > 0 ? Math.round(p.frames / p.durationSec * 1000) : 0,
    startSec: round6(p.startSec),
    durationSec: round6(p.durationSec),
    videoFrames: p.frames,
    videoPackets: p.frames,
    keyframeStart: p.keyframeStart,
    codecs
  }
}

/**
 * Check a produced rendition by decoding it: H.264 video, exact resolution, first packet a
 * keyframe, every packet decodes, and a duration within tolerance — measured both as decoded
 * frames ÷ fps and as the video PTS span (never the container duration, which copied audio
 * overhanging the last frame inflates). Never throws for a bad file: returns `ok: false`.
 */
export async function decodeRendition (
  file: string,
  expect: RenditionExpectation,
  opts: { ffprobePath?: string | null; ffmpegPath?: string; signal?: AbortSignal }
): Promise<VerifyResult> {
  const tol = expect.toleranceSec ?? 0.25
  let probe: ProbeResult
  try {
    const fh = await open(file)
    const head = new Uint8Array(8)
    try { await fh.read(head, 0, 8, 0) } finally { await fh.close() }
    // A worker's bytes: container forced, decoders whitelisted, no frame over the rung's size, bounded length.
    const untrusted: UntrustedInput = { format: sniffFormat(head) ?? 'mpegts', width: expect.width, height: expect.height, durationSec: expect.durationSec + tol }
    probe = await probeMedia(file, { ...opts, countFrames: true, untrusted })
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
