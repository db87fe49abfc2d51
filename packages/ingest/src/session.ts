import { createHash, randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { codecs, streamTopic, TOPIC_JOBS } from '@diststream/protocol'
import { measurePsnr, probeMedia, remuxToCmaf, Segmenter } from '@diststream/media'
import { AttemptInvalidError, Auction, DEFAULT_BID_K, dispatchJob, electionSize, judgeSpotCheck, LATE_FACTOR, selectBids, shouldSpotCheck, systemClock } from '@diststream/scheduler'
import { transcodeOn } from './transcode-client.js'
import type { IngestContext } from './context.js'
import type { AttemptOutput } from './transcode-client.js'
import type { JobAnnounce, Rendition, Rung } from '@diststream/protocol'
import type { ProbeResult, RungSpec, SegmentInfo, SegmenterEnd } from '@diststream/media'
import type { Bid } from '@diststream/scheduler'
import type { RenditionRecord, SegmentRecord, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'

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
  /** How long a job may wait for a free worker (ms); default the ingest's. A VOD waits longer. */
  maxQueueMs?: number
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
}

/**
 * One publish of one stream: feeds the RTMP publish (read in-process from
 * node-media-server) or a pulled source to ffmpeg, cuts it into segments, and takes each segment through
 * announce → bids → transcode → verify → store → announce-to-edges. Segments
 * are processed concurrently (different workers), and may complete out of
 * order; edges put them back in order.
 */
export class PublishSession {
  private segmenter: Segmenter
  /** Segmenter runs that failed before their first segment and were started again. */
  private restarts = 0
  private stopping = false
  private nextSeq: number
  private readonly firstSeq: number
  private source?: ProbeResult
  private ladder: RungSpec[] = []
  private pdtBase?: { wall: number, startSec: number }
  private readonly inflight = new Set<Promise<void>>()
  private readonly waiting: number[] = []
  /** How often each recent job was announced (the bid election widens with each). */
  private readonly announcements = new Map<string, number>()
  private readonly log: Logger
  private readonly abort = new AbortController()
  private done = 0
  private readonly ended: Promise<SessionEnd>
  private resolveEnded!: (end: SessionEnd) => void

  constructor (private readonly ctx: IngestContext, private stream: StreamRecord, input: string, workDir: string, private readonly opts: SessionOptions = {}) {
    this.log = ctx.logger.child({ streamId: stream.id })
    this.firstSeq = this.nextSeq = (stream.lastSeq ?? -1) + 1
    this.ended = new Promise(resolve => { this.resolveEnded = resolve })
    this.segmenter = this.newSegmenter(input, workDir)
  }

  /** Segments cut so far. */
  get cut (): number { return this.nextSeq - this.firstSeq }

  /**
   * Resolves once the input is over (the segmenter exited for good: end of
   * the source, an unreadable source, or {@link stop}) and every segment cut
   * was finished (transcoded or passed through, stored, announced).
   */
  async finished (): Promise<SessionEnd> {
    return await this.ended
  }

  private async settle (end: SegmenterEnd): Promise<void> {
    // Segments are emitted before 'end', so every segment is tracked by now; spot checks may add more.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    const failed = this.cut === 0 && !this.stopping && end.code !== 0
    this.resolveEnded({ segments: this.cut, ...(failed ? { error: (end.stderrTail.filter(l => l.trim() !== '').slice(-1)[0] ?? `ffmpeg exited with code ${String(end.code)}`).slice(0, 500) } : {}) })
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
      ...(stdin != null
        ? { stdin, inputArgs: ['-f', 'flv', ...(this.opts.inputArgs ?? [])], rwTimeoutMs: 0 }
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
      if (this.stopping || cut > 0 || end.code === 0 || this.restarts >= (this.opts.maxRestarts ?? MAX_SEGMENTER_RESTARTS)) {
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
      }, 500)
    })
    return seg
  }

  /** Called once the input is over (the segmenter exited: the publisher left or the input failed). */
  onInputEnd?: () => void

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

  private track (p: Promise<void>): void {
    this.inflight.add(p)
    p.catch(err => { this.log.error({ err }, 'segment processing failed') }).finally(() => this.inflight.delete(p))
  }

  private async onSegment (seg: SegmentInfo, closedAt: number): Promise<void> {
    const seq = this.nextSeq++
    this.opts.onProgress?.({ cut: this.cut, done: this.done })
    await this.slot()
    try {
      await this.process(seg, seq, closedAt)
    } finally {
      this.release()
    }
    this.done++
    this.opts.onProgress?.({ cut: this.cut, done: this.done })
  }

  private active = 0
  private readonly slotWaiters: Array<() => void> = []

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

  private async process (seg: SegmentInfo, seq: number, closedAt: number): Promise<void> {
    const ctx = this.ctx
    if (this.abort.signal.aborted) throw new Error('session killed')
    const bytes = await readFile(seg.path)
    const src = await this.probeSource(seg.path)
    const durationMs = Math.max(1, Math.round(seg.durationSec * 1000))
    const pdtBase = this.pdtBase ?? { wall: closedAt - durationMs, startSec: seg.startSec }
    const pdtMs = Math.round(pdtBase.wall + (seg.startSec - pdtBase.startSec) * 1000)
    const tsName = this.sourceTsName
    await ctx.store.files.adopt(seg.path, this.stream.id, tsName, seq)
    // CMAF: the source rendition players get is the segment remuxed to fMP4 (a stream copy); the
    // MPEG-TS cut stays in the store under SOURCE_TS for workers, spot checks and recovery.
    const record = (name: string, data: Uint8Array, fields: Pick<RenditionRecord, 'width' | 'height' | 'codecs'>, init: Pick<RenditionRecord, 'initSize' | 'initSha256'> = {}): RenditionRecord => ({
      name,
      ...fields,
      bandwidth: Math.round(data.byteLength * 8 / (durationMs / 1000) * 1.2),
      size: data.byteLength,
      sha256: createHash('sha256').update(data).digest('hex'),
      ...init
    })
    let renditions = [record('source', bytes, { width: src.width, height: src.height, codecs: src.codecs })]
    let mediaTime: number | undefined
    if (this.cmaf) {
      // CMAF tracks: the source video, and the one audio track every video rendition plays with.
      const input = ctx.store.files.path(this.stream.id, tsName, seq)
      const codecs = src.codecs.split(',')
      const video = await remuxToCmaf({ ffmpegPath: ctx.ffmpeg.ffmpeg, input, track: 'video', scratch: `${seg.path}.v.mp4`, signal: this.abort.signal })
      await ctx.store.files.write(this.stream.id, 'source', seq, video.bytes)
      mediaTime = video.firstDecodeTime
      renditions = [record('source', video.bytes, { width: src.width, height: src.height, codecs: codecs.find(c => !c.startsWith('mp4a')) ?? codecs[0]! }, { initSize: video.initSize, initSha256: video.initSha256 })]
      if (src.audioCodec != null) {
        const audio = await remuxToCmaf({ ffmpegPath: ctx.ffmpeg.ffmpeg, input, track: 'audio', scratch: `${seg.path}.a.mp4`, signal: this.abort.signal })
        await ctx.store.files.write(this.stream.id, AUDIO_RENDITION, seq, audio.bytes)
        renditions.push(record(AUDIO_RENDITION, audio.bytes, { width: 0, height: 0, codecs: codecs.find(c => c.startsWith('mp4a')) ?? 'mp4a.40.2' }, { initSize: audio.initSize, initSha256: audio.initSha256 }))
      }
    }
    // Recorded as pending before any work: if this node dies now, the next
    // start finds the segment (its source is in the store) and finishes it.
    const pending: SegmentRecord = { streamId: this.stream.id, seq, durationMs, pdtMs, discontinuity: seq === this.firstSeq && seq > 0, renditions, pending: true, ...(mediaTime != null ? { mediaTime } : {}) }
    await ctx.store.segments.put(pending)
    await ctx.onSegmentStored(this.stream, pending)
    await this.finish(pending, bytes, src, closedAt)
  }

  /**
   * Finishes a segment recorded as pending by a run of this node that died
   * (SIGKILL, power loss) before it was transcoded and announced.
   */
  async recover (pending: SegmentRecord): Promise<void> {
    const bytes = await this.ctx.store.files.read(pending.streamId, this.sourceTsName, pending.seq)
    if (bytes == null) {
      this.log.warn({ seq: pending.seq }, 'pending segment has no source on disk; dropping it')
      return
    }
    const src = await this.probeSource(this.ctx.store.files.path(pending.streamId, this.sourceTsName, pending.seq))
    this.log.info({ seq: pending.seq }, 'finishing a segment left pending by the last run')
    await this.finish({ ...pending, renditions: pending.renditions.filter(r => r.name === 'source' || r.name === AUDIO_RENDITION) }, bytes, src, Date.now())
  }

  /** The stream's renditions are fragmented MP4 (`--container cmaf`, kept on the stream record). */
  private get cmaf (): boolean { return this.stream.container === 'cmaf' }

  /** Where the MPEG-TS cut of each segment is stored: `source` itself, or SOURCE_TS for CMAF streams. */
  private get sourceTsName (): string { return this.cmaf ? SOURCE_TS : 'source' }

  private async probeSource (file: string): Promise<ProbeResult> {
    if (this.source == null) {
      const ctx = this.ctx
      this.source = await probeMedia(file, { ffprobePath: ctx.ffmpeg.ffprobe, ffmpegPath: ctx.ffmpeg.ffmpeg })
      this.ladder = ctx.fitLadder(this.source.width, this.source.height)
      this.stream = { ...this.stream, source: { width: this.source.width, height: this.source.height, videoCodec: this.source.videoCodec, audioCodec: this.source.audioCodec, fpsMilli: this.source.fpsMilli } }
    }
    return this.source
  }

  /** Transcodes (or passes through), stores the final record and announces it to edges. */
  private async finish (pending: SegmentRecord, bytes: Uint8Array, src: ProbeResult, closedAt: number): Promise<void> {
    const ctx = this.ctx
    const { seq, durationMs, pdtMs } = pending
    const renditions = [...await this.transcode(seq, durationMs, bytes, src), ...pending.renditions]
    const record: SegmentRecord = { streamId: pending.streamId, seq, durationMs, pdtMs, discontinuity: pending.discontinuity, renditions, ...(pending.mediaTime != null ? { mediaTime: pending.mediaTime } : {}) }
    await ctx.store.segments.put(record)
    ctx.metrics.segmentLatency.observe((Date.now() - closedAt) / 1000)
    await ctx.onSegmentStored(this.stream, record)
    await ctx.gossip.publish(streamTopic(this.stream.id), codecs.segmentAnnounce, {
      streamId: record.streamId,
      seq,
      durationMs,
      pdtMs,
      discontinuity: record.discontinuity,
      renditions: record.renditions.map(toWire),
      ...(record.mediaTime != null ? { mediaTime: record.mediaTime } : {})
    })
    this.log.debug({ seq, durationMs, renditions: renditions.map(r => r.name), ms: Date.now() - closedAt }, 'segment ready')
  }

  /**
   * Announces a job until workers bid on it. The session's waiting jobs form
   * a FIFO queue: only the oldest few (as many as there are workers) are on
   * the market at a time, re-announced every RETRY_MS while every worker is
   * busy, so a backlog drains in order instead of being passed through. The
   * source passes through only when no worker exists at all or the job has
   * waited `maxQueueMs`.
   */
  private async collectBids (job: JobAnnounce, maxQueueMs = this.ctx.maxQueueMs): Promise<Bid[]> {
    const ctx = this.ctx
    const queueUntil = Date.now() + maxQueueMs
    let announced = false
    this.waiting.push(job.seq)
    this.waiting.sort((a, b) => a - b)
    try {
      while (!this.abort.signal.aborted) {
        const workers = ctx.presence.withRole('worker')
        const known = workers.length + (ctx.localWorker ? 1 : 0)
        if (known === 0) return []
        if (this.waiting.indexOf(job.seq) < known) {
          const free = workers.filter(p => p.activeJobs < p.maxJobs).length
          // Workers elect k of the free ones to bid (k doubles on each announce of the job): expect that many.
          const n = (this.announcements.get(job.jobId) ?? 0) + 1
          this.announcements.set(job.jobId, n)
          if (this.announcements.size > 1000) this.announcements.delete(this.announcements.keys().next().value!)
          const expected = Math.min(free, electionSize(DEFAULT_BID_K, n))
          const auction = new Auction({ jobId: job.jobId, clock: systemClock, windowMs: ctx.bidWindowMs, expectedBids: expected > 0 && !ctx.localWorker ? expected : undefined })
          ctx.auctions.set(job.jobId, auction)
          const now = Date.now()
          if (!announced) ctx.metrics.announced.inc()
          announced = true
          try {
            await ctx.gossip.publish(TOPIC_JOBS, codecs.jobAnnounce, { ...job, issuedAtMs: now, deadlineMs: now + (job.deadlineMs - job.issuedAtMs) })
          } catch (err) {
            this.log.debug({ err }, 'job publish failed')
          }
          const bids = await auction.result
          ctx.auctions.delete(job.jobId)
          if (bids.length > 0) return bids
        }
        if (Date.now() + RETRY_MS >= queueUntil) return []
        await new Promise(resolve => setTimeout(resolve, RETRY_MS))
      }
      return []
    } finally {
      this.waiting.splice(this.waiting.indexOf(job.seq), 1)
    }
  }

  /** Runs the job market for one segment; returns the verified renditions (stored), or [] to pass the source through. */
  private async transcode (seq: number, durationMs: number, bytes: Uint8Array, src: ProbeResult): Promise<RenditionRecord[]> {
    const ctx = this.ctx
    if (this.ladder.length === 0) return []
    const jobId = randomUUID().replaceAll('-', '').slice(0, 24)
    const now = Date.now()
    const ladder: Rung[] = this.ladder.map(r => ({ name: r.name, width: r.width, height: r.height, videoKbps: r.videoKbps }))
    const job: JobAnnounce = {
      jobId,
      streamId: this.stream.id,
      seq,
      durationMs,
      size: bytes.byteLength,
      width: src.width,
      height: src.height,
      videoCodec: src.videoCodec,
      audioCodec: src.audioCodec ?? '',
      fpsMilli: src.fpsMilli,
      ladder,
      deadlineMs: now + Math.max(8000, durationMs * 4),
      issuedAtMs: now,
      ...(this.cmaf ? { container: 'cmaf' } : {})
    }
    ctx.ledger.create({ jobId, streamId: this.stream.id, seq, createdAt: now })
    ctx.ledger.setState(jobId, 'bidding')
    const bids = await this.collectBids(job, this.opts.maxQueueMs ?? ctx.maxQueueMs)
    if (bids.length === 0) {
      ctx.ledger.setState(jobId, 'passthrough')
      ctx.metrics.passthrough.inc()
      return []
    }
    const order = (list: readonly Bid[]): Bid[] => {
      // Untried workers first, else a weighted random draw by expected completion, reputation
      // and price, then ranked fallbacks; suspended workers go last: tried only when nobody else can.
      const ranked = selectBids(list, { reputation: p => ctx.workers.score(p), lastAssigned: ctx.lastAssigned, slackMs: durationMs / 4, maxMs: durationMs * 2 })
      return [...ranked.filter(b => !ctx.workers.suspended(b.peerId)), ...ranked.filter(b => ctx.workers.suspended(b.peerId))]
    }
    const ordered = order(bids)
    const outputs = new Set<AttemptOutput>()
    const started = new Map<string, number>()
    try {
      const { result, bid, hedged } = await dispatchJob({
        bids: ordered,
        maxAttempts: ctx.maxAttempts,
        clock: systemClock,
        signal: this.abort.signal,
        // Late against its own estimate (with room for moving the bytes and verifying):
        // a duplicate starts on the next bidder and both race. The hard deadline is
        // far later, so a merely slow worker (an overloaded machine) can still
        // deliver when nobody else can; a dead one fails at once (broken stream).
        hedgeAfter: (b) => b.estimateMs * LATE_FACTOR + 500 + durationMs / 4,
        deadlineFor: (b) => Math.max(b.estimateMs * 6, durationMs * 5) + 4000,
        rebid: async (tried) => {
          ctx.metrics.rebids.inc()
          const fresh = await this.collectBids(job, Math.min(ctx.maxQueueMs, durationMs * 3))
          return order(fresh.filter(b => !tried.has(b.peerId)))
        },
        attempt: async (b, signal) => {
          const out = await transcodeOn(ctx, b.peerId, job, bytes, signal)
          if (signal.aborted) { await out.discard(); throw signal.reason }
          outputs.add(out)
          return out
        },
        onAttemptStart: (b, n, hedge) => {
          if (n > 1) ctx.metrics.reassigned.inc()
          if (hedge) ctx.metrics.hedged.inc()
          started.set(b.peerId, Date.now())
          ctx.ledger.startAttempt(jobId, b.peerId, Date.now())
          ctx.markAssigned(b.peerId)
        },
        onAttempt: (b, outcome, reason) => {
          const at = Date.now()
          ctx.ledger.endAttempt(jobId, outcome, reason, at, b.peerId)
          ctx.workers.observe(b.peerId, { outcome, elapsedMs: at - (started.get(b.peerId) ?? at), estimateMs: b.estimateMs })
          if (outcome !== 'ok' && outcome !== 'cancelled') this.log.info({ seq, worker: b.peerId, outcome, reason }, 'attempt failed')
        }
      })
      const records: RenditionRecord[] = []
      for (const r of result.renditions) {
        await ctx.store.files.adopt(r.file, this.stream.id, r.record.name, seq)
        records.push(r.record)
      }
      ctx.ledger.complete(jobId, Date.now(), bid.peerId)
      ctx.metrics.completed.inc()
      this.log.debug({ seq, worker: bid.peerId, hedged }, 'job done')
      // A checker that has not touched this job and had room when it bid; a busy one answers BUSY (inconclusive).
      const other = ordered.find(b => !started.has(b.peerId) && b.activeJobs < b.maxJobs && !ctx.workers.suspended(b.peerId))
      if (other !== undefined && shouldSpotCheck(ctx.spotCheckRate)) this.track(this.spotCheck(job, bytes, bid.peerId, other))
      return records
    } catch (err: any) {
      ctx.ledger.fail(jobId, String(err?.message ?? err), Date.now())
      ctx.metrics.failed.inc()
      this.log.warn({ seq, err: err?.message }, 'job failed on every bidder; passing the source through')
      return []
    } finally {
      for (const o of outputs) await o.discard()
    }
  }

  /**
   * Runs an already-done job again on a second worker and compares both
   * against the source by PSNR on the smallest rung (cheap, and enough to
   * tell a transcode of this picture from anything else). The worker that
   * falls out of line loses reputation; the segment already served stays.
   */
  private async spotCheck (job: JobAnnounce, bytes: Uint8Array, first: string, bid: Bid): Promise<void> {
    const ctx = this.ctx
    const rung = [...job.ladder].sort((a, b) => a.width * a.height - b.width * b.height)[0]!
    const source = ctx.store.files.path(job.streamId, this.sourceTsName, job.seq)
    const firstFile = ctx.store.files.path(job.streamId, rung.name, job.seq)
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(Math.max(20_000, job.durationMs * 10))])
    let out: AttemptOutput | undefined
    let verdict: string
    try {
      // The same job id: workers take only jobs they bid on, and this one did.
      out = await transcodeOn(ctx, bid.peerId, job, bytes, signal, 'spot')
      const second = out.renditions.find(r => r.record.name === rung.name)!.file
      const opts = { ffmpegPath: ctx.ffmpeg.ffmpeg, width: rung.width, height: rung.height, signal }
      const [a, b] = await Promise.all([measurePsnr(firstFile, source, opts), measurePsnr(second, source, opts)])
      verdict = judgeSpotCheck(a, b)
      this.log.info({ seq: job.seq, first, second: bid.peerId, psnr: [a, b], verdict }, 'spot check')
      if (verdict === 'first-bad' || verdict === 'both-bad') ctx.workers.penalise(first)
      if (verdict === 'second-bad' || verdict === 'both-bad') ctx.workers.penalise(bid.peerId)
    } catch (err: any) {
      if (this.abort.signal.aborted) return
      // The checker's own failure is its fault, not the first worker's: bad output, or no answer in time.
      verdict = err instanceof AttemptInvalidError ? 'second-bad' : 'inconclusive'
      if (verdict === 'second-bad') ctx.workers.penalise(bid.peerId)
      else if (signal.aborted) ctx.workers.observe(bid.peerId, { outcome: 'timeout' })
      this.log.info({ seq: job.seq, first, second: bid.peerId, err: err?.message, verdict }, 'spot check')
    } finally {
      await out?.discard()
    }
    ctx.metrics.spotChecks.inc({ verdict })
  }
}

/** Jobs of this session waiting for bids, oldest first: the queue. */
const RETRY_MS = 200
const MAX_SEGMENTER_RESTARTS = 5
/** A CMAF stream's MPEG-TS cuts in the store (not a rendition players see). */
export const SOURCE_TS = 'source-ts'
/** A CMAF stream's audio track (the source's audio, remuxed by the ingest; every video rendition plays with it). */
export const AUDIO_RENDITION = 'audio'

export function toWire (r: RenditionRecord): Rendition {
  return {
    name: r.name,
    width: r.width,
    height: r.height,
    bandwidth: r.bandwidth,
    codecs: r.codecs,
    size: r.size,
    sha256: Buffer.from(r.sha256, 'hex'),
    ...(r.initSize != null && r.initSha256 != null ? { initSize: r.initSize, initSha256: Buffer.from(r.initSha256, 'hex') } : {})
  }
}
