import { join } from 'node:path'
import { Segmenter } from '@diststream/media'
import { SegmentPipeline } from './segment.js'
import type { PdtBase } from './segment.js'
import type { RungState } from '@diststream/scheduler'
import type { IngestContext } from '../types.js'
import type { SegmentInfo, SegmenterEnd, SegmentRefusal } from '@diststream/media'
import type { SegmentRecord, StreamRecord } from '@diststream/store'
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'

/** Segmenter runs started again after failing before their first segment, by default. */
export const MAX_SEGMENTER_RESTARTS = 5
/** Pause before a failed segmenter is started again (ms): a source that is coming up gets a moment. */
export const SEGMENTER_RESTART_DELAY_MS = 500
/** Longest error reason kept from ffmpeg's stderr (characters). */
const MAX_ERROR_LENGTH = 500

/** How a session reads its input (a URL or file ffmpeg opens, or FLV bytes from {@link SessionOptions.openStdin}). */
export interface SessionOptions {
  /** Extra ffmpeg input options before `-i` (e.g. `['-re']` to read a file at its native rate). */
  inputArgs?: string[]
  /** ffmpeg `-rw_timeout` (ms); default 3000. */
  rwTimeoutMs?: number
  /**
   * The input as FLV bytes on ffmpeg's stdin instead of a URL (the RTMP
   * publish read in-process); called again for each segmenter restart.
   */
  openStdin?: () => Readable & { attachedAt?: number, fromStart?: boolean }
  /** ffmpeg's `-f` for {@link openStdin}'s bytes: `flv` (RTMP, the default) or `mpegts` (WHIP's RTP bridge). */
  stdinFormat?: 'flv' | 'mpegts'
  /** How long a job may wait for a free worker (ms); default the ingest's. A VOD waits longer. */
  maxQueueMs?: number
  /** A VOD: every rung of every segment, on every worker (a live stream sheds rungs when workers cannot keep up). */
  vod?: boolean
  /** Segmenter runs started again after failing before their first segment (default 5). */
  maxRestarts?: number
  /**
   * Most segments read and in the market at once (default unbounded: a live
   * input is paced by itself). A VOD is cut all at once; this keeps its
   * segments on disk, not in memory, until their turn.
   */
  maxInflight?: number
  /** Called after each segment is cut (`cut` so far) and after each is finished (`done`). */
  onProgress?: (p: { cut: number, done: number }) => void
}

/** How a session ended: segments it cut, and why it failed when it cut none. */
export interface SessionEnd {
  segments: number
  /** Set when ffmpeg could not read the input at all (its last stderr line). */
  error?: string
  /** Set when the segmenter stopped the input: a segment passed its bounds (review M3). */
  refused?: SegmentRefusal
}

/**
 * One publish of one stream: feeds the RTMP publish (read in-process from
 * node-media-server) or a pulled source to ffmpeg, cuts it into segments, and takes each segment through
 * announce → bids → transcode → verify → store → announce-to-edges
 * ({@link SegmentPipeline}). Segments are processed concurrently (different
 * workers), and may complete out of order; edges put them back in order.
 */
export class PublishSession {
  /** Called once the input is over (the segmenter exited: the publisher left or the input failed). */
  onInputEnd?: () => void
  private segmenter: Segmenter
  /** Segmenter runs that failed before their first segment and were started again. */
  private restarts = 0
  private stopping = false
  private nextSeq: number
  private readonly firstSeq: number
  private pdtBase?: PdtBase
  private readonly inflight = new Set<Promise<void>>()
  /** Segments holding a processing slot (`maxInflight`), and those waiting for one, first come first served. */
  private active = 0
  private readonly slotWaiters: Array<() => void> = []
  private readonly log: Logger
  private readonly abort = new AbortController()
  private readonly pipeline: SegmentPipeline
  private done = 0
  private readonly ended: Promise<SessionEnd>
  private resolveEnded!: (end: SessionEnd) => void

  private readonly cmaf: boolean
  private refused?: SegmentRefusal

  constructor (private readonly ctx: IngestContext, stream: StreamRecord, input: string, workDir: string, private readonly opts: SessionOptions = {}) {
    this.cmaf = stream.container === 'cmaf'
    this.log = ctx.logger.child({ streamId: stream.id })
    this.firstSeq = this.nextSeq = (stream.lastSeq ?? -1) + 1
    this.ended = new Promise(resolve => { this.resolveEnded = resolve })
    this.pipeline = new SegmentPipeline({ ctx, log: this.log, signal: this.abort.signal, firstSeq: this.firstSeq, track: (p) => { this.track(p) }, shed: opts.vod !== true, ...(opts.maxQueueMs != null ? { maxQueueMs: opts.maxQueueMs } : {}) }, stream)
    this.segmenter = this.newSegmenter(input, workDir)
  }

  /** Segments cut so far. */
  get cut (): number { return this.nextSeq - this.firstSeq }

  /** Why the segmenter stopped the input, if it did (a segment too long or too large). */
  get refusal (): SegmentRefusal | undefined { return this.refused }

  /**
   * Resolves once the input is over (the segmenter exited for good: end of
   * the source, an unreadable source, or {@link stop}) and every segment cut
   * was finished (transcoded or passed through, stored, announced).
   */
  async finished (): Promise<SessionEnd> {
    return await this.ended
  }

