import type { RungSpec } from './ladder.js'
import { runProcess, tailLines } from './proc.js'

/** The hardware H.264 encoder families DistStream knows how to drive. */
export type HwKind = 'nvenc' | 'qsv' | 'vaapi' | 'videotoolbox'

/** A hardware encoder and the ffmpeg hwaccel that decodes and scales for it. */
export interface HwEncoderSpec {
  kind: HwKind;
  /** ffmpeg encoder name, e.g. `h264_nvenc`. */
  encoder: string;
  /** ffmpeg `-hwaccel` name used for decoding, e.g. `cuda`. */
  hwaccel: string;
  /** Device node (VAAPI only). */
  device?: string;
}

/** A hardware encoder that passed a one-frame test encode: what {@link buildTranscodeCommand} takes. */
export interface HwEncoder extends HwEncoderSpec {
  /** ffmpeg lists the matching hwaccel: decode and scale on the device too. */
  hwDecode: boolean;
}

/** Candidates in order of preference. */
export const HW_CANDIDATES: readonly HwEncoderSpec[] = Object.freeze([
  { kind: 'nvenc', encoder: 'h264_nvenc', hwaccel: 'cuda' },
  { kind: 'qsv', encoder: 'h264_qsv', hwaccel: 'qsv' },
  { kind: 'vaapi', encoder: 'h264_vaapi', hwaccel: 'vaapi', device: '/dev/dri/renderD128' },
  { kind: 'videotoolbox', encoder: 'h264_videotoolbox', hwaccel: 'videotoolbox' }
] as HwEncoderSpec[])

/** What detection found for one candidate. */
export interface HwProbeReport {
  kind: HwKind;
  encoder: string;
  /** `ffmpeg -encoders` lists it. */
  listed: boolean;
  /** `ffmpeg -hwaccels` lists its hwaccel. */
  hwaccel: boolean;
  /** The one-frame test encode passed (false when not listed: not tried). */
  ok: boolean;
  /** Why it failed (ffmpeg's last stderr line), when listed but not ok. */
  error?: string;
}

export interface HwDetection {
  /** The first candidate whose test encode passed, or null: use the CPU (libx264). */
  selected: HwEncoder | null;
  tried: HwProbeReport[];
}

/** Encoder names from `ffmpeg -encoders` output (lines like ` V....D h264_nvenc  NVIDIA ...`). */
export function parseEncoderList (stdout: string): Set<string> {
  const out = new Set<string>()
  let body = false
  for (const line of stdout.split(/\r?\n/)) {
    if (/^\s*-{3,}\s*$/.test(line)) {
      body = true
      continue
    }
    const m = /^\s*[VAS][A-Z.]{5}\s+(\S+)/.exec(line)
    if (body && m) out.add(m[1]!)
  }
  return out
}

/** hwaccel names from `ffmpeg -hwaccels` output (one per line after the heading). */
export function parseHwaccelList (stdout: string): Set<string> {
  const out = new Set<string>()
  for (const line of stdout.split(/\r?\n/)) {
    const t = line.trim()
    if (t !== '' && !t.endsWith(':') && /^[a-z0-9_]+$/.test(t)) out.add(t)
  }
  return out
}

/**
 * Arguments of the one-frame test encode: one generated 256×144 frame through the encoder into
 * the null muxer, uploaded to the device where the encoder needs device frames (VAAPI).
 */
export function oneFrameTestArgs (hw: HwEncoderSpec): string[] {
  const pre = hw.kind === 'vaapi' ? ['-vaapi_device', hw.device ?? '/dev/dri/renderD128'] : []
  const vf =
    hw.kind === 'vaapi' ? ['-vf', 'format=nv12,hwupload'] : hw.kind === 'qsv' ? ['-vf', 'format=nv12'] : ['-pix_fmt', 'yuv420p']
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', ...pre,
    '-f', 'lavfi', '-i', 'testsrc2=size=256x144:rate=30',
    '-frames:v', '1', ...vf, '-c:v', hw.encoder, '-f', 'null', '-'
  ]
}

