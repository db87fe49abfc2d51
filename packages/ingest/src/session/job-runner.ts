import { randomUUID } from 'node:crypto'
import { codecs, TOPIC_JOBS } from '@diststream/protocol'
import { attemptDeadlineMs, Auction, auctionCloseAfter, checkedBeforeServing, DEFAULT_BID_K, dispatchJob, hedgeAfterMs, orderByStanding, selectBids, shouldSpotCheck, systemClock } from '@diststream/scheduler'
import { BoundedMap } from '@diststream/util'
import { transcodeOn } from '../transcode-client.js'
import { checkOnProbation } from './probation.js'
import { runSpotCheck } from './spot-check.js'
import type { AttemptOutput } from '../transcode-client.js'
import type { IngestContext } from '../types.js'
import type { JobAnnounce, Rung } from '@diststream/protocol'
import type { ProbeResult, RungSpec } from '@diststream/media'
import type { Bid, Standing } from '@diststream/scheduler'
import type { RenditionRecord } from '@diststream/store'
import type { Logger } from 'pino'

/**
 * While every worker is busy, a queued job is announced again at the latest
 * this often (ms); it goes back on the market at once when capacity appears
 * (`CapacitySignal`: an attempt of ours ended, presence shows a free slot).
 */
export const RETRY_MS = 200
/**
 * When only offenders and suspended workers bid on a job while a clean worker exists (busy now),
 * the job waits up to this many segment durations for the clean one before trying them: a clean
 * worker frees a slot within about one job's time, and spending a job's attempts on workers
 * caught lying loses the segment (the liars test: four liars' attempts, a gap, the honest worker
 * busy for a moment).
 */
