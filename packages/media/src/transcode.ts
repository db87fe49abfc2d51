import { mkdir, stat } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import { LadderError, TranscodeError } from './errors.js'
import { hwFilterGraph, hwInputOptions, hwVideoOptions, type HwEncoder } from './hwaccel.js'
import type { RungSpec } from './ladder.js'
import { tailLines, trackExternalProcess } from './proc.js'
import { untrustedInputArgs } from './untrusted.js'

/** B-frames used by every worker: mixing B-frame settings across workers makes DTS jump at joins. */
export const X264_BFRAMES = 2
export const DEFAULT_PRESET = 'veryfast'

export interface TranscodeOptions {
  ffmpegPath: string;
  /** One source segment (`.ts` from the {@link Segmenter}). */
  input: string;
  /** Where `<rung.name>.ts` files are written (created if missing). */
  outDir: string;
  /** Rungs already fitted to the source ({@link ladderForSource}); names become file names. */
  ladder: RungSpec[];
  /** Source frame rate × 1000 (from {@link probeMedia}). */
  fpsMilli: number;
  /** Segment duration (from the segmenter): GOP = round(durationSec × fps) frames. */
  durationSec: number;
  /** x264 preset; must be the same on every worker of a stream. */
  preset?: string;
  /** x264 threads per output (default: ffmpeg's choice). */
  threads?: number;
  /** Encode (and decode/scale where possible) on this hardware encoder instead of libx264. */
  hw?: HwEncoder;
  /** Source video codec (`h264`, `hevc`...): picks the hardware decoder for QSV. Default `h264`. */
  sourceCodec?: string;
  /**
   * Output container: `ts` (MPEG-TS with the source audio copied, default) or `cmaf` (one
   * self-contained fragmented MP4 per rung, `<rung.name>.mp4`, video only (a CMAF track is one
   * track; the audio track is the ingest's): init + one fragment, absolute timestamps, 90 kHz
   * timescale; split it with {@link cmafParts}).
   */
  container?: 'ts' | 'cmaf';
  /**
   * The input is a peer's bytes: the size the job declared for them (`-f mpegts`, protocol and
   * decoder whitelists, `-max_pixels`, `-t`, decoder threads: untrusted.ts).
   */
  untrusted?: { width: number; height: number };
  signal?: AbortSignal;
}

export interface Rendition {
  name: string;
  path: string;
  width: number;
  height: number;
  size: number;
}

export interface TranscodeResult {
  renditions: Rendition[];
  elapsedMs: number;
  /** `libx264`, or the hardware encoder used (e.g. `h264_nvenc`). */
  encoder: string;
}

/**
 * fMP4 output of one segment with its absolute timestamps (`frag_discont` keeps the tfdt, a
 * 90 kHz video timescale makes it equal the MPEG-TS PTS), init first (`empty_moov`), one fragment
 * per keyframe (one per segment with the fixed GOP). See MEDIA-NOTES "fMP4 / CMAF per segment".
 */
export const CMAF_OUTPUT_OPTIONS: readonly string[] = [
  '-video_track_timescale', '90000',
  '-movflags', 'frag_keyframe+empty_moov+default_base_moof+frag_discont+delay_moov',
  '-f', 'mp4'
]

/** Frames per segment, used as the fixed GOP length. */
export function gopFrames (fpsMilli: number, durationSec: number): number {
  return Math.max(1, Math.round((durationSec * fpsMilli) / 1000))
}

