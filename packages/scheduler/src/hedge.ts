import { LATE_FACTOR } from './reputation.js'

/**
 * Room on top of the late estimate for moving the segment and its renditions
 * and verifying them, ms: transfer and checks do not scale with the
 * worker's speed.
 */
export const HEDGE_SLACK_MS = 500

/** Deadline: this many times the worker's (adjusted) estimate at least… */
export const DEADLINE_ESTIMATE_FACTOR = 6
/** …and at least this many segment durations, so a merely slow worker can still deliver when nobody else can… */
export const DEADLINE_DURATION_FACTOR = 5
/** …plus this much for transfer and verification, ms. */
export const DEADLINE_SLACK_MS = 4000

/**
 * When an attempt counts as late and may be hedged, ms from its start:
 * the ingest's formula (late against the estimate, with room for transfer
 * and a quarter segment of slack), on an estimate adjusted to the worker's
 * measured recent speed (`SpeedTracker.adjusted`) rather than its idle
 * calibration.
 */
export function hedgeAfterMs (adjustedEstimateMs: number, durationMs: number): number {
  return adjustedEstimateMs * LATE_FACTOR + HEDGE_SLACK_MS + durationMs / 4
}

/** An attempt's hard deadline, ms from its start: the ingest's formula, on the adjusted estimate. */
export function attemptDeadlineMs (adjustedEstimateMs: number, durationMs: number): number {
  return Math.max(adjustedEstimateMs * DEADLINE_ESTIMATE_FACTOR, durationMs * DEADLINE_DURATION_FACTOR) + DEADLINE_SLACK_MS
}

/**
 * Hedges at most this share of jobs: a hedge doubles a job's work, so at
 * 10 % hedging costs at most a tenth more capacity, which cannot turn a
 * machine that keeps up into one that does not.
 */
export const HEDGE_SHARE = 0.1

/** Jobs and hedges leave the budget's window at this age, ms: a minute is many segments, yet recovers quickly after a burst. */
export const HEDGE_WINDOW_MS = 60_000

/**
 * The share is taken of at least this many jobs, so a quiet window (or the
 * first jobs after start) still allows `HEDGE_SHARE × 20` = 2 hedges, not
 * none (one slow worker must still be routed around) and not all.
 */
export const HEDGE_WINDOW_MIN_JOBS = 20

/** Jobs remembered at most inside the window (a stream flood must not grow memory); older ones are dropped first. */
export const MAX_BUDGET_JOBS = 10_000

export interface HedgeBudgetOptions {
  /** Default {@link HEDGE_SHARE}. */
  share?: number
  /** Default {@link HEDGE_WINDOW_MS}. */
  windowMs?: number
  /** Default {@link HEDGE_WINDOW_MIN_JOBS}. */
  minJobs?: number
  /** Default {@link MAX_BUDGET_JOBS}. */
  maxJobs?: number
}

/** What the budget holds now (for a metric or a test). */
export interface HedgeBudgetStats {
  /** Jobs recorded in the window. */
  jobs: number
  /** Hedges in the window: granted by {@link HedgeBudget.allow} or recorded. */
  hedges: number
  /** Hedges the window allows at most now. */
  limit: number
}

interface Hedge {
  at: number
  /** Granted by `allow` and already matched by a job's `record`. */
  recorded: boolean
}

/**
 * A sliding-window budget that keeps hedging from feeding on itself. Under
 * saturation every worker is late against its estimate, and each hedge adds
 * a duplicate job to an already full machine, making everyone later still.
 * So a hedge is allowed only
 *
 * - with a spare bidder in hand (the caller says whether the next bid comes
 *   from a worker with free capacity), and
 * - while hedges in the last {@link HEDGE_WINDOW_MS} stay within
 *   {@link HEDGE_SHARE} of the jobs in it (of at least
 *   {@link HEDGE_WINDOW_MIN_JOBS}).
 *
 * A `true` from {@link allow} counts as a hedge at once, so jobs running
 * side by side cannot all pass the check before any of them is recorded.
 * Plain data and the caller's clock readings: no timers, no I/O.
 */
export class HedgeBudget {
  readonly #share: number
  readonly #windowMs: number
  readonly #minJobs: number
  readonly #maxJobs: number
  /** When each job in the window was recorded, oldest first. */
  readonly #jobs: number[] = []
  /** Hedges in the window, oldest first. */
  readonly #hedges: Hedge[] = []

  constructor (opts: HedgeBudgetOptions = {}) {
    this.#share = Math.max(0, opts.share ?? HEDGE_SHARE)
    this.#windowMs = opts.windowMs ?? HEDGE_WINDOW_MS
    this.#minJobs = opts.minJobs ?? HEDGE_WINDOW_MIN_JOBS
    this.#maxJobs = opts.maxJobs ?? MAX_BUDGET_JOBS
  }

  /**
   * Whether a hedge may start now; `true` takes it out of the budget.
   * `spareInHand`: the worker that would run it has free capacity (e.g. the
   * next bid is below its `maxJobs`, and not already running work of ours).
   */
  allow (now: number, spareInHand: boolean): boolean {
    if (!spareInHand) return false
    this.#prune(now)
    if (this.#hedges.length + 1 > this.#limit()) return false
    this.#hedges.push({ at: now, recorded: false })
    return true
  }

  /**
   * Records a finished job (done or failed) and the hedges it started
   * (`DispatchResult.hedges`, or the hedge attempts of a `DispatchError`).
   * Hedges this budget granted are matched, not counted twice; any others
   * (started without asking) are counted now.
   */
  record (now: number, job: { hedges: number }): void {
    this.#prune(now)
    this.#jobs.push(now)
    if (this.#jobs.length > this.#maxJobs) this.#jobs.splice(0, this.#jobs.length - this.#maxJobs)
    let left = Math.min(this.#maxJobs, Math.max(0, Math.floor(job.hedges)))
    for (const h of this.#hedges) {
      if (left === 0) break
      if (!h.recorded) { h.recorded = true; left-- }
    }
    for (; left > 0; left--) this.#hedges.push({ at: now, recorded: true })
    if (this.#hedges.length > this.#maxJobs) this.#hedges.splice(0, this.#hedges.length - this.#maxJobs)
  }

  stats (now: number): HedgeBudgetStats {
    this.#prune(now)
    return { jobs: this.#jobs.length, hedges: this.#hedges.length, limit: this.#limit() }
  }

  #limit (): number {
    // The epsilon keeps 0.1 × 30 (3.0000000000000004) and its cousins from rounding the wrong way.
    return Math.floor(this.#share * Math.max(this.#jobs.length, this.#minJobs) + 1e-9)
  }

  #prune (now: number): void {
    const from = now - this.#windowMs
    let j = 0
    while (j < this.#jobs.length && this.#jobs[j]! <= from) j++
    if (j > 0) this.#jobs.splice(0, j)
    let h = 0
    while (h < this.#hedges.length && this.#hedges[h]!.at <= from) h++
    if (h > 0) this.#hedges.splice(0, h)
  }
}