/**
 * Find a hardware encoder that actually works: list ffmpeg's encoders and hwaccels, then run a
 * one-frame test encode with each listed candidate (a listed encoder often fails: no device, no
 * driver, no libcuda) and select the first that passes. Never throws for a missing GPU: the
 * answer is then `selected: null`.
 */
export async function detectHwEncoder (
  ffmpegPath: string,
  opts: { candidates?: readonly HwEncoderSpec[]; signal?: AbortSignal; timeoutMs?: number } = {}
): Promise<HwDetection> {
  const candidates = opts.candidates ?? HW_CANDIDATES
  const list = async (flag: string): Promise<string> => {
    const r = await runProcess(ffmpegPath, ['-hide_banner', flag], { signal: opts.signal })
    return r.code === 0 ? r.stdout : ''
  }
  const encoders = parseEncoderList(await list('-encoders'))
  const hwaccels = parseHwaccelList(await list('-hwaccels'))
  const tried: HwProbeReport[] = []
  for (const c of candidates) {
    const report: HwProbeReport = { kind: c.kind, encoder: c.encoder, listed: encoders.has(c.encoder), hwaccel: hwaccels.has(c.hwaccel), ok: false }
    tried.push(report)
    if (!report.listed) continue
    const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 15_000), ...(opts.signal ? [opts.signal] : [])])
    try {
      const r = await runProcess(ffmpegPath, oneFrameTestArgs(c), { signal })
      report.ok = r.code === 0
      // ffmpeg's first stderr line names the cause (`Cannot load libcuda.so.1`, `No VA display`...).
      if (!report.ok) report.error = (tailLines(r.stderr, 50)[0] ?? `exit ${r.code ?? r.signal}`).slice(0, 200)
    } catch (err) {
      opts.signal?.throwIfAborted()
      report.error = (err as Error).message
    }
    if (report.ok) return { selected: { ...c, hwDecode: report.hwaccel }, tried }
  }
  return { selected: null, tried }
}

/** One log line for a detection result. */
export function describeHwDetection (d: HwDetection): string {
  if (d.selected) {
    return `using hardware encoder ${d.selected.encoder} (${d.selected.kind}; ${d.selected.hwDecode ? `decode and scale on ${d.selected.hwaccel}` : 'decode and scale on the CPU'})`
  }
  const listed = d.tried.filter((t) => t.listed)
  if (listed.length === 0) return 'no working hardware encoder: this ffmpeg lists none of ' + d.tried.map((t) => t.encoder).join(', ') + '; using the CPU (libx264)'
  return 'no working hardware encoder: ' + listed.map((t) => `${t.encoder} failed its test encode (${t.error ?? 'error'})`).join('; ') + '; using the CPU (libx264)'
}

/** Input options that decode on the device (before `-i`). */
export function hwInputOptions (hw: HwEncoder, sourceCodec = 'h264'): string[] {
  const vaapiDevice = hw.kind === 'vaapi' ? ['-vaapi_device', hw.device ?? '/dev/dri/renderD128'] : []
  if (!hw.hwDecode) return vaapiDevice
  switch (hw.kind) {
    case 'nvenc':
      return ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda']
    case 'vaapi':
      return [...vaapiDevice, '-hwaccel', 'vaapi', '-hwaccel_output_format', 'vaapi']
    case 'qsv':
      // QSV decodes through its own decoder, which exists for H.264 and HEVC sources.
      if (sourceCodec !== 'h264' && sourceCodec !== 'hevc') return []
      return ['-hwaccel', 'qsv', '-hwaccel_output_format', 'qsv', '-c:v', `${sourceCodec}_qsv`]
    case 'videotoolbox':
      return ['-hwaccel', 'videotoolbox']
  }
}

/** Whether decoded frames stay on the device (then scaling must be the device's scaler). */
export function framesOnDevice (hw: HwEncoder, sourceCodec = 'h264'): boolean {
  if (!hw.hwDecode) return false
  if (hw.kind === 'qsv') return sourceCodec === 'h264' || sourceCodec === 'hevc'
  return hw.kind === 'nvenc' || hw.kind === 'vaapi'
}

