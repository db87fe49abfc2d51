import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { LineTail, trackProcess } from './proc.js'
import { OpenSegmentWatch, SEGMENT_WATCH_INTERVAL_MS, checkSegment, segmentLimits, type SegmentLimits, type SegmentRefusal } from './segment-limits.js'
import { readTsVideoTimes, videoSpanSec } from './ts-pts.js'

/** Minimal logger shape (console works). */
export interface MediaLogger {
  debug?(msg: string): void;
  info?(msg: string): void;
  warn?(msg: string): void;
}

export interface SegmenterOptions {
  ffmpegPath: string;
  /**
   * Anything ffmpeg reads: `rtmp://127.0.0.1:1935/live/key`, an HTTP-FLV URL, a file path; or
   * `pipe:0` with {@link stdin} (give the format in `inputArgs`, e.g. `['-f', 'flv']`).
   */
  input: string;
  /**
   * Bytes to feed ffmpeg's standard input (for `input: 'pipe:0'`). Its end is the input's end;
   * it is destroyed when ffmpeg exits.
   */
  stdin?: Readable;
  /** Directory for `000000.ts`, `000001.ts`, ... (created if missing). */
  outDir: string;
  /** Target length; segments are cut at the first keyframe at or after it, so the GOP rules. */
  segmentSeconds: number;
  /** ffmpeg `-rw_timeout` in ms (RTMP readers get no end-of-stream, see MEDIA-NOTES); 0 disables. */
  rwTimeoutMs?: number;
  /** Number of the first segment file (default 0). */
  startNumber?: number;
  /** Extra input options placed before `-i` (e.g. `['-re']` to read a file in real time). */
  inputArgs?: string[];
  /**
   * Also write each segment as one fragmented MP4 with every track (`NNNNNN.mp4`, cut at the
   * same keyframes, {@link SegmentInfo.fmp4Path}): the CMAF source and audio tracks come from
   * it ({@link storedTracks}) instead of two more ffmpeg runs per segment.
   */
  fmp4?: boolean;
  /**
   * Bounds on one segment (default {@link segmentLimits} of `segmentSeconds`): past one, ffmpeg is
   * killed and `'end'` carries {@link SegmenterEnd.refused}; the oversized segment is never read.
   */
  limits?: SegmentLimits;
  logger?: MediaLogger;
}

/**
 * One closed segment. Times are seconds on the MPEG-TS timeline of the segment files: ffmpeg's
 * input timeline (rebased to start near 0) plus the mpegts muxer's 1.4 s offset. Renditions made
 * with {@link transcodeSegment} (`-copyts`, `-muxdelay 0`) keep exactly these timestamps.
 */
export interface SegmentInfo {
  /** Segment number, as in the file name. */
  index: number;
  /** Absolute path of the `.ts` file (complete when emitted). */
  path: string;
  /** PTS of the segment's first video frame (a keyframe). */
  startSec: number;
  /** `startSec + durationSec`: the next segment's `startSec` when the stream is contiguous. */
  endSec: number;
  /** Suitable for EXTINF: ffmpeg's reported length (= next first video PTS − this first video PTS). */
  durationSec: number;
  /** File size in bytes. */
  size: number;
  /**
   * With {@link SegmenterOptions.fmp4}: the same segment as a multi-track fragmented MP4 on
   * ffmpeg's own timeline (the `.ts` timeline minus {@link TS_MUX_OFFSET_SEC}); absent if
   * ffmpeg did not list it (it exited first).
   */
  fmp4Path?: string;
}

/**
 * What the MPEG-TS muxer adds to every timestamp: twice its `max_delay` (`-muxdelay`, 0.7 s,
 * which the segmenter sets explicitly). The MP4 output does not add it; the track split adds it
 * back so both outputs share the `.ts` timeline (checked in the media tests to the tick).
 */
export const TS_MUX_OFFSET_SEC = 1.4
/** `-muxdelay` of the segmenter's MPEG-TS output (seconds), pinned: {@link TS_MUX_OFFSET_SEC} is twice it. */
const TS_MUX_DELAY_SEC = TS_MUX_OFFSET_SEC / 2
/** movflags of the segmenter's fMP4 output: CMAF_OUTPUT_OPTIONS' fragmenting, one moof per track, 90 kHz video. */
const FMP4_SEGMENT_OPTIONS = 'movflags=frag_keyframe+empty_moov+default_base_moof+frag_discont+delay_moov+separate_moof:video_track_timescale=90000'

