import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { LineTail, trackProcess } from './proc.js'

export interface TestSourceOptions {
  ffmpegPath: string;
  /** Where to publish: `rtmp://127.0.0.1:1935/live/key` (or a file path, which gets FLV). */
  url: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in seconds (fixed GOP, no scene-cut keyframes). */
  gopSeconds?: number;
  /** Stop after this many seconds; endless when omitted. */
  durationSec?: number;
  /** Video bitrate (default about 0.07 bit per pixel per frame). */
  bitrateKbps?: number;
  /** Draw a running timestamp (default: when the ffmpeg has a working `drawtext`). */
  overlay?: boolean;
  signal?: AbortSignal;
}

export interface TestSource {
  child: ChildProcess;
  /** Exit code (128 + n when killed by signal n, 127 when ffmpeg could not be spawned). */
  done: Promise<number>;
  /** SIGINT (ffmpeg finishes the FLV cleanly), SIGKILL after 3 s; resolves once exited. */
  stop(): Promise<void>;
  /** The last stderr lines of ffmpeg. */
  stderrTail(): string[];
  /** The ffmpeg arguments used. */
  args: string[];
}

const drawtextCache = new Map<string, boolean>()

/** Whether this ffmpeg can actually render `drawtext` (filter compiled in and a font found). Cached. */
export function hasWorkingDrawtext (ffmpegPath: string): boolean {
  let ok = drawtextCache.get(ffmpegPath)
  if (ok === undefined) {
    const r = spawnSync(
      ffmpegPath,
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=1',
        '-vf', "drawtext=text='0'", '-frames:v', '1', '-f', 'null', '-'],
      { stdio: 'ignore', timeout: 10_000 }
    )
    ok = r.status === 0
    drawtextCache.set(ffmpegPath, ok)
  }
  return ok
}

/** The ffmpeg arguments of a test source (exported for logging and tests). */
export function testSourceArgs (o: TestSourceOptions & { overlay: boolean }): string[] {
  const width = o.width ?? 640
  const height = o.height ?? 360
  const fps = o.fps ?? 30
  const gop = Math.max(1, Math.round((o.gopSeconds ?? 2) * fps))
  const kbps = o.bitrateKbps ?? Math.max(100, Math.round((width * height * fps * 0.07) / 1000))
  const fontsize = Math.max(12, Math.round(height / 14))
  const vf = o.overlay
    ? ['-vf', `drawtext=text='%{pts\\:hms} f%{n}':x=8:y=h-th-8:fontsize=${fontsize}:fontcolor=white:box=1:boxcolor=black@0.6`]
    : []
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    ...(o.durationSec !== undefined ? ['-t', String(o.durationSec)] : []),
    '-map', '0:v', '-map', '1:a',
    ...vf,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
    '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps * 2}k`,
    '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2',
    '-f', 'flv', o.url
  ]
}

/**
 * Publish a synthetic live stream: lavfi `testsrc2` (+ a running timestamp when drawtext works)
 * and a 440 Hz sine (AAC 48 kHz stereo), read in real time (`-re`), x264 veryfast/zerolatency
 * with a fixed GOP, sent as FLV to `url`. Endless unless `durationSec` is given.
 */
export function startTestSource (opts: TestSourceOptions): TestSource {
  const overlay = opts.overlay ?? hasWorkingDrawtext(opts.ffmpegPath)
  const args = testSourceArgs({ ...opts, overlay })
  const child = trackProcess(spawn(opts.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }))
  const tail = new LineTail(20)
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (s: string) => tail.push(s))
  const done = new Promise<number>((resolve) => {
    child.on('error', (e) => {
      tail.push(`${e.message}\n`)
      resolve(127)
    })
    child.on('close', (code, signal) => {
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1))
    })
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await done
      clearTimeout(timer)
    }
    await done
  }
  if (opts.signal) {
    const onAbort = (): void => { void stop() }
    if (opts.signal.aborted) onAbort()
    else opts.signal.addEventListener('abort', onAbort, { once: true })
    void done.then(() => opts.signal?.removeEventListener('abort', onAbort))
  }
  return { child, done, stop, stderrTail: () => tail.tail(), args }
}
