import { randomUUID } from 'node:crypto'
import { codecs, TOPIC_JOBS } from '@diststream/protocol'
import { Auction, checkedBeforeServing, DEFAULT_BID_K, dispatchJob, electionSize, LATE_FACTOR, orderByStanding, selectBids, shouldSpotCheck, systemClock } from '@diststream/scheduler'
import { BoundedMap, sleep } from '@diststream/util'
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

/** While every worker is busy, a queued job is announced again this often (ms). */
export const RETRY_MS = 200
/** Recent jobs whose announce count is kept (the bid election widens with each announce). */
const MAX_ANNOUNCED_JOBS = 1000
/** A job's deadline is at least this far out (ms)… */
const JOB_MIN_DEADLINE_MS = 8000
/** …or this many segment durations. */
const JOB_DEADLINE_DURATIONS = 4
/** Room for moving the bytes and verifying, on top of a worker's own estimate, before a hedge starts (ms). */
const HEDGE_SLACK_MS = 500
/** Room past the hard deadline of an attempt (ms): a merely slow worker may still deliver. */
const ATTEMPT_DEADLINE_SLACK_MS = 4000

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

  /** Where a worker stands with this ingest; this node's own worker (same peer id) is trusted. */
  private standing (peerId: string): Standing {
    const { ctx } = this.#deps
    return peerId === ctx.protocols.self ? 'proven' : ctx.workers.standing(peerId, ctx.probationJobs)
  }

  /** Runs the attempts: bidders in order, reassigned on failure, hedged when late, rebid when every bid in hand failed. */
  private async dispatch (job: JobAnnounce, ordered: Bid[], bytes: Uint8Array, outputs: Set<AttemptOutput>, started: Map<string, number>, checked: Set<string>): Promise<{ result: AttemptOutput, bid: Bid, hedged: boolean }> {
    const { ctx, log } = this.#deps
    const { jobId, seq, durationMs } = job
    return await dispatchJob({
      bids: ordered,
      maxAttempts: ctx.maxAttempts,
      clock: systemClock,
      signal: this.#deps.signal,
      // Late against its own estimate (with room for moving the bytes and verifying):
      // a duplicate starts on the next bidder and both race. The hard deadline is
      // far later, so a merely slow worker (an overloaded machine) can still
      // deliver when nobody else can; a dead one fails at once (broken stream).
      hedgeAfter: (b) => b.estimateMs * LATE_FACTOR + HEDGE_SLACK_MS + durationMs / 4,
      deadlineFor: (b) => Math.max(b.estimateMs * 6, durationMs * 5) + ATTEMPT_DEADLINE_SLACK_MS,
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
        if (hedge) ctx.metrics.hedged.inc()
        started.set(b.peerId, Date.now())
        ctx.ledger.startAttempt(jobId, b.peerId, Date.now())
        ctx.markAssigned(b.peerId)
      },
      onAttempt: (b, outcome, reason) => {
        const at = Date.now()
        ctx.ledger.endAttempt(jobId, outcome, reason, at, b.peerId)
        ctx.workers.observe(b.peerId, { outcome, elapsedMs: at - (started.get(b.peerId) ?? at), estimateMs: b.estimateMs })
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
   * a FIFO queue: only the oldest few (as many as there are workers) are on
   * the market at a time, re-announced every RETRY_MS while every worker is
   * busy, so a backlog drains in order instead of being passed through. The
   * source passes through only when no worker exists at all or the job has
   * waited `maxQueueMs`.
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
        if (this.#waiting.indexOf(job.seq) < known) {
          const free = workers.filter(p => p.activeJobs < p.maxJobs).length
          // Workers elect k of the free ones to bid (k doubles on each announce of the job): expect that many.
          const n = (this.#announcements.get(job.jobId) ?? 0) + 1
          this.#announcements.set(job.jobId, n)
          const expected = Math.min(free, electionSize(DEFAULT_BID_K, n))
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
          if (bids.length > 0) return bids
        }
        if (Date.now() + RETRY_MS >= queueUntil) return []
        try {
          await sleep(RETRY_MS, signal)
        } catch {
          // The session was killed: no bids (the loop's own exit).
          return []
        }
      }
      return []
    } finally {
      this.#waiting.splice(this.#waiting.indexOf(job.seq), 1)
    }
  }
}
