import { randomUUID } from 'node:crypto'
import { codecs, TOPIC_JOBS } from '@diststream/protocol'
import { atCapacity, attemptDeadlineMs, Auction, DEFAULT_BID_K, DispatchError, dispatchJob, electionSize, hedgeAfterMs, RungShedder, selectBids, shouldSpotCheck, systemClock } from '@diststream/scheduler'
import { BoundedMap } from '@diststream/util'
import { transcodeOn } from '../transcode-client.js'
import { runSpotCheck } from './spot-check.js'
import type { AttemptOutput } from '../transcode-client.js'
import type { IngestContext } from '../types.js'
import type { JobAnnounce, Rung } from '@diststream/protocol'
import type { ProbeResult, RungSpec } from '@diststream/media'
import type { Bid, ShedState } from '@diststream/scheduler'
import type { RenditionRecord } from '@diststream/store'
import type { Logger } from 'pino'

/**
 * While every worker is busy, a queued job is announced again at the latest
 * this often (ms); it goes back on the market at once when capacity appears
 * ({@link CapacitySignal}: an attempt of ours ended, presence shows a free slot).
 */
export const RETRY_MS = 200
/**
 * An auction closes as soon as this many bids are in: one to run the job and
 * one in hand for a busy refusal or a hedge. More bids only cost time.
 */
export const FIRST_BIDS_K = 2
/**
 * Once the first bid is in, the auction waits at most this much longer for
 * the others (ms): an elected worker that turned busy stays quiet, and the
 * job must not wait out the whole bid window for it.
 */
export const FIRST_BID_GRACE_MS = 25
/** Recent jobs whose announce count is kept (the bid election widens with each announce). */
const MAX_ANNOUNCED_JOBS = 1000
/** A job's deadline is at least this far out (ms)… */
const JOB_MIN_DEADLINE_MS = 8000
/** …or this many segment durations. */
const JOB_DEADLINE_DURATIONS = 4

export interface JobRunnerDeps {
  ctx: IngestContext
  log: Logger
  /** The session's: a killed session stops collecting bids and abandons its attempts. */
  signal: AbortSignal
  streamId: string
  /** The stream's renditions are fragmented MP4. */
  cmaf: boolean
  /** Where the segment's MPEG-TS cut is stored (for spot checks). */
  sourceTsName: string
  /** How long a job may wait for a free worker (ms); default the ingest's. */
  maxQueueMs?: number
  /** Keeps background work (spot checks) in the session's in-flight set. */
  track: (p: Promise<void>) => void
  /** A live stream: shed the costliest rungs when segments fall behind (RungShedder); not for a VOD. */
  shed?: boolean
}

/**
 * The job market of one session: announce a segment's job, collect bids,
 * run the attempts (reassigning and hedging), and adopt the verified
 * renditions into the store.
 */
export class JobRunner {
  /** Jobs of this session waiting for bids, oldest first: the queue. */
  readonly #waiting: number[] = []
  /** How often each recent job was announced (the bid election widens with each). */
  readonly #announcements = new BoundedMap<string, number>(MAX_ANNOUNCED_JOBS)
  readonly #deps: JobRunnerDeps
  /** Live streams: which rungs the next job asks for (made with the first ladder). */
  #shedder?: RungShedder

  constructor (deps: JobRunnerDeps) {
    this.#deps = deps
  }

