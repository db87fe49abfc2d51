import { systemClock, type Clock } from './clock.js'
import { PROBATION_JOBS, standingOf, type Standing } from './probation.js'
import type { AttemptOutcome } from './ledger.js'

/** What an ingest remembers about one worker; plain data, so it can be persisted as JSON. */
export interface WorkerRecord {
  peerId: string
  /** Decayed counts (see {@link ReputationOptions.halfLifeMs}). */
  successes: number
  failures: number
  /** Attempts that finished, but later than the worker's own estimate allowed. */
  late: number
  /** Output that failed verification or a spot check: the worst offence. */
  invalid: number
  /** Lifetime totals, not decayed, for display. */
  totalOk: number
  totalFailed: number
  /** Failures (any kind) since the last success. */
  consecutiveFailures: number
  /** How many times the worker was suspended (sets the next suspension's length). */
  suspensions: number
  /** Not offered work before this time (clock ms); 0 = not suspended. */
  suspendedUntil: number
  /** When the decayed counts were last brought up to date (clock ms). */
  updatedAt: number
  lastSeenAt: number
}

export interface ReputationOptions {
  clock?: Clock
  /** Counts halve over this long, so old offences fade (default 10 min). */
  halfLifeMs?: number
  /** Consecutive failures that suspend a worker (default 3). */
  suspendAfter?: number
  /** First suspension (default 30 s); each next one doubles, up to `maxSuspensionMs`. */
  suspensionMs?: number
  maxSuspensionMs?: number
  /** Workers remembered at most; the least recently seen are forgotten (default 10,000). */
  maxWorkers?: number
  /** Called after every change to a record (to persist it). */
  onChange?: (record: WorkerRecord) => void
  /** Called with each peer dropped past `maxWorkers` (review M13: the persisted row goes too). */
  onEvict?: (peerId: string) => void
}

/** What one attempt tells about its worker. */
export interface Observation {
  outcome: AttemptOutcome
  /** For `'ok'`: how long it took against the worker's estimate (> 1.5 × estimate counts as late). */
  elapsedMs?: number
  estimateMs?: number
}

/** A late result: slower than this multiple of the worker's own estimate (plus 250 ms of slack). */
export const LATE_FACTOR = 1.5

/**
 * Per-worker reputation kept by an ingest: successes, failures, lateness and
 * verification failures, decayed over time so a worker can recover, and
 * suspension of a worker that fails repeatedly (exponential back-off, then it
 * is tried again; one success clears the streak).
 *
 * ```
 * bad   = failures + 0.5 × late + 3 × invalid
 * score = (successes + 1) / (successes + bad + 2)      // unknown worker: 0.5
 * ```
 *
 * Pure apart from the injected clock; `onChange` is where the ingest persists.
 */
export class ReputationBook {
  readonly #clock: Clock
  readonly #halfLife: number
  readonly #suspendAfter: number
  readonly #suspension: number
  readonly #maxSuspension: number
  readonly #maxWorkers: number
  readonly #onChange?: (record: WorkerRecord) => void
  readonly #onEvict?: (peerId: string) => void
  readonly #workers = new Map<string, WorkerRecord>()

  constructor (opts: ReputationOptions = {}) {
    this.#clock = opts.clock ?? systemClock
    this.#halfLife = opts.halfLifeMs ?? 10 * 60_000
    this.#suspendAfter = opts.suspendAfter ?? 3
    this.#suspension = opts.suspensionMs ?? 30_000
    this.#maxSuspension = opts.maxSuspensionMs ?? 10 * 60_000
    this.#maxWorkers = opts.maxWorkers ?? 10_000
    this.#onChange = opts.onChange
    this.#onEvict = opts.onEvict
  }

  /** Loads persisted records (e.g. at start); invalid ones are skipped. */
  restore (records: Iterable<WorkerRecord>): number {
    // Least recently seen first (the map's order), so the trim drops those.
    const valid = [...records].filter(isRecord).sort((a, b) => a.lastSeenAt - b.lastSeenAt)
    for (const r of valid) this.#workers.set(r.peerId, { ...r })
    const n = valid.length
    this.#trim()
    return n
  }

