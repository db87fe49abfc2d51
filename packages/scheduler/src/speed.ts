import { BoundedMap } from '@diststream/util'
import { systemClock, type Clock } from './clock.js'
import type { Bid } from './rank.js'

/**
 * Workers tracked at most; the least recently updated are forgotten (they
 * start again at their own estimate). As many as the `ReputationBook` keeps
 * by default: a stranger can make up peer ids, so the map is bounded.
 */
export const MAX_TRACKED_WORKERS = 10_000

/**
 * Weight of the newest attempt in the moving average: about the last five
 * attempts count, so the ratio follows a machine that turns busy within a
 * few segments, and one odd attempt moves it by under a third.
 */
export const SPEED_EWMA_ALPHA = 0.3

/**
 * Lower clamp of the slowness ratio (and of each sample): a worker that
 * finishes in half its estimate is already an outlier; below that, jitter
 * on a few short jobs would make its attempts look late too soon.
 */
export const MIN_SLOWNESS = 0.5

/**
 * Upper clamp of the slowness ratio (and of each sample): beyond 10 × its
 * estimate a worker is broken, not busy; deadlines and reputation deal
 * with it, and one stalled attempt must not push its hedge timing out of reach.
 */
export const MAX_SLOWNESS = 10

/**
 * A ratio older than this is forgotten (the worker is back to its own
 * estimate): a burst of load five minutes ago says nothing about the machine now.
 */
export const SLOWNESS_STALE_MS = 5 * 60_000

export interface SpeedTrackerOptions {
  /** Default {@link systemClock}. */
  clock?: Clock
  /** Default {@link MAX_TRACKED_WORKERS}. */
  maxWorkers?: number
  /** Default {@link SPEED_EWMA_ALPHA}. */
  alpha?: number
  /** Default {@link SLOWNESS_STALE_MS}. */
  staleMs?: number
}

interface Entry {
  /** EWMA of measured ÷ estimated duration, within [MIN_SLOWNESS, MAX_SLOWNESS]. */
  ratio: number
  updatedAt: number
}

const clamp = (x: number): number => Math.min(MAX_SLOWNESS, Math.max(MIN_SLOWNESS, x))

/**
 * Each worker's measured speed against its own estimate: an exponentially
 * weighted moving average of `elapsed ÷ estimate` over its recent finished
 * attempts. A worker calibrated on an idle machine keeps bidding its idle
 * speed when the machine fills up; {@link adjusted} scales its estimate by
 * what it really delivers lately, so hedge timing and deadlines built on it
 * do not call a worker late for being as slow as everyone on a busy machine.
 *
 * Pure apart from the injected clock.
 */
export class SpeedTracker {
  readonly #clock: Clock
  readonly #alpha: number
  readonly #staleMs: number
  readonly #workers: BoundedMap<string, Entry>

  constructor (opts: SpeedTrackerOptions = {}) {
    this.#clock = opts.clock ?? systemClock
    this.#alpha = Math.min(1, Math.max(0, opts.alpha ?? SPEED_EWMA_ALPHA))
    this.#staleMs = opts.staleMs ?? SLOWNESS_STALE_MS
    this.#workers = new BoundedMap(opts.maxWorkers ?? MAX_TRACKED_WORKERS)
  }

  /**
   * Records one attempt that finished with a result (`'ok'`), how long it
   * took and what the worker estimated. Attempts without a result (timeouts,
   * cancelled hedges) say only "at least this slow" and are not recorded;
   * nonsensical inputs (non-finite, estimate ≤ 0) are ignored.
   */
  observe (peerId: string, elapsedMs: number, estimateMs: number): void {
    if (!Number.isFinite(elapsedMs) || !Number.isFinite(estimateMs) || elapsedMs < 0 || estimateMs <= 0) return
    const sample = clamp(elapsedMs / estimateMs)
    const now = this.#clock.now()
    const old = this.#current(peerId, now)
    const ratio = old === undefined ? sample : clamp(old.ratio + this.#alpha * (sample - old.ratio))
    // Delete first so the map's insertion order is the update order: eviction drops the least recently updated.
    this.#workers.delete(peerId)
    this.#workers.set(peerId, { ratio, updatedAt: now })
  }

  /** The worker's measured ÷ estimated duration lately (1 when unknown or stale). */
  slowness (peerId: string): number {
    return this.#current(peerId, this.#clock.now())?.ratio ?? 1
  }

  /** The bid's estimate scaled by its worker's recent {@link slowness}, ms. */
  adjusted (bid: Pick<Bid, 'peerId' | 'estimateMs'>): number {
    return bid.estimateMs * this.slowness(bid.peerId)
  }

  /** Workers tracked now (stale ones included until they are evicted or updated). */
  get size (): number { return this.#workers.size }

  #current (peerId: string, now: number): Entry | undefined {
    const e = this.#workers.get(peerId)
    if (e === undefined) return undefined
    if (now - e.updatedAt > this.#staleMs) {
      this.#workers.delete(peerId)
      return undefined
    }
    return e
  }
}
