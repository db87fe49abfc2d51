import { ProbeError } from './errors.js'
import type { RawPacket, RawProbe, RawStream } from './probe-raw.js'
import { runProcess, tailLines } from './proc.js'
import { untrustedInputArgs, type UntrustedInput } from './untrusted.js'

/**
 * Probe without ffprobe (e.g. with the bundled `@ffmpeg-installer` ffmpeg): one
 * `ffmpeg -copyts -i FILE -c copy -bsf:v trace_headers -f framecrc -` run lists every packet
 * (stream, pts, duration, key flag) on stdout, while stderr has the stream summary lines
 * (`Video: h264 (High), ..., 320x180, 30 fps`) and the traced SPS (`level_idc`).
 * With `countFrames`, a second run decodes the video to a null muxer and reads `frame=`.
 * @internal
 */
export async function readRawWithFfmpeg (
  file: string,
  ffmpegPath: string,
  countFrames: boolean,
  signal: AbortSignal | undefined,
  untrusted?: UntrustedInput
): Promise<RawProbe> {
  const pin = untrusted != null ? untrustedInputArgs(untrusted) : []
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'verbose', '-copyts', ...pin, '-i', file,
    '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy', '-bsf:v', 'trace_headers',
    '-f', 'framecrc', '-'
  ]
  const res = await runProcess(ffmpegPath, args, { signal })
  if (res.code !== 0) {
    throw new ProbeError(`ffmpeg could not read ${file} (exit ${res.code})`, tailLines(res.stderr.replace(/^\[(trace_headers|AVIOContext|AVBSFContext).*$/gm, '')))
  }
  // Input section only: stop at the first "Output #" line.
  const inputInfo = res.stderr.split(/^Output #/m)[0] ?? ''
  const streams: RawStream[] = []
  const timeBases = new Map<number, number>()
  for (const m of res.stdout.matchAll(/^#tb (\d+): (\d+)\/(\d+)/gm)) {
    timeBases.set(Number(m[1]), Number(m[2]) / Number(m[3]))
  }
  const videoLine = /Stream #0:\d+\S*: Video: (\w+)(?: \(([^)]*)\))?(.*)$/m.exec(inputInfo)
  const audioLine = /Stream #0:\d+\S*: Audio: (\w+)/m.exec(inputInfo)
  // framecrc numbers its output streams: video (if any) is 0, audio follows.
  let next = 0
  if (videoLine) {
    const rest = videoLine[3] ?? ''
    const size = /, (\d{1,5})x(\d{1,5})/.exec(rest)
    const fps = /, ([\d.]+)(k?) (?:fps|tbr)/.exec(rest)
    const level = /level_idc\s+\d+ = (\d+)/.exec(res.stderr)
    streams.push({
      index: next,
      type: 'video',
      codec: videoLine[1] ?? '',
      profile: (videoLine[2] ?? '').split(',')[0]?.trim() ?? '',
      level: level ? Number(level[1]) : 0,
      width: size ? Number(size[1]) : 0,
      height: size ? Number(size[2]) : 0,
      fps: fps ? Number(fps[1]) * (fps[2] ? 1000 : 1) : 0,
      timeBase: timeBases.get(next) ?? 1 / 90000
    })
    next++
  }
  if (audioLine) {
    streams.push({
      index: next,
      type: 'audio',
      codec: audioLine[1] ?? '',
      profile: '',
      level: 0,
      width: 0,
      height: 0,
      fps: 0,
      timeBase: timeBases.get(next) ?? 1 / 90000
    })
  }
  const packets: RawPacket[] = []
  for (const line of res.stdout.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const f = line.split(',').map((s) => s.trim())
    if (f.length < 5) continue
    const flags = f.find((x) => x.startsWith('F='))
    packets.push({
      stream: Number(f[0]),
      pts: f[2] !== undefined && /^-?\d+$/.test(f[2]) ? Number(f[2]) : null,
      duration: Number(f[3]) > 0 ? Number(f[3]) : null,
      // framecrc prints F= only when the flags differ from "key".
      key: flags === undefined || (Number.parseInt(flags.slice(2), 16) & 1) === 1
    })
  }
  const video = streams.find((s) => s.type === 'video')
  if (countFrames && video) video.frames = await decodedFrames(file, ffmpegPath, pin, signal)
  return { streams, packets }
}

/** Decodes the first video stream to a null muxer and reads ffmpeg's final `frame=` count. */
async function decodedFrames (file: string, ffmpegPath: string, pin: string[], signal: AbortSignal | undefined): Promise<number> {
  const dec = await runProcess(ffmpegPath, ['-hide_banner', '-nostdin', ...pin, '-i', file, '-map', '0:v:0', '-f', 'null', '-'], { signal })
  const frames = [...dec.stderr.matchAll(/frame=\s*(\d+)/g)].pop()
  if (dec.code !== 0 || !frames) throw new ProbeError(`ffmpeg could not decode ${file} (exit ${dec.code})`, tailLines(dec.stderr))
  return Number(frames[1])
}