  /**
   * Records what an attempt tells about a worker. `'cancelled'` (lost a
   * hedge race) counts only if the worker was late against its own estimate
   * by then (the hedge was started because of it); otherwise nothing.
   */
  observe (peerId: string, obs: Observation): WorkerRecord | undefined {
    const late = obs.elapsedMs !== undefined && obs.estimateMs !== undefined && obs.elapsedMs > obs.estimateMs * LATE_FACTOR + 250
    if (obs.outcome === 'cancelled' && !late) return undefined
    const now = this.#clock.now()
    const r = this.#touch(peerId, now)
    switch (obs.outcome) {
      case 'cancelled':
        r.late++
        break
      case 'ok': {
        r.successes++
        r.totalOk++
        r.consecutiveFailures = 0
        if (late) r.late++
        break
      }
      case 'invalid':
        r.invalid++
        r.totalFailed++
        r.consecutiveFailures++
        break
      case 'timeout': case 'error': case 'rejected':
        // A refusal (busy) is a small thing; an error or a timeout is a failure.
        r.failures += obs.outcome === 'rejected' ? 0.25 : 1
        r.totalFailed++
        if (obs.outcome !== 'rejected') r.consecutiveFailures++
        break
    }
    if (obs.outcome !== 'ok' && r.consecutiveFailures >= this.#suspendAfter && r.suspendedUntil <= now) {
      r.suspendedUntil = now + Math.min(this.#maxSuspension, this.#suspension * 2 ** r.suspensions)
      r.suspensions++
      r.consecutiveFailures = 0 // after the suspension it gets a fresh streak
    }
    this.#onChange?.({ ...r })
    return { ...r }
  }

  /** A spot check caught the worker's output (counts as invalid output). */
  penalise (peerId: string): WorkerRecord | undefined {
    return this.observe(peerId, { outcome: 'invalid' })
  }

  /** Reputation in [0, 1]; 0.5 for a worker never seen. */
  score (peerId: string): number {
    const r = this.#workers.get(peerId)
    if (r === undefined) return 0.5
    const k = this.#decayFactor(r, this.#clock.now())
    const s = r.successes * k
    const bad = (r.failures + 0.5 * r.late + 3 * r.invalid) * k
    return (s + 1) / (s + bad + 2)
  }

  /** Whether the worker is suspended now (its bids are not taken unless nobody else bids). */
  suspended (peerId: string): boolean {
    const r = this.#workers.get(peerId)
    return r !== undefined && r.suspendedUntil > this.#clock.now()
  }

  /**
   * Where the worker stands ({@link standingOf}): on probation until `minJobs` verified jobs, an
   * offender while its decayed invalid count is high, else proven.
   */
  standing (peerId: string, minJobs = PROBATION_JOBS): Standing {
    const r = this.#workers.get(peerId)
    if (r === undefined) return standingOf(undefined, minJobs)
    return standingOf({ totalOk: r.totalOk, invalid: r.invalid * this.#decayFactor(r, this.#clock.now()) }, minJobs)
  }

  get (peerId: string): WorkerRecord | undefined {
    const r = this.#workers.get(peerId)
    return r === undefined ? undefined : { ...r }
  }

  /** Every worker with its current score, best first. */
  list (): Array<WorkerRecord & { score: number, suspended: boolean }> {
    return [...this.#workers.values()]
      .map(r => ({ ...r, score: this.score(r.peerId), suspended: this.suspended(r.peerId) }))
      .sort((a, b) => b.score - a.score || (a.peerId < b.peerId ? -1 : 1))
  }

  #decayFactor (r: WorkerRecord, now: number): number {
    return this.#halfLife > 0 ? 0.5 ** (Math.max(0, now - r.updatedAt) / this.#halfLife) : 1
  }

  #touch (peerId: string, now: number): WorkerRecord {
    let r = this.#workers.get(peerId)
    if (r === undefined) {
      r = { peerId, successes: 0, failures: 0, late: 0, invalid: 0, totalOk: 0, totalFailed: 0, consecutiveFailures: 0, suspensions: 0, suspendedUntil: 0, updatedAt: now, lastSeenAt: now }
      this.#workers.set(peerId, r)
      this.#trim()
    } else {
      const k = this.#decayFactor(r, now)
      r.successes *= k
      r.failures *= k
      r.late *= k
      r.invalid *= k
      // Re-insert: the map's order is least recently seen first.
      this.#workers.delete(peerId)
      this.#workers.set(peerId, r)
    }
    r.updatedAt = now
    r.lastSeenAt = now
    return r
  }

  #trim (): void {
    for (const id of this.#workers.keys()) {
      if (this.#workers.size <= this.#maxWorkers) break
      this.#workers.delete(id)
      this.#onEvict?.(id)
    }
  }
}

function isRecord (r: unknown): r is WorkerRecord {
  if (typeof r !== 'object' || r === null) return false
  const o = r as Record<string, unknown>
  const nums = ['successes', 'failures', 'late', 'invalid', 'totalOk', 'totalFailed', 'consecutiveFailures', 'suspensions', 'suspendedUntil', 'updatedAt', 'lastSeenAt']
  return typeof o.peerId === 'string' && o.peerId.length > 0 && o.peerId.length <= 128 &&
    nums.every(k => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0)
}
