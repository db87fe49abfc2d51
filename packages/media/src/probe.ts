import { ProbeError } from './errors.js'
import { resolveFfmpeg } from './ffmpeg-path.js'
import { runProcess, tailLines } from './proc.js'
import { readRawWithFfmpeg } from './probe-ffmpeg.js'
import type { RawPacket, RawProbe, RawStream } from './probe-raw.js'
import { UNTRUSTED_MAX_STDOUT_BYTES, untrustedProbeArgs, type UntrustedInput } from './untrusted.js'

/** What {@link probeMedia} reports about a media file (first video and first audio stream). */
export interface ProbeResult {
  width: number;
  height: number;
  /** ffmpeg codec name, e.g. `h264`. */
  videoCodec: string;
  /** e.g. `aac`, or null without audio. */
  audioCodec: string | null;
  /** ffmpeg profile name, e.g. `High`, `Constrained Baseline` ('' if unknown). */
  profile: string;
  /** H.264 level_idc, e.g. 30 for 3.0 (0 if unknown). */
  level: number;
  /** Frame rate × 1000, rounded (30 fps → 30000, 29.97 → 29970). */
  fpsMilli: number;
  /** Earliest video PTS, seconds (the first frame shown; a keyframe in our segments). */
  startSec: number;
  /** Video span: last video PTS + its duration − startSec (not the container's duration). */
  durationSec: number;
  /** Decoded video frames, only with `countFrames`. */
  videoFrames?: number;
  /** Number of video packets. */
  videoPackets: number;
  /** Whether the first video packet in the file is a keyframe. */
  keyframeStart: boolean;
  /** RFC 6381 codecs string, e.g. `avc1.64001e,mp4a.40.2` ('' for video other than H.264). */
  codecs: string;
}

export interface ProbeOptions {
  /** ffprobe binary; when null/undefined, ffmpeg is used instead (slower fallback). */
  ffprobePath?: string | null;
  /** ffmpeg binary for the fallback when there is no ffprobe (default: {@link resolveFfmpeg}). */
  ffmpegPath?: string;
  /** Decode the video and count frames (fills `videoFrames`). */
  countFrames?: boolean;
  /**
   * A file with no video but an audio stream is an audio-only source (radio, podcasts): width,
   * height and fps 0, `videoCodec` '', span from the audio. Otherwise no video throws.
   */
  allowAudioOnly?: boolean;
  /** The file is a peer's bytes: force its container, whitelist protocols and decoders, bound size and length (untrusted.ts). */
  untrusted?: UntrustedInput;
  signal?: AbortSignal;
}

const PROFILE_HEX: Record<string, string> = {
  baseline: '42e0',
  'constrained baseline': '42e0',
  main: '4d40',
  extended: '58a0',
  high: '6400',
  'high 10': '6e00',
  'high 4:2:2': '7a00',
  'high 4:4:4 predictive': 'f400'
}

/**
 * RFC 6381 codecs string for H.264 (+ AAC-LC when `hasAudio`): `codecString('High', 30, true)`
 * → `'avc1.64001e,mp4a.40.2'`. Profiles use the usual HLS constraint bytes (Baseline and
 * Constrained Baseline 42e0, Main 4d40, High 6400).
 * @throws RangeError for an unknown profile or a level outside 1..255.
 */
export function codecString (profile: string, level: number, hasAudio: boolean): string {
  const hex = PROFILE_HEX[profile.trim().toLowerCase()]
  if (hex === undefined) throw new RangeError(`unknown H.264 profile "${profile}"`)
  if (!Number.isInteger(level) || level < 1 || level > 255) {
    throw new RangeError(`invalid H.264 level ${level}`)
  }
  const avc = `avc1.${hex}${level.toString(16).padStart(2, '0')}`
  return hasAudio ? `${avc},mp4a.40.2` : avc
}

function ratio (s: string | undefined): number {
  if (!s) return 0
  const [n, d] = s.split('/').map(Number)
  if (n === undefined || !Number.isFinite(n)) return 0
  if (d === undefined) return n
  return d > 0 ? n / d : 0
}

interface FfprobeJson {
  streams?: Array<Record<string, unknown>>;
  packets?: Array<{ stream_index?: number; pts?: number; duration?: number; flags?: string }>;
}

async function readRawWithFfprobe (
  file: string,
  ffprobePath: string,
  countFrames: boolean,
  signal: AbortSignal | undefined,
  untrusted?: UntrustedInput
): Promise<RawProbe> {
  const args = [
    ...(untrusted != null ? untrustedProbeArgs(untrusted) : []),
    '-v', 'error', '-of', 'json',
    '-show_entries',
    'stream=index,codec_type,codec_name,profile,level,width,height,r_frame_rate,avg_frame_rate,time_base,nb_read_frames' +
      ':packet=stream_index,pts,duration,flags',
    ...(countFrames ? ['-count_frames'] : []),
    file
  ]
  const res = await runProcess(ffprobePath, args, { signal, ...(untrusted != null ? { maxStdoutBytes: UNTRUSTED_MAX_STDOUT_BYTES } : {}) })
  let json: FfprobeJson
  try {
    json = JSON.parse(res.stdout) as FfprobeJson
  } catch {
    throw new ProbeError(`ffprobe gave no readable output for ${file} (exit ${res.code})`, tailLines(res.stderr))
  }
  if (res.code !== 0) throw new ProbeError(`ffprobe failed on ${file} (exit ${res.code})`, tailLines(res.stderr))
  const streams: RawStream[] = (json.streams ?? []).map((s) => {
    const fps = ratio(s.r_frame_rate as string) || ratio(s.avg_frame_rate as string)
    const frames = Number(s.nb_read_frames)
    return {
      index: Number(s.index),
      type: String(s.codec_type ?? ''),
      codec: String(s.codec_name ?? ''),
      profile: typeof s.profile === 'string' ? s.profile : '',
      level: typeof s.level === 'number' && s.level > 0 ? s.level : 0,
      width: Number(s.width ?? 0),
      height: Number(s.height ?? 0),
      fps: fps > 1000 ? 0 : fps, // r_frame_rate 90000/1 means "unknown"
      timeBase: ratio(s.time_base as string),
      ...(countFrames && Number.isFinite(frames) ? { frames } : {})
    }
  })
  const packets: RawPacket[] = (json.packets ?? []).map((p) => ({
    stream: p.stream_index ?? -1,
    pts: typeof p.pts === 'number' ? p.pts : null,
    duration: typeof p.duration === 'number' && p.duration > 0 ? p.duration : null,
    key: (p.flags ?? '').includes('K')
  }))
  return { streams, packets }
}