/** A fluent-ffmpeg filter spec. */
export interface FilterSpec {
  filter: string;
  options?: string | Record<string, string | number>;
  inputs?: string | string[];
  outputs?: string | string[];
}

/**
 * The filter graph for one segment: (upload if needed) → split → one scaler per rung → setsar,
 * producing `[v<i>]` per rung. Device scalers: `scale_cuda`, `scale_vaapi`, `scale_qsv`; the CPU
 * `scale` otherwise (VAAPI then uploads after scaling).
 */
export function hwFilterGraph (hw: HwEncoder | undefined, ladder: readonly RungSpec[], sourceCodec = 'h264'): FilterSpec[] {
  const onDevice = hw ? framesOnDevice(hw, sourceCodec) : false
  const split: FilterSpec = { filter: 'split', options: String(ladder.length), inputs: '0:v:0', outputs: ladder.map((_, i) => `s${i}`) }
  return [
    split,
    ...ladder.flatMap((r, i): FilterSpec[] => {
      if (!hw || !onDevice) {
        const scaled: FilterSpec[] = [{ filter: 'scale', options: { w: r.width, h: r.height }, inputs: `s${i}`, outputs: `z${i}` }]
        if (hw?.kind === 'vaapi') {
          scaled.push({ filter: 'format', options: 'nv12', inputs: `z${i}`, outputs: `n${i}` })
          scaled.push({ filter: 'hwupload', inputs: `n${i}`, outputs: `u${i}` })
          return [...scaled, { filter: 'setsar', options: '1', inputs: `u${i}`, outputs: `v${i}` }]
        }
        return [...scaled, { filter: 'setsar', options: '1', inputs: `z${i}`, outputs: `v${i}` }]
      }
      const scaler = hw.kind === 'nvenc' ? 'scale_cuda' : hw.kind === 'vaapi' ? 'scale_vaapi' : 'scale_qsv'
      const options: Record<string, string | number> = { w: r.width, h: r.height }
      if (hw.kind === 'vaapi') options.format = 'nv12'
      return [
        { filter: scaler, options, inputs: `s${i}`, outputs: `z${i}` },
        { filter: 'setsar', options: '1', inputs: `z${i}`, outputs: `v${i}` }
      ]
    })
  ]
}

/**
 * Video encoder options for one rung on a hardware encoder. Same join rules as libx264: fixed GOP
 * = frames per segment, no scene-cut keyframes, IDR on the first frame, the same number of
 * B-frames ({@link X264_BFRAMES}, passed in as `bframes`), CBR-like rate control.
 */
export function hwVideoOptions (hw: HwEncoder, rung: RungSpec, gop: number, bframes: number, sourceCodec = 'h264'): string[] {
  const common = [
    '-c:v', hw.encoder,
    '-profile:v', 'high',
    '-bf', String(bframes),
    '-g', String(gop),
    '-force_key_frames', 'expr:eq(n,0)',
    '-b:v', `${rung.videoKbps}k`,
    '-maxrate', `${rung.videoKbps}k`,
    '-bufsize', `${rung.videoKbps * 2}k`
  ]
  const cpuFrames = !framesOnDevice(hw, sourceCodec) && hw.kind !== 'vaapi'
  const pix = cpuFrames ? ['-pix_fmt', hw.kind === 'qsv' ? 'nv12' : 'yuv420p'] : []
  switch (hw.kind) {
    case 'nvenc':
      return [...common, ...pix, '-preset', 'p4', '-rc', 'cbr', '-forced-idr', '1', '-no-scenecut', '1', '-strict_gop', '1', '-b_ref_mode', 'disabled']
    case 'qsv':
      return [...common, ...pix, '-preset', 'veryfast', '-idr_interval', '0', '-look_ahead', '0']
    case 'vaapi':
      return [...common, '-rc_mode', 'CBR']
    case 'videotoolbox':
      return [...common, ...pix, '-realtime', '1', '-allow_sw', '0']
  }
}