  /** A live stream's rungs, costliest first, and whether each is transcoded now (undefined for a VOD, or before the first segment). */
  rungState (): RungState[] | undefined {
    return this.pipeline.rungState()
  }

  start (): void {
    this.segmenter.start()
  }

  /** Stops cutting, lets segments in flight finish. */
  async stop (): Promise<void> {
    this.stopping = true
    await this.segmenter.stop()
    await Promise.allSettled([...this.inflight])
  }

  /** Stops at once, abandoning segments in flight. */
  async kill (): Promise<void> {
    this.abort.abort()
    await this.stop()
  }

  /**
   * Finishes a segment recorded as pending by a run of this node that died
   * (SIGKILL, power loss) before it was transcoded and announced.
   */
  async recover (pending: SegmentRecord): Promise<void> {
    await this.pipeline.recover(pending)
  }

  private async settle (end: SegmenterEnd): Promise<void> {
    // Segments are emitted before 'end', so every segment is tracked by now; spot checks may add more.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    const failed = this.cut === 0 && !this.stopping && end.code !== 0 && this.refused == null
    this.resolveEnded({ segments: this.cut, ...(this.refused != null ? { refused: this.refused } : {}), ...(failed ? { error: (end.stderrTail.filter(l => l.trim() !== '').slice(-1)[0] ?? `ffmpeg exited with code ${String(end.code)}`).slice(0, MAX_ERROR_LENGTH) } : {}) })
  }

  /**
   * One ffmpeg cutting the input. If it fails before its first segment (an
   * unreachable pulled source that comes up, a publish whose first bytes it
   * could not parse), it is started again, a few times, while the input lasts;
   * a restarted read of a publish starts on its cached GOP.
   */
  private newSegmenter (input: string, workDir: string): Segmenter {
    const stdin = this.opts.openStdin?.()
    const seg = new Segmenter({
      ffmpegPath: this.ctx.ffmpeg.ffmpeg,
      input: stdin != null ? 'pipe:0' : input,
      outDir: join(workDir, `run${this.restarts}`),
      segmentSeconds: this.ctx.segmentSeconds,
      // CMAF streams: the segmenter writes the source and audio tracks too (no remux per segment).
      fmp4: this.cmaf,
      ...(stdin != null
        ? { stdin, inputArgs: ['-f', this.opts.stdinFormat ?? 'flv', ...(this.opts.inputArgs ?? [])], rwTimeoutMs: 0 }
        : {
            ...(this.opts.inputArgs != null ? { inputArgs: this.opts.inputArgs } : {}),
            ...(this.opts.rwTimeoutMs != null ? { rwTimeoutMs: this.opts.rwTimeoutMs } : {})
          })
    })
    let cut = 0
    seg.on('segment', (info: SegmentInfo) => {
      const closedAt = Date.now()
      // Program date-time: wall clock of the first segment's first frame. A reader that saw the
      // publish from its start knows it (it attached just before); otherwise it is the first close
      // minus the segment's length, late by ffmpeg's read-ahead (~0.3 s).
      this.pdtBase ??= { wall: stdin?.fromStart === true && stdin.attachedAt != null ? stdin.attachedAt : closedAt - Math.max(1, Math.round(info.durationSec * 1000)), startSec: info.startSec }
      cut++
      this.track(this.onSegment(info, closedAt))
    })
    seg.on('end', (end: SegmenterEnd) => {
      this.log.info({ exit: end }, 'segmenter ended')
      if (end.refused != null) {
        // Final: the same input would be refused again. Segments cut before it stay.
        this.refused = end.refused
        this.ctx.metrics.publishesRefused.inc({ why: end.refused.why })
        this.log.warn({ why: end.refused.why, segments: this.cut }, `input stopped: ${end.refused.message}`)
      }
      if (this.stopping || end.refused != null || cut > 0 || end.code === 0 || this.restarts >= (this.opts.maxRestarts ?? MAX_SEGMENTER_RESTARTS)) {
        this.onInputEnd?.()
        void this.settle(end)
        return
      }
      this.restarts++
      this.log.warn({ attempt: this.restarts, err: end.stderrTail.slice(-1)[0] }, 'segmenter could not read the publish; starting it again')
      setTimeout(() => {
        if (this.stopping) { void this.settle(end); return }
        this.segmenter = this.newSegmenter(input, workDir)
        this.segmenter.start()
      }, SEGMENTER_RESTART_DELAY_MS)
    })
    return seg
  }

  private track (p: Promise<void>): void {
    this.inflight.add(p)
    p.catch(err => { this.log.error({ err }, 'segment processing failed') }).finally(() => this.inflight.delete(p))
  }

  private async onSegment (seg: SegmentInfo, closedAt: number): Promise<void> {
    const seq = this.nextSeq++
    this.opts.onProgress?.({ cut: this.cut, done: this.done })
    await this.slot()
    try {
      await this.pipeline.process(seg, seq, closedAt, this.pdtBase)
    } finally {
      this.release()
    }
    this.done++
    this.opts.onProgress?.({ cut: this.cut, done: this.done })
  }

  /** Waits for a free processing slot (`maxInflight`), first come first served. */
  private async slot (): Promise<void> {
    const max = this.opts.maxInflight ?? Infinity
    if (this.active < max && this.slotWaiters.length === 0) { this.active++; return }
    await new Promise<void>(resolve => { this.slotWaiters.push(resolve) })
  }

  private release (): void {
    const next = this.slotWaiters.shift()
    if (next != null) next()
    else this.active--
  }
}