/** @internal Read streams and packets with ffprobe, or with ffmpeg when there is no ffprobe. */
export async function readRaw (file: string, opts: ProbeOptions): Promise<RawProbe> {
  if (opts.ffprobePath) {
    return readRawWithFfprobe(file, opts.ffprobePath, opts.countFrames ?? false, opts.signal, opts.untrusted)
  }
  // No ffprobe: use the given ffmpeg, else whatever resolveFfmpeg() finds (throws FfmpegNotFoundError).
  const ffmpegPath = opts.ffmpegPath ?? resolveFfmpeg().ffmpeg
  return readRawWithFfmpeg(file, ffmpegPath, opts.countFrames ?? false, opts.signal, opts.untrusted)
}

/** Presentation span of one stream's packets, in seconds; null without timestamped packets. */
export function streamSpan (
  raw: RawProbe,
  stream: RawStream
): { startSec: number; endSec: number; packets: number; firstKey: boolean } | null {
  const pk = raw.packets.filter((p) => p.stream === stream.index)
  let min = Infinity
  let max = -Infinity
  let maxDur: number | null = null
  const durs: number[] = []
  for (const p of pk) {
    if (p.duration !== null) durs.push(p.duration)
    if (p.pts === null) continue
    if (p.pts < min) min = p.pts
    if (p.pts >= max) {
      max = p.pts
      maxDur = p.duration
    }
  }
  if (!Number.isFinite(min)) return null
  durs.sort((a, b) => a - b)
  const typical =
    durs[Math.floor(durs.length / 2)] ?? (stream.fps > 0 ? 1 / stream.fps / stream.timeBase : 0)
  const tb = stream.timeBase
  return {
    startSec: min * tb,
    endSec: (max + (maxDur ?? typical)) * tb,
    packets: pk.length,
    firstKey: pk[0]?.key ?? false
  }
}

/**
 * Probe a media file: sizes, codecs, frame rate, and the video's real start and span computed
 * from packet timestamps. Uses ffprobe when `ffprobePath` is given, else ffmpeg (`ffmpegPath`, or
 * the one {@link resolveFfmpeg} finds): same results, parsed from `-f framecrc` and `trace_headers`.
 * @throws ProbeError when the file cannot be read or has no video stream.
 */
export async function probeMedia (file: string, opts: ProbeOptions): Promise<ProbeResult> {
  const raw = await readRaw(file, opts)
  const video = raw.streams.find((s) => s.type === 'video')
  const audio = raw.streams.find((s) => s.type === 'audio')
  if (!video && audio && opts.allowAudioOnly === true) return audioOnly(file, raw, audio)
  if (!video) throw new ProbeError(`no video stream in ${file}`)
  const span = streamSpan(raw, video)
  if (!span) throw new ProbeError(`no timestamped video packets in ${file}`)
  let codecs = ''
  if (video.codec === 'h264') {
    try {
      codecs = codecString(video.profile, video.level, audio?.codec === 'aac')
    } catch {
      codecs = ''
    }
  }
  return {
    width: video.width,
    height: video.height,
    videoCodec: video.codec,
    audioCodec: audio?.codec ?? null,
    profile: video.profile,
    level: video.level,
    fpsMilli: Math.round(video.fps * 1000),
    startSec: round6(span.startSec),
    durationSec: round6(span.endSec - span.startSec),
    ...(video.frames !== undefined ? { videoFrames: video.frames } : {}),
    videoPackets: span.packets,
    keyframeStart: span.firstKey,
    codecs
  }
}

/** An audio-only source: no video, the span and codecs of its audio. */
function audioOnly (file: string, raw: RawProbe, audio: RawStream): ProbeResult {
  const span = streamSpan(raw, audio)
  if (!span) throw new ProbeError(`no timestamped audio packets in ${file}`)
  return {
    width: 0,
    height: 0,
    videoCodec: '',
    audioCodec: audio.codec,
    profile: '',
    level: 0,
    fpsMilli: 0,
    startSec: round6(span.startSec),
    durationSec: round6(span.endSec - span.startSec),
    videoPackets: 0,
    keyframeStart: true,
    codecs: audio.codec === 'aac' ? 'mp4a.40.2' : ''
  }
}

export function round6 (x: number): number {
  return Math.round(x * 1e6) / 1e6
}
