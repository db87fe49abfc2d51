import { EventEmitter } from 'node:events'
import { systemClock, type Clock } from './clock.js'

export type JobState = 'announced' | 'bidding' | 'assigned' | 'done' | 'failed' | 'passthrough'
/**
 * How an attempt ended: `ok`; `timeout` (no result by its deadline); `error`
 * (the worker failed or the stream broke); `rejected` (the worker declined);
 * `invalid` (the output failed verification: the worker's fault, weighs most);
 * `cancelled` (a hedged duplicate won the race first: nobody's fault).
 */
export type AttemptOutcome = 'ok' | 'timeout' | 'error' | 'rejected' | 'invalid' | 'cancelled'

/** Terminal states: reaching one records `finishedAt` / `durationMs`. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['done', 'failed', 'passthrough'])

/** One try of a job on one worker. `outcome`/`endedAt` are null while it runs. */
export interface AttemptRecord {
  worker: string
  outcome: AttemptOutcome | null
  reason: string | null
  startedAt: number
  endedAt: number | null
}

/** One bid on a job as the ledger keeps it. */
export interface BidderRecord {
  peerId: string
  estimateMs: number
  at: number
}

/** Bidders kept per job (the count in `bids` goes on). */
export const MAX_BIDDERS_KEPT = 16

/** A job as `/api/jobs` shows it. Absent values are `null` so it serialises to JSON as is. */
export interface JobRecord {
  jobId: string
  streamId: string
  seq: number
  state: JobState
  /** Worker of the latest attempt (the one that succeeded once `done`). */
  worker: string | null
  /** Attempts started. */
  attempts: number
  /** Bids received. */
  bids: number
  /** Who bid, with their estimate, in arrival order (at most {@link MAX_BIDDERS_KEPT}). */
  bidders: BidderRecord[]
  /** createdAt to the terminal state, ms; null until then. */
  durationMs: number | null
  createdAt: number
  finishedAt: number | null
  /** Why the job failed (or the last attempt's reason), if known. */
  reason: string | null
  history: AttemptRecord[]
}

export type LedgerEventKind = 'created' | 'state' | 'bid' | 'attempt-start' | 'attempt-end' | 'evicted'

/** Emitted as `'change'` after every change, with a snapshot of the job. */
export interface LedgerEvent {
  kind: LedgerEventKind
  job: JobRecord
}

export interface JobLedgerOptions {
  /** Jobs kept; the oldest created is evicted beyond this. Default 500. */
  maxJobs?: number
  /** Used when an `at` argument is omitted. Default {@link systemClock}. */
  clock?: Clock
}

const snapshot = (job: JobRecord): JobRecord => ({ ...job, bidders: job.bidders.map(b => ({ ...b })), history: job.history.map(h => ({ ...h })) })

/**
 * Bounded, in-memory record of recent jobs, for the `/api/jobs` endpoint and
 * the dashboard (`ledger.on('change', e => ...)`; listeners run
 * synchronously, so keep them cheap and non-throwing).
 *
 * It is observability, not control: mutators on an unknown (never created, or
 * already evicted) job do nothing and return false instead of throwing.
 */
export class JobLedger extends EventEmitter<{ change: [LedgerEvent] }> {
  readonly maxJobs: number
  readonly #clock: Clock
  readonly #jobs = new Map<string, JobRecord>()

  constructor (opts: JobLedgerOptions = {}) {
    super()
    const maxJobs = opts.maxJobs ?? 500
    if (!Number.isSafeInteger(maxJobs) || maxJobs < 1) throw new RangeError(`maxJobs must be a positive integer, got ${maxJobs}`)
    this.maxJobs = maxJobs
    this.#clock = opts.clock ?? systemClock
  }