/** Payload of the `'end'` event. */
export interface SegmenterEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last stderr lines of ffmpeg (or the spawn error). */
  stderrTail: string[];
  /** Set when the segmenter stopped ffmpeg because a segment passed {@link SegmenterOptions.limits}. */
  refused?: SegmentRefusal;
}

export interface SegmenterEvents {
  segment: [SegmentInfo];
  end: [SegmenterEnd];
}

/**
 * Cuts a live input into MPEG-TS segments with one long-running
 * `ffmpeg -i <input> -c copy -f segment -reset_timestamps 0 -segment_list pipe:1 -segment_list_type csv`.
 *
 * Events (an EventEmitter, not an iterator):
 * - `'segment'` ({@link SegmentInfo}) as soon as ffmpeg closes each file — ffmpeg writes and
 *   flushes one CSV line to stdout per closed segment, including the final partial one when the
 *   input ends or on {@link stop}. Segments are emitted in order.
 * - `'end'` ({@link SegmenterEnd}) once, after ffmpeg exited and every segment was emitted.
 *
 * ```ts
 * const seg = new Segmenter({ ffmpegPath, input: 'rtmp://127.0.0.1:1935/live/key', outDir, segmentSeconds: 2 });
 * seg.on('segment', (s) => console.log(s.index, s.durationSec));
 * seg.start();
 * await seg.stop();
 * ```
 */
export class Segmenter extends EventEmitter<SegmenterEvents> {
  private child: ChildProcess | null = null
  private chain: Promise<void> = Promise.resolve()
  private readonly stderr = new LineTail(30)
  private endPromise: Promise<SegmenterEnd> | null = null
  private emitted = 0
  /** `.ts` files ffmpeg has listed (closed): the open one is `startNumber + listedTs`. */
  private listedTs = 0
  private refusal: SegmentRefusal | null = null
  /** The segment refused: it and any after it are not emitted (those before it are). */
  private refusedIndex = Infinity
  private readonly limits: SegmentLimits
  /** The last 'end' payload, once ffmpeg has exited. */
  result: SegmenterEnd | null = null

  constructor (readonly options: SegmenterOptions) {
    super()
    if (!(options.segmentSeconds > 0)) throw new RangeError('segmentSeconds must be > 0')
    this.limits = options.limits ?? segmentLimits(options.segmentSeconds)
  }

  /** The ffmpeg arguments this segmenter runs. */
  args (): string[] {
    const o = this.options
    const rw = o.rwTimeoutMs ?? 3000
    return [
      '-hide_banner', '-nostdin', '-loglevel', 'warning',
      ...(rw > 0 ? ['-rw_timeout', String(Math.round(rw * 1000))] : []),
      ...(o.inputArgs ?? []),
      '-i', o.input,
      // Video, audio, or both: an audio-only input (radio) is cut by time (every audio packet is a keyframe).
      '-map', '0:v:0?', '-map', '0:a:0?',
      '-c', 'copy',
      '-f', 'segment',
      '-segment_time', String(o.segmentSeconds),
      '-segment_format', 'mpegts',
      '-segment_start_number', String(o.startNumber ?? 0),
      '-reset_timestamps', '0',
      '-segment_list', 'pipe:1',
      '-segment_list_type', 'csv',
      '-muxdelay', String(TS_MUX_DELAY_SEC),
      path.join(path.resolve(o.outDir), '%06d.ts'),
      ...(o.fmp4 === true
        ? [
            '-map', '0:v:0?', '-map', '0:a:0?',
            '-c', 'copy',
            '-f', 'segment',
            '-segment_time', String(o.segmentSeconds),
            '-segment_format', 'mp4',
            '-segment_format_options', FMP4_SEGMENT_OPTIONS,
            '-segment_start_number', String(o.startNumber ?? 0),
            '-reset_timestamps', '0',
            '-segment_list', 'pipe:3',
            '-segment_list_type', 'csv',
            path.join(path.resolve(o.outDir), '%06d.mp4')
          ]
        : [])
    ]
  }