  /** Runs the job market for one segment; returns the verified renditions (stored), or [] to pass the source through. */
  async transcode (seq: number, durationMs: number, bytes: Uint8Array, src: ProbeResult, full: RungSpec[], closedAt = Date.now()): Promise<RenditionRecord[]> {
    if (this.#deps.shed !== true || full.length === 0) return await this.runJob(seq, durationMs, bytes, src, full)
    if (this.#shedder === undefined) {
      // Costliest first; a rung's cost taken as its pixels per frame.
      const byCost = [...full].sort((a, b) => b.width * b.height - a.width * a.height)
      this.#shedder = new RungShedder({ rungs: byCost.map(r => r.name), weights: byCost.map(r => r.width * r.height), segmentMs: durationMs })
    }
    const shedder = this.#shedder
    const live = new Set(shedder.live())
    const ladder = full.filter(r => live.has(r.name))
    if (ladder.length < full.length) this.#deps.ctx.metrics.shedRungs.inc(full.length - ladder.length)
    shedder.begin(seq, closedAt)
    try {
      return await this.runJob(seq, durationMs, bytes, src, ladder)
    } finally {
      shedder.end(seq)
    }
  }

  /** Live rungs and shed rungs now (undefined for a VOD, or before the first segment). */
  rungState (): ShedState | undefined { return this.#shedder?.state() }

  /** The job market for one segment and `ladder`. */
  private async runJob (seq: number, durationMs: number, bytes: Uint8Array, src: ProbeResult, ladder: RungSpec[]): Promise<RenditionRecord[]> {
    const { ctx, log } = this.#deps
    if (ladder.length === 0) return []
    const job = this.buildJob(seq, durationMs, bytes, src, ladder)
    ctx.ledger.create({ jobId: job.jobId, streamId: job.streamId, seq, createdAt: job.issuedAtMs })
    ctx.ledger.setState(job.jobId, 'bidding')
    const bids = await this.collectBids(job, this.#deps.maxQueueMs ?? ctx.maxQueueMs)
    if (bids.length === 0) {
      ctx.ledger.setState(job.jobId, 'passthrough')
      ctx.metrics.passthrough.inc()
      return []
    }
    const ordered = this.orderBids(bids, durationMs)
    const outputs = new Set<AttemptOutput>()
    const started = new Map<string, number>()
    try {
      const { result, bid, hedged } = await this.dispatch(job, ordered, bytes, outputs, started)
      const records = await this.adoptRenditions(result, seq)
      ctx.ledger.complete(job.jobId, Date.now(), bid.peerId)
      ctx.metrics.completed.inc()
      log.debug({ seq, worker: bid.peerId, hedged }, 'job done')
      // A checker that has not touched this job and had room when it bid; a busy one answers BUSY (inconclusive).
      const other = ordered.find(b => !started.has(b.peerId) && b.activeJobs < b.maxJobs && !ctx.workers.suspended(b.peerId))
      if (other !== undefined && shouldSpotCheck(ctx.spotCheckRate)) {
        this.#deps.track(runSpotCheck({ ctx, log, signal: this.#deps.signal, sourceTsName: this.#deps.sourceTsName }, job, bytes, bid.peerId, other))
      }
      return records
    } catch (err: any) {
      ctx.ledger.fail(job.jobId, String(err?.message ?? err), Date.now())
      ctx.metrics.failed.inc()
      log.warn({ seq, err: err?.message }, 'job failed on every bidder; passing the source through')
      return []
    } finally {
      for (const o of outputs) await o.discard()
    }
  }

  /** The job announced for one segment: its source, the ladder that fits it, a deadline. */
  private buildJob (seq: number, durationMs: number, bytes: Uint8Array, src: ProbeResult, ladder: RungSpec[]): JobAnnounce {
    const now = Date.now()
    const rungs: Rung[] = ladder.map(r => ({ name: r.name, width: r.width, height: r.height, videoKbps: r.videoKbps }))
    return {
      jobId: randomUUID().replaceAll('-', '').slice(0, 24),
      streamId: this.#deps.streamId,
      seq,
      durationMs,
      size: bytes.byteLength,
      width: src.width,
      height: src.height,
      videoCodec: src.videoCodec,
      audioCodec: src.audioCodec ?? '',
      fpsMilli: src.fpsMilli,
      ladder: rungs,
      deadlineMs: now + Math.max(JOB_MIN_DEADLINE_MS, durationMs * JOB_DEADLINE_DURATIONS),
      issuedAtMs: now,
      ...(this.#deps.cmaf ? { container: 'cmaf' } : {})
    }
  }

  /**
   * Untried workers first, else a weighted random draw by expected completion, reputation
   * and price, then ranked fallbacks; suspended workers go last: tried only when nobody else can.
   */
  private orderBids (list: readonly Bid[], durationMs: number): Bid[] {
    const { ctx } = this.#deps
    const ranked = selectBids(list, { reputation: p => ctx.workers.score(p), lastAssigned: ctx.lastAssigned, newcomerWin: ctx.newcomerWin, durationMs, slackMs: durationMs / 4, maxMs: durationMs * 2 })
    return [...ranked.filter(b => !ctx.workers.suspended(b.peerId)), ...ranked.filter(b => ctx.workers.suspended(b.peerId))]
  }

  /**
   * Runs the attempts: bidders in order, reassigned on failure, rebid when
   * every bid in hand failed, and hedged when late against the worker's
   * recent speed ({@link IngestContext.speed}), only onto a worker with room
   * and within the shared {@link IngestContext.hedgeBudget}.
   */
  private async dispatch (job: JobAnnounce, ordered: Bid[], bytes: Uint8Array, outputs: Set<AttemptOutput>, started: Map<string, number>): Promise<{ result: AttemptOutput, bid: Bid, hedged: boolean }> {
    const { ctx, log } = this.#deps
    const { jobId, seq, durationMs } = job
    try {
      const out = await dispatchJob({
        bids: ordered,
        maxAttempts: ctx.maxAttempts,
        clock: systemClock,
        signal: this.#deps.signal,
        // Late against the worker's measured recent speed (not its idle calibration), with room for
        // moving the bytes and verifying; the hard deadline is far later, so a merely slow worker
        // can still deliver when nobody else can; a dead one fails at once (broken stream).
        hedgeAfter: (b) => hedgeAfterMs(ctx.speed.adjusted(b), durationMs),
        deadlineFor: (b) => attemptDeadlineMs(ctx.speed.adjusted(b), durationMs),
        mayHedge: (next) => this.mayHedge(next),
        rebid: async (tried) => {
          ctx.metrics.rebids.inc()
          const fresh = await this.collectBids(job, Math.min(ctx.maxQueueMs, durationMs * 3))
          return this.orderBids(fresh.filter(b => !tried.has(b.peerId)), durationMs)
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
          ctx.running.set(b.peerId, (ctx.running.get(b.peerId) ?? 0) + 1)
          ctx.ledger.startAttempt(jobId, b.peerId, Date.now())
          ctx.markAssigned(b.peerId)
        },
        onAttempt: (b, outcome, reason) => {
          const at = Date.now()
          const left = (ctx.running.get(b.peerId) ?? 1) - 1
          if (left > 0) ctx.running.set(b.peerId, left)
          else ctx.running.delete(b.peerId)
          // The worker has a slot again (or refused): queued jobs go back on the market now.
          ctx.capacity.freed()
          const elapsedMs = at - (started.get(b.peerId) ?? at)
          ctx.ledger.endAttempt(jobId, outcome, reason, at, b.peerId)
          ctx.workers.observe(b.peerId, { outcome, elapsedMs, estimateMs: b.estimateMs })
          if (outcome === 'ok') ctx.speed.observe(b.peerId, elapsedMs, b.estimateMs)
          if (outcome !== 'ok' && outcome !== 'cancelled') log.info({ seq, worker: b.peerId, outcome, reason }, 'attempt failed')
        }
      })
      ctx.hedgeBudget.record(Date.now(), { hedges: out.hedges })
      return out
    } catch (err) {
      if (err instanceof DispatchError) ctx.hedgeBudget.record(Date.now(), { hedges: err.attempts.filter(a => a.hedge).length })
      throw err
    }
  }

  /**
   * A late attempt may get a duplicate on `next` only when `next` has a free
   * slot beyond the attempts of ours it already runs, and the hedge budget
   * allows one: under saturation hedges would only add load.
   */
  private mayHedge (next: Bid): boolean {
    const { ctx } = this.#deps
    if (atCapacity(next) || next.activeJobs + (ctx.running.get(next.peerId) ?? 0) >= next.maxJobs) {
      ctx.metrics.hedgeRefused.inc({ reason: 'no_spare' })
      return false
    }
    if (!ctx.hedgeBudget.allow(Date.now(), true)) {
      ctx.metrics.hedgeRefused.inc({ reason: 'budget' })
      return false
    }
    return true
  }

  /** Moves the winning attempt's verified renditions from staging into the store. */
  private async adoptRenditions (result: AttemptOutput, seq: number): Promise<RenditionRecord[]> {
    const records: RenditionRecord[] = []
    for (const r of result.renditions) {
      await this.#deps.ctx.store.files.adopt(r.file, this.#deps.streamId, r.record.name, seq)
      records.push(r.record)
    }
    return records
  }

  /**
   * Announces a job until workers bid on it. The session's waiting jobs form
   * a FIFO queue: only the oldest few (as many as the network has free slots,
   * at least one per worker) are on the market at a time, re-announced as
   * soon as capacity appears (at the latest every RETRY_MS) while every
   * worker is busy, so a backlog drains in order instead of being passed
   * through. An auction closes on its first FIRST_BIDS_K bids (or
   * FIRST_BID_GRACE_MS after its first). The source passes through only when
   * no worker exists at all or the job has waited `maxQueueMs`.
   */
  private async collectBids (job: JobAnnounce, maxQueueMs: number): Promise<Bid[]> {
    const { ctx, log, signal } = this.#deps
    const queueUntil = Date.now() + maxQueueMs
    let announced = false
    this.#waiting.push(job.seq)
    this.#waiting.sort((a, b) => a - b)
    try {
      while (!signal.aborted) {
        const workers = ctx.presence.withRole('worker')
        const known = workers.length + (ctx.localWorker ? 1 : 0)
        if (known === 0) return []
        const freeSlots = workers.reduce((n, p) => n + Math.max(0, p.maxJobs - p.activeJobs), 0)
        if (this.#waiting.indexOf(job.seq) < Math.max(known, freeSlots)) {
          const free = workers.filter(p => p.activeJobs < p.maxJobs).length
          // Workers elect k of the free ones to bid (k doubles on each announce of the job): expect that many, or the first few.
          const n = (this.#announcements.get(job.jobId) ?? 0) + 1
          this.#announcements.set(job.jobId, n)
          const expected = Math.min(free, electionSize(DEFAULT_BID_K, n), FIRST_BIDS_K)
          const auction = new Auction({
            jobId: job.jobId,
            clock: systemClock,
            windowMs: ctx.bidWindowMs,
            graceMs: FIRST_BID_GRACE_MS,
            expectedBids: expected > 0 && !ctx.localWorker ? expected : undefined
          })
          ctx.auctions.set(job.jobId, auction)
          const now = Date.now()
          if (!announced) ctx.metrics.announced.inc()
          announced = true
          try {
            await ctx.gossip.publish(TOPIC_JOBS, codecs.jobAnnounce, { ...job, issuedAtMs: now, deadlineMs: now + (job.deadlineMs - job.issuedAtMs) })
          } catch (err) {
            log.debug({ err }, 'job publish failed')
          }
          const bids = await auction.result
          ctx.auctions.delete(job.jobId)
          if (bids.length > 0) return bids
        }
        if (Date.now() + RETRY_MS >= queueUntil) return []
        // Until capacity appears (or RETRY_MS); a killed session ends the wait and the loop.
        await ctx.capacity.wait(RETRY_MS, signal)
      }
      return []
    } finally {
      this.#waiting.splice(this.#waiting.indexOf(job.seq), 1)
    }
  }
}