export const CLEAN_BIDDER_WAIT_DURATIONS = 2
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
  /** A live stream's rung shedding: as a job leaves the queue (bids in hand), the rungs of its ladder it asks for now. */
  liveRungs?: (seq: number, ladder: Rung[]) => Rung[]
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

  constructor (deps: JobRunnerDeps) {
    this.#deps = deps
  }

  /** Runs the job market for one segment; returns the verified renditions (stored), or [] to pass the source through. */
  async transcode (seq: number, durationMs: number, bytes: Uint8Array, src: ProbeResult, ladder: RungSpec[]): Promise<RenditionRecord[]> {
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
    if (this.#deps.liveRungs != null) job.ladder = this.#deps.liveRungs(seq, job.ladder)
    const ordered = this.orderBids(bids, durationMs)
    const outputs = new Set<AttemptOutput>()
    const started = new Map<string, number>()
    /** Workers whose result was checked against the source before serving (probation). */
    const checked = new Set<string>()
    try {
      const { result, bid, hedged } = await this.dispatch(job, ordered, bytes, outputs, started, checked)
      const records = await this.adoptRenditions(result, seq)
      ctx.ledger.complete(job.jobId, Date.now(), bid.peerId)
      ctx.metrics.completed.inc()
      log.debug({ seq, worker: bid.peerId, hedged }, 'job done')
      // A checker that has not touched this job and had room when it bid; a busy one answers BUSY (inconclusive).
      const other = ordered.find(b => !started.has(b.peerId) && b.activeJobs < b.maxJobs && !ctx.workers.suspended(b.peerId))
      // A result already checked on probation needs no second transcode.
      if (other !== undefined && !checked.has(bid.peerId) && shouldSpotCheck(ctx.spotCheckRate)) {
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
   * and price (an unproven worker's estimate no better than a proven one's), then ranked
   * fallbacks: proven workers, those on probation; offenders and suspended workers only when
   * nobody else bid (else the job is announced again before they are tried; review H1).
   */
  private orderBids (list: readonly Bid[], durationMs: number): Bid[] {
    const { ctx } = this.#deps
    const standing = (p: string): Standing => this.standing(p)
    const ranked = selectBids(list, { reputation: p => ctx.workers.score(p), lastAssigned: ctx.lastAssigned, unproven: p => standing(p) !== 'proven', newcomerWin: ctx.newcomerWin, durationMs, slackMs: durationMs / 4, maxMs: durationMs * 2 })
    return orderByStanding(ranked, standing, p => ctx.workers.suspended(p), p => ctx.workers.score(p))
  }

  /** Neither an offender (recent invalid output) nor suspended. */
  private clean (peerId: string): boolean {
    return this.standing(peerId) !== 'offender' && !this.#deps.ctx.workers.suspended(peerId)
  }

  /** Where a worker stands with this ingest; this node's own worker (same peer id) is trusted. */
  private standing (peerId: string): Standing {
    const { ctx } = this.#deps
    return peerId === ctx.protocols.self ? 'proven' : ctx.workers.standing(peerId, ctx.probationJobs)
  }

  /** Runs the attempts (see runAttempts) and records the job and its hedges in the hedge budget. */
  private async dispatch (job: JobAnnounce, ordered: Bid[], bytes: Uint8Array, outputs: Set<AttemptOutput>, started: Map<string, number>, checked: Set<string>): Promise<{ result: AttemptOutput, bid: Bid, hedged: boolean }> {
    const { ctx } = this.#deps
    let hedges = 0
    try {
      return await this.runAttempts(job, ordered, bytes, outputs, started, checked, () => { hedges++ })
    } finally {
      ctx.hedges.record(Date.now(), { hedges })
    }
  }

  /** Whether a worker has a free slot now as presence sees it (else as it bid); this node's own worker counts as free. */
  private hasRoom (b: Bid): boolean {
    const { ctx } = this.#deps
    if (b.peerId === ctx.protocols.self) return true
    const p = ctx.presence.withRole('worker').find(w => w.peerId === b.peerId)
    return p !== undefined ? p.activeJobs < p.maxJobs : b.activeJobs < b.maxJobs
  }

  /** Runs the attempts: bidders in order, reassigned on failure, hedged when late (within the budget), rebid when every bid in hand failed. */
  private async runAttempts (job: JobAnnounce, ordered: Bid[], bytes: Uint8Array, outputs: Set<AttemptOutput>, started: Map<string, number>, checked: Set<string>, onHedge: () => void): Promise<{ result: AttemptOutput, bid: Bid, hedged: boolean }> {
    const { ctx, log } = this.#deps
    const { jobId, seq, durationMs } = job
    return await dispatchJob({
      bids: ordered,
      maxAttempts: ctx.maxAttempts,
      clock: systemClock,
      signal: this.#deps.signal,
      // Late against its own estimate, scaled by how fast it delivered lately (a busy machine
      // is not late for being as slow as it has been), with room for moving the bytes and
      // verifying: a duplicate starts on the next bidder and both race, if the hedge budget
      // allows it (a free worker in hand, hedges within their share of jobs: no feedback loop
      // under load). The hard deadline is far later, so a merely slow worker can still
      // deliver when nobody else can; a dead one fails at once (broken stream).
      hedgeAfter: (b) => hedgeAfterMs(ctx.speed.adjusted(b), durationMs),
      deadlineFor: (b) => attemptDeadlineMs(ctx.speed.adjusted(b), durationMs),
      mayHedge: (next) => {
        const ok = ctx.hedges.allow(Date.now(), this.hasRoom(next))
        if (!ok) ctx.metrics.hedgesDenied.inc()
        return ok
      },
      // A worker caught lying while this job ran (a spot check of another segment) waits behind clean bidders.
      eligible: (b) => this.clean(b.peerId),
      rebid: async (tried) => {
        ctx.metrics.rebids.inc()
        const fresh = await this.collectBids(job, Math.min(ctx.maxQueueMs, durationMs * 3))
        return this.orderBids(fresh.filter(b => !tried.has(b.peerId)), durationMs)
      },
      attempt: async (b, signal) => {
        const out = await transcodeOn(ctx, b.peerId, job, bytes, signal)
        if (signal.aborted) { await out.discard(); throw signal.reason }
        outputs.add(out)
        // Probation (review H1): an unproven worker's result is compared with the source before it is served.
        if (checkedBeforeServing(this.standing(b.peerId))) {
          await checkOnProbation({ ctx, log, sourceTsName: this.#deps.sourceTsName }, job, out, signal)
          checked.add(b.peerId)
        }
        return out
      },
      onAttemptStart: (b, n, hedge) => {
        if (n > 1) ctx.metrics.reassigned.inc()
        if (hedge) { ctx.metrics.hedged.inc(); onHedge() }
        started.set(b.peerId, Date.now())
        ctx.ledger.startAttempt(jobId, b.peerId, Date.now())
        ctx.markAssigned(b.peerId)
      },
      onAttempt: (b, outcome, reason) => {
        const at = Date.now()
        ctx.ledger.endAttempt(jobId, outcome, reason, at, b.peerId)
        // The worker has a slot again (or refused): queued jobs go back on the market now.
        ctx.capacity.freed()
        const elapsedMs = at - (started.get(b.peerId) ?? at)
        ctx.workers.observe(b.peerId, { outcome, elapsedMs, estimateMs: b.estimateMs })
        if (outcome === 'ok') ctx.speed.observe(b.peerId, elapsedMs, b.estimateMs)
        if (outcome !== 'ok' && outcome !== 'cancelled') log.info({ seq, worker: b.peerId, outcome, reason }, 'attempt failed')
      }
    })
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
   * through. The source passes through only when no worker exists at all or
   * the job has waited `maxQueueMs`. When only offenders and suspended
   * workers bid while a clean worker exists (busy now), the job waits for it
   * up to CLEAN_BIDDER_WAIT_DURATIONS before trying them.
   */
  private async collectBids (job: JobAnnounce, maxQueueMs: number): Promise<Bid[]> {
    const { ctx, log, signal } = this.#deps
    const queueUntil = Date.now() + maxQueueMs
    const cleanUntil = Math.min(queueUntil, Date.now() + job.durationMs * CLEAN_BIDDER_WAIT_DURATIONS)
    /** Bids of offenders and suspended workers only, kept while a clean worker may still free up. */
    let lastResort: Bid[] = []
    let announced = false
    this.#waiting.push(job.seq)
    this.#waiting.sort((a, b) => a - b)
    try {
      while (!signal.aborted) {
        const workers = ctx.presence.withRole('worker')
        const known = workers.length + (ctx.localWorker ? 1 : 0)
        if (known === 0) return []
        // As many jobs on the market as the network has free slots (at least one per worker).
        const freeSlots = workers.reduce((n, p) => n + Math.max(0, p.maxJobs - p.activeJobs), 0)
        if (this.#waiting.indexOf(job.seq) < Math.max(known, freeSlots)) {
          const free = workers.filter(p => p.activeJobs < p.maxJobs).length
          // Every free worker of a small pool bids and the auction waits for them all (bounded by the
          // window); in a larger one they elect k (doubling on each announce) and the first 2 close it.
          const n = (this.#announcements.get(job.jobId) ?? 0) + 1
          this.#announcements.set(job.jobId, n)
          const expected = auctionCloseAfter(DEFAULT_BID_K, n, free)
          // Only bids of workers presence knows close the auction early (review H1: fresh ids bid first).
          const known = new Set(workers.map(p => p.peerId))
          const auction = new Auction({ jobId: job.jobId, clock: systemClock, windowMs: ctx.bidWindowMs, expectedBids: expected > 0 && !ctx.localWorker ? expected : undefined, counts: b => known.has(b.peerId) })
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
          if (bids.some(b => this.clean(b.peerId))) return bids
          if (bids.length > 0) {
            // Only workers caught lying bid: wait a little for a clean one that is busy now.
            lastResort = bids
            const cleanExists = ctx.localWorker || workers.some(p => this.clean(p.peerId))
            if (!cleanExists || Date.now() + RETRY_MS >= cleanUntil) return bids
          }
        }
        if (Date.now() + RETRY_MS >= queueUntil) return lastResort
        // Until capacity appears (or RETRY_MS); a killed session ends the wait and the loop.
        await ctx.capacity.wait(RETRY_MS, signal)
      }
      return lastResort
    } finally {
      this.#waiting.splice(this.#waiting.indexOf(job.seq), 1)
    }
  }
}