  /** Spawn ffmpeg. Returns `this`; throws if already started. */
  start (): this {
    if (this.endPromise) throw new Error('Segmenter already started')
    const o = this.options
    mkdirSync(o.outDir, { recursive: true })
    const args = this.args()
    o.logger?.debug?.(`segmenter: ${o.ffmpegPath} ${args.join(' ')}`)
    const child = trackProcess(spawn(o.ffmpegPath, args, { stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(o.fmp4 === true ? ['pipe' as const] : [])] }))
    this.child = child
    if (o.stdin && child.stdin) {
      const input = o.stdin
      // ffmpeg may exit before the input ends (stop(), a bad stream): its stdin then raises EPIPE.
      child.stdin.on('error', () => {})
      input.on('error', (e: Error) => {
        this.stderr.push(`input: ${e.message}\n`)
        child.stdin?.end()
      })
      input.pipe(child.stdin)
      child.once('close', () => {
        input.unpipe(child.stdin!)
        input.destroy()
      })
    }
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (s: string) => this.stderr.push(s))
    // Each closed segment is listed on fd 1 (.ts) and, with fmp4, on fd 3 (.mp4): a segment goes
    // out once both lines are in (both lists are in order, so pairs complete in order).
    const pending = new Map<number, { ts?: string, mp4?: string }>()
    const emit = (ts: string, mp4?: string): void => {
      this.chain = this.chain.then(() => this.onListLine(ts, mp4)).catch((e: unknown) => {
        o.logger?.warn?.(`segmenter: cannot read segment for "${ts}": ${(e as Error).message}`)
      })
    }
    const listed = (kind: 'ts' | 'mp4', line: string): void => {
      if (line.trim() === '') return
      if (kind === 'ts') this.listedTs++
      const index = listIndex(line)
      if (o.fmp4 !== true || index === null) { if (kind === 'ts') emit(line); return }
      const entry = pending.get(index) ?? {}
      entry[kind] = line
      if (entry.ts != null && entry.mp4 != null) {
        pending.delete(index)
        emit(entry.ts, entry.mp4)
      } else {
        pending.set(index, entry)
      }
    }
    createInterface({ input: child.stdout! }).on('line', (line) => { listed('ts', line) })
    const fd3 = child.stdio[3]
    if (fd3 != null && 'on' in fd3) createInterface({ input: fd3 as Readable }).on('line', (line) => { listed('mp4', line) })
    // ffmpeg gone: a .ts listed without its .mp4 still goes out (its CMAF tracks are remuxed).
    child.once('close', () => {
      for (const [, e] of [...pending].sort((a, b) => a[0] - b[0])) if (e.ts != null) emit(e.ts)
      pending.clear()
    })
    const stopWatch = this.watch(child)
    child.once('close', stopWatch)
    this.endPromise = new Promise<SegmenterEnd>((resolve) => {
      let spawnError: Error | null = null
      child.on('error', (e) => {
        spawnError = e
      })
      child.on('close', (code, signal) => {
        void this.chain.then(() => {
          const stderrTail = spawnError ? [spawnError.message] : this.stderr.tail()
          const end: SegmenterEnd = { code: spawnError ? null : code, signal, stderrTail, ...(this.refusal != null ? { refused: this.refusal } : {}) }
          this.result = end
          this.child = null
          o.logger?.info?.(`segmenter: ffmpeg exited code=${code} signal=${signal} after ${this.emitted} segments`)
          this.emit('end', end)
          resolve(end)
        })
      })
    })
    return this
  }

  /** Resolves with the 'end' payload once ffmpeg has exited (start() must have been called). */
  done (): Promise<SegmenterEnd> {
    if (!this.endPromise) return Promise.reject(new Error('Segmenter not started'))
    return this.endPromise
  }

  /**
   * Ask ffmpeg to finish (SIGINT: it closes and reports the current segment), SIGKILL after
   * `graceMs`. Resolves after the `'end'` event. Safe to call more than once or before start().
   */
  async stop (graceMs = 5000): Promise<void> {
    if (!this.endPromise) return
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      try {
        await this.endPromise
      } finally {
        clearTimeout(timer)
      }
    }
    await this.endPromise
  }

  /**
   * Polls the open segment's size and age; past a limit, refuses (see {@link refuse}). Returns
   * the function that stops the polls.
   */
  private watch (child: ChildProcess): () => void {
    const o = this.options
    const open = new OpenSegmentWatch(this.limits)
    let busy = false
    const timer = setInterval(() => {
      if (busy || this.refusal != null) return
      busy = true
      const index = (o.startNumber ?? 0) + this.listedTs
      stat(path.join(path.resolve(o.outDir), `${String(index).padStart(6, '0')}.ts`)).then(st => st.size, () => null).then(size => {
        // A line may have been listed while stat ran: that size belongs to a closed file (checked when it is read).
        if ((o.startNumber ?? 0) + this.listedTs !== index) return
        const refusal = open.observe(index, size, Date.now())
        if (refusal != null) this.refuse(refusal, index, child)
      }).finally(() => { busy = false })
    }, SEGMENT_WATCH_INTERVAL_MS)
    timer.unref()
    return () => { clearInterval(timer) }
  }

  /** Stops ffmpeg for good (SIGKILL: a SIGINT would have it close and list the oversized segment). */
  private refuse (refusal: SegmentRefusal, index: number, child: ChildProcess | null): void {
    if (this.refusal != null) return
    this.refusal = refusal
    this.refusedIndex = index
    this.options.logger?.warn?.(`segmenter: segment ${index}: ${refusal.message}; stopping`)
    child?.kill('SIGKILL')
  }

  private async onListLine (line: string, mp4Line?: string): Promise<void> {
    const parsed = parseCsvListLine(line)
    if (!parsed) {
      this.options.logger?.warn?.(`segmenter: unexpected segment list line "${line}"`)
      return
    }
    const file = path.resolve(this.options.outDir, parsed.name)
    const m = /(\d+)\.ts$/.exec(parsed.name)
    const index = m ? Number(m[1]) : (this.options.startNumber ?? 0) + this.emitted
    const reported = parsed.end - parsed.start
    if (index >= this.refusedIndex) return
    // The size and duration are checked before the file is read (it is read whole).
    const st = await stat(file)
    const refusal = checkSegment(st.size, reported, this.limits)
    if (refusal != null) { this.refuse(refusal, index, this.child); return }
    const span = videoSpanSec(await readTsVideoTimes(file))
    let startSec: number
    let durationSec: number
    if (span === null) {
      startSec = parsed.start
      durationSec = reported
    } else {
      startSec = span.startSec
      // ffmpeg's first list entry starts at the stream start (0), not at the first keyframe:
      // measure that one from the file itself. Later entries start at their cut keyframe.
      durationSec = this.emitted === 0 ? span.endSec - span.startSec : reported
    }
    durationSec = Math.round(durationSec * 1e6) / 1e6
    const info: SegmentInfo = {
      index,
      path: file,
      startSec,
      endSec: Math.round((startSec + durationSec) * 1e6) / 1e6,
      durationSec,
      size: st.size
    }
    const mp4 = mp4Line != null ? parseCsvListLine(mp4Line) : null
    if (mp4 != null) info.fmp4Path = path.resolve(this.options.outDir, mp4.name)
    this.emitted++
    this.emit('segment', info)
  }
}

/** The segment number in a CSV list line's file name (`000012.ts` → 12), or null. */
function listIndex (line: string): number | null {
  const name = parseCsvListLine(line)?.name
  const m = name != null ? /(\d+)\.(ts|mp4)$/.exec(name) : null
  return m ? Number(m[1]) : null
}

/** Parse one `-segment_list_type csv` line: `name,start,end` (name may be CSV-quoted). */
export function parseCsvListLine (line: string): { name: string; start: number; end: number } | null {
  let name: string
  let rest: string
  if (line.startsWith('"')) {
    const close = line.lastIndexOf('",')
    if (close < 1) return null
    name = line.slice(1, close).replace(/""/g, '"')
    rest = line.slice(close + 2)
  } else {
    const comma = line.indexOf(',')
    if (comma < 0) return null
    name = line.slice(0, comma)
    rest = line.slice(comma + 1)
  }
  const [a, b] = rest.split(',')
  const start = Number(a)
  const end = Number(b)
  if (!name || !Number.isFinite(start) || !Number.isFinite(end)) return null
  return { name, start, end }
}
