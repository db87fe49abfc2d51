import { createHash, randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { codecs, streamTopic, TOPIC_JOBS } from '@diststream/protocol'
import { probeMedia, Segmenter } from '@diststream/media'
import { Auction, dispatchJob, rankBids, spreadLoad, systemClock } from '@diststream/scheduler'
import { transcodeOn } from './transcode-client.js'
import type { IngestContext } from './context.js'
import type { JobAnnounce, Rendition, Rung } from '@diststream/protocol'
import type { ProbeResult, RungSpec, SegmentInfo } from '@diststream/media'
import type { Bid } from '@diststream/scheduler'
import type { RenditionRecord, SegmentRecord, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'

/**
 * One publish of one stream: reads the RTMP stream back from the local
 * server with ffmpeg, cuts it into segments, and takes each segment through
 * announce → bids → transcode → verify → store → announce-to-edges. Segments
 * are processed concurrently (different workers), and may complete out of
 * order; edges put them back in order.
 */
export class PublishSession {
  private readonly segmenter: Segmenter
  private nextSeq: number
  private readonly firstSeq: number
  private source?: ProbeResult
  private ladder: RungSpec[] = []
  private pdtBase?: { wall: number, startSec: number }
  private readonly inflight = new Set<Promise<void>>()
  private readonly waiting: number[] = []
  private readonly log: Logger
  private readonly abort = new AbortController()

  constructor (private readonly ctx: IngestContext, private stream: StreamRecord, rtmpUrl: string, workDir: string) {
    this.log = ctx.logger.child({ streamId: stream.id })
    this.firstSeq = this.nextSeq = (stream.lastSeq ?? -1) + 1
    this.segmenter = new Segmenter({ ffmpegPath: ctx.ffmpeg.ffmpeg, input: rtmpUrl, outDir: workDir, segmentSeconds: ctx.segmentSeconds })
    this.segmenter.on('segment', (seg: SegmentInfo) => { this.track(this.onSegment(seg, Date.now())) })
    this.segmenter.on('end', (...args: unknown[]) => {
      this.log.info({ exit: args[0] }, 'segmenter ended')
      this.onInputEnd?.()
    })
  }

  /** Called once the input is over (the segmenter exited: the publisher left or the input failed). */
  onInputEnd?: () => void

  start (): void {
    this.segmenter.start()
  }

  /** Stops cutting, lets segments in flight finish. */
  async stop (): Promise<void> {
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
    const ctx = this.ctx
    const seq = this.nextSeq++
    const bytes = await readFile(seg.path)
    if (this.source == null) {
      this.source = await probeMedia(seg.path, { ffprobePath: ctx.ffmpeg.ffprobe, ffmpegPath: ctx.ffmpeg.ffmpeg })
      this.ladder = ctx.fitLadder(this.source.width, this.source.height)
      this.stream = { ...this.stream, source: { width: this.source.width, height: this.source.height, videoCodec: this.source.videoCodec, audioCodec: this.source.audioCodec, fpsMilli: this.source.fpsMilli } }
    }
    const src = this.source
    const durationMs = Math.max(1, Math.round(seg.durationSec * 1000))
    this.pdtBase ??= { wall: closedAt - durationMs, startSec: seg.startSec }
    const pdtMs = Math.round(this.pdtBase.wall + (seg.startSec - this.pdtBase.startSec) * 1000)
    await ctx.store.files.adopt(seg.path, this.stream.id, 'source', seq)
    const source: RenditionRecord = {
      name: 'source',
      width: src.width,
      height: src.height,
      bandwidth: Math.round(bytes.byteLength * 8 / (durationMs / 1000) * 1.2),
      codecs: src.codecs,
      size: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex')
    }
    const renditions = [...await this.transcode(seq, durationMs, bytes, src), source]
    const record: SegmentRecord = { streamId: this.stream.id, seq, durationMs, pdtMs, discontinuity: seq === this.firstSeq && seq > 0, renditions }
    await ctx.store.segments.put(record)
    ctx.metrics.segmentLatency.observe((Date.now() - closedAt) / 1000)
    await ctx.onSegmentStored(this.stream, record)
    await ctx.gossip.publish(streamTopic(this.stream.id), codecs.segmentAnnounce, {
      streamId: record.streamId,
      seq,
      durationMs,
      pdtMs,
      discontinuity: record.discontinuity,
      renditions: record.renditions.map(toWire)
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
  private async collectBids (job: JobAnnounce): Promise<Bid[]> {
    const ctx = this.ctx
    const queueUntil = Date.now() + ctx.maxQueueMs
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
          const auction = new Auction({ jobId: job.jobId, clock: systemClock, windowMs: ctx.bidWindowMs, expectedBids: free > 0 && !ctx.localWorker ? free : undefined })
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

  /** Runs the job market for one segment; returns the verified renditions, or [] to pass the source through. */
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
      issuedAtMs: now
    }
    ctx.ledger.create({ jobId, streamId: this.stream.id, seq, createdAt: now })
    ctx.ledger.setState(jobId, 'bidding')
    const bids = await this.collectBids(job)
    if (bids.length === 0) {
      ctx.ledger.setState(jobId, 'passthrough')
      ctx.metrics.passthrough.inc()
      return []
    }
    let attempts = 0
    try {
      const { result, bid } = await dispatchJob({
        bids: spreadLoad(rankBids(bids, { reputation: ctx.reputation }), { reputation: ctx.reputation, lastAssigned: ctx.lastAssigned, slackMs: durationMs / 4 }),
        maxAttempts: ctx.maxAttempts,
        clock: systemClock,
        signal: this.abort.signal,
        deadlineFor: (b) => Math.max(b.estimateMs * 3, durationMs * 2) + 2000,
        attempt: async (b, signal) => {
          attempts++
          if (attempts > 1) ctx.metrics.reassigned.inc()
          ctx.ledger.startAttempt(jobId, b.peerId, Date.now())
          ctx.markAssigned(b.peerId)
          return await transcodeOn(ctx, b.peerId, job, bytes, signal)
        },
        onAttempt: (b, outcome, reason) => {
          ctx.ledger.endAttempt(jobId, outcome, reason, Date.now())
          ctx.recordOutcome(b.peerId, outcome)
        }
      })
      ctx.ledger.complete(jobId, Date.now())
      ctx.metrics.completed.inc()
      this.log.debug({ seq, worker: bid.peerId }, 'job done')
      return result
    } catch (err: any) {
      ctx.ledger.fail(jobId, String(err?.message ?? err), Date.now())
      ctx.metrics.failed.inc()
      this.log.warn({ seq, err: err?.message }, 'job failed on every bidder; passing the source through')
      return []
    }
  }
}

/** Jobs of this session waiting for bids, oldest first: the queue. */
const RETRY_MS = 200

export function toWire (r: RenditionRecord): Rendition {
  return { name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, size: r.size, sha256: Buffer.from(r.sha256, 'hex') }
}