  get size (): number { return this.#jobs.size }

  /** Records a new job in state `'announced'`. Returns false if the id already exists. */
  create (job: { jobId: string, streamId: string, seq: number, createdAt?: number }): boolean {
    if (this.#jobs.has(job.jobId)) return false
    const record: JobRecord = {
      jobId: job.jobId,
      streamId: job.streamId,
      seq: job.seq,
      state: 'announced',
      worker: null,
      attempts: 0,
      bids: 0,
      bidders: [],
      durationMs: null,
      createdAt: job.createdAt ?? this.#clock.now(),
      finishedAt: null,
      reason: null,
      history: []
    }
    this.#jobs.set(job.jobId, record)
    this.#emit('created', record)
    for (const [id, old] of this.#jobs) {
      if (this.#jobs.size <= this.maxJobs) break
      this.#jobs.delete(id)
      this.#emit('evicted', old)
    }
    return true
  }

  /** Sets the state; a terminal state also records `finishedAt` and `durationMs`. */
  setState (jobId: string, state: JobState, at?: number): boolean {
    return this.#update(jobId, 'state', job => {
      job.state = state
      if (TERMINAL_STATES.has(state)) this.#finish(job, at)
    })
  }

  /** Counts one more bid (and moves `'announced'` to `'bidding'`); with `bidder`, records who bid. */
  addBid (jobId: string, bidder?: { peerId: string, estimateMs: number }, at?: number): boolean {
    return this.#update(jobId, 'bid', job => {
      job.bids++
      if (bidder !== undefined && job.bidders.length < MAX_BIDDERS_KEPT) job.bidders.push({ peerId: bidder.peerId, estimateMs: bidder.estimateMs, at: at ?? this.#clock.now() })
      if (job.state === 'announced') job.state = 'bidding'
    })
  }

  /** Starts an attempt on `worker`: state `'assigned'`, attempts + 1. */
  startAttempt (jobId: string, worker: string, at?: number): boolean {
    return this.#update(jobId, 'attempt-start', job => {
      job.state = 'assigned'
      job.worker = worker
      job.attempts++
      job.history.push({ worker, outcome: null, reason: null, startedAt: at ?? this.#clock.now(), endedAt: null })
    })
  }

  /**
   * Ends the latest running attempt (if none is running, records one that
   * starts and ends at `at`, attributed to the current worker); with
   * `worker`, the latest running attempt of that worker. Does not
   * change the job's state: call {@link complete} / {@link fail} / start the next attempt.
   */
  endAttempt (jobId: string, outcome: AttemptOutcome, reason?: string, at?: number, worker?: string): boolean {
    return this.#update(jobId, 'attempt-end', job => {
      const endedAt = at ?? this.#clock.now()
      // With hedging two attempts run at once: end the given worker's.
      let attempt = job.history.findLast(h => h.outcome === null && (worker === undefined || h.worker === worker))
      if (attempt === undefined) {
        attempt = { worker: job.worker ?? '', outcome: null, reason: null, startedAt: endedAt, endedAt: null }
        job.history.push(attempt)
      }
      attempt.outcome = outcome
      attempt.reason = reason ?? null
      attempt.endedAt = endedAt
      if (reason !== undefined && outcome !== 'ok') job.reason = reason
    })
  }

  /** Marks the job `'done'` (by `worker`, when a hedge made the latest attempt not the winner). */
  complete (jobId: string, at?: number, worker?: string): boolean {
    return this.#update(jobId, 'state', job => {
      job.state = 'done'
      if (worker !== undefined) job.worker = worker
      job.reason = null
      this.#finish(job, at)
    })
  }

  /** Marks the job `'failed'` with a reason. */
  fail (jobId: string, reason: string, at?: number): boolean {
    return this.#update(jobId, 'state', job => {
      job.state = 'failed'
      job.reason = reason
      this.#finish(job, at)
    })
  }

  /**
   * Loads jobs kept elsewhere (e.g. the finished jobs an ingest persisted
   * before a restart), oldest first. Malformed records and ids already present
   * are skipped; emits nothing. Returns how many were loaded.
   */
  restore (records: Iterable<unknown>): number {
    let n = 0
    for (const r of records) {
      if (!isJobRecord(r) || this.#jobs.has(r.jobId)) continue
      this.#jobs.set(r.jobId, snapshot({ ...r, bidders: Array.isArray(r.bidders) ? r.bidders : [] }))
      n++
    }
    if (n > 0) {
      // Keep creation order, so eviction still drops the oldest.
      const sorted = [...this.#jobs.values()].sort((x, y) => x.createdAt - y.createdAt)
      this.#jobs.clear()
      for (const j of sorted) this.#jobs.set(j.jobId, j)
    }
    while (this.#jobs.size > this.maxJobs) this.#jobs.delete(this.#jobs.keys().next().value!)
    return n
  }

  /** A snapshot of one job. */
  get (jobId: string): JobRecord | undefined {
    const job = this.#jobs.get(jobId)
    return job === undefined ? undefined : snapshot(job)
  }

  /** Snapshots, newest created first; at most `limit` (default all kept). */
  list (limit = Infinity): JobRecord[] {
    const out: JobRecord[] = []
    const all = [...this.#jobs.values()]
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) out.push(snapshot(all[i]!))
    return out
  }

  #finish (job: JobRecord, at: number | undefined): void {
    job.finishedAt = at ?? this.#clock.now()
    job.durationMs = Math.max(0, job.finishedAt - job.createdAt)
  }

  #update (jobId: string, kind: LedgerEventKind, fn: (job: JobRecord) => void): boolean {
    const job = this.#jobs.get(jobId)
    if (job === undefined) return false
    fn(job)
    this.#emit(kind, job)
    return true
  }

  #emit (kind: LedgerEventKind, job: JobRecord): void {
    if (this.listenerCount('change') > 0) this.emit('change', { kind, job: snapshot(job) })
  }
}

function isJobRecord (r: unknown): r is JobRecord {
  if (typeof r !== 'object' || r === null) return false
  const o = r as Record<string, unknown>
  return typeof o.jobId === 'string' && typeof o.streamId === 'string' && typeof o.state === 'string' &&
    Number.isSafeInteger(o.seq) && Number.isFinite(o.createdAt) && Array.isArray(o.history)
}