/** Build (without running) the fluent-ffmpeg command for one segment. */
export function buildTranscodeCommand (
  opts: Omit<TranscodeOptions, 'signal'>
): { command: ffmpeg.FfmpegCommand; outputs: Array<RungSpec & { path: string }> } {
  const { ladder } = opts
  if (ladder.length === 0) throw new LadderError('transcodeSegment needs at least one rung')
  const names = new Set<string>()
  for (const r of ladder) {
    if (!/^[\w.-]+$/.test(r.name) || names.has(r.name)) throw new LadderError(`bad or duplicate rung name "${r.name}"`)
    names.add(r.name)
    if (r.width % 2 || r.height % 2 || r.width <= 0 || r.height <= 0 || !(r.videoKbps > 0)) {
      throw new LadderError(`rung ${r.name}: ${r.width}x${r.height} @ ${r.videoKbps} kbps is not encodable (sizes must be even)`)
    }
  }
  if (!(opts.fpsMilli > 0) || !(opts.durationSec > 0)) {
    throw new RangeError(`fpsMilli (${opts.fpsMilli}) and durationSec (${opts.durationSec}) must be > 0`)
  }
  const gop = gopFrames(opts.fpsMilli, opts.durationSec)
  const preset = opts.preset ?? DEFAULT_PRESET
  const hw = opts.hw
  const command = ffmpeg(opts.input)
    .setFfmpegPath(opts.ffmpegPath)
    // Keep the segment's timestamps so consecutive renditions join without gaps.
    .inputOptions(['-hide_banner', '-nostdin', '-loglevel', 'warning', ...(hw ? hwInputOptions(hw, opts.sourceCodec) : []), '-copyts',
      ...(opts.untrusted != null ? untrustedInputArgs({ format: 'mpegts', ...opts.untrusted, durationSec: opts.durationSec }) : [])])
    .complexFilter(hwFilterGraph(hw, ladder, opts.sourceCodec))
  const outputs = ladder.map((r, i) => {
    const cmaf = opts.container === 'cmaf'
    const out = path.join(opts.outDir, `${r.name}.${cmaf ? 'mp4' : 'ts'}`)
    const video = hw
      ? hwVideoOptions(hw, r, gop, X264_BFRAMES, opts.sourceCodec)
      : [
          '-c:v', 'libx264',
          '-preset', preset,
          '-profile:v', 'high',
          '-pix_fmt', 'yuv420p',
          '-bf', String(X264_BFRAMES),
          '-g', String(gop),
          '-keyint_min', String(gop),
          '-sc_threshold', '0',
          '-force_key_frames', 'expr:eq(n,0)',
          '-forced-idr', '1',
          '-b:v', `${r.videoKbps}k`,
          '-maxrate', `${r.videoKbps}k`,
          '-bufsize', `${r.videoKbps * 2}k`,
          ...(opts.threads ? ['-threads', String(opts.threads)] : [])
        ]
    command.output(out).outputOptions([
      '-map', `[v${i}]`,
      // CMAF tracks are one per file: a rung is video only; the ingest makes the one audio track.
      ...(cmaf ? [] : ['-map', '0:a?']),
      ...video,
      ...(cmaf ? ['-an'] : ['-c:a', 'copy']),
      '-muxdelay', '0',
      '-muxpreload', '0',
      ...(cmaf ? CMAF_OUTPUT_OPTIONS : ['-mpegts_flags', '+initial_discontinuity', '-f', 'mpegts'])
    ])
    return { ...r, path: out }
  })
  return { command, outputs }
}

/**
 * fluent-ffmpeg lists ffmpeg's formats and encoders (two ffmpeg runs, ~0.3 s)
 * before its first command in a process and caches them. A worker calls this
 * at start so that cost is not paid by its first segment.
 */
export async function warmUpFfmpeg (ffmpegPath: string): Promise<void> {
  const probe = ffmpeg().setFfmpegPath(ffmpegPath)
  await new Promise<void>((resolve, reject) => {
    probe.availableFormats((err) => (err ? reject(err) : resolve()))
  })
  await new Promise<void>((resolve, reject) => {
    probe.availableEncoders((err) => (err ? reject(err) : resolve()))
  })
}

/**
 * Transcode one source segment into every rung with ONE ffmpeg run (`split` + one `scale` per
 * rung, one MPEG-TS output per rung). Timestamps are carried (`-copyts`, `-muxdelay 0
 * -muxpreload 0`), audio is copied, x264 settings are fixed (preset, {@link X264_BFRAMES}
 * B-frames, GOP = frames in the segment, no scene-cut keyframes, IDR on the first frame), so
 * renditions of consecutive segments made by different workers play as one continuous stream.
 * @throws TranscodeError with ffmpeg's last stderr lines; the abort reason when `signal` aborts.
 */
export async function transcodeSegment (opts: TranscodeOptions): Promise<TranscodeResult> {
  const { signal } = opts
  signal?.throwIfAborted()
  await mkdir(opts.outDir, { recursive: true })
  const { command, outputs } = buildTranscodeCommand(opts)
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    let started = false
    const proc = trackExternalProcess()
    const onAbort = (): void => {
      if (started) command.kill('SIGKILL')
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const finish = (err?: Error): void => {
      proc.ended()
      signal?.removeEventListener('abort', onAbort)
      if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      else if (err) reject(err)
      else resolve()
    }
    command
      .on('start', () => {
        started = true
        proc.started()
        if (signal?.aborted) command.kill('SIGKILL')
      })
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        finish(new TranscodeError(`ffmpeg failed to transcode ${opts.input}: ${err.message.split('\n')[0]}`, tailLines(stderr ?? '')))
      })
      .on('end', () => finish())
      .run()
  })
  const renditions: Rendition[] = []
  for (const o of outputs) {
    const st = await stat(o.path).catch(() => null)
    if (!st || st.size === 0) throw new TranscodeError(`ffmpeg wrote no output for rung ${o.name} (${o.path})`)
    renditions.push({ name: o.name, path: o.path, width: o.width, height: o.height, size: st.size })
  }
  return { renditions, elapsedMs: Math.round(performance.now() - t0), encoder: opts.hw?.encoder ?? 'libx264' }
}
