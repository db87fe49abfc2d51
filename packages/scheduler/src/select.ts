import { atCapacity, NEUTRAL_REPUTATION, rankBids } from './rank.js'
import type { Bid, RankOptions } from './rank.js'

/**
 * The least a transcode can take, as a share of the segment's duration (security review H1:
 * an estimate of 0 won every draw). Even a hardware encoder making a whole ladder runs at most
 * ~20x real time on one segment; a bid below this is taken as this.
 */
export const MIN_ESTIMATE_FRACTION = 1 / 20
/**
 * Outright wins for never-tried peers per minute and per ingest (review H1: fresh ids are
 * free, and each one won outright). Enough to try a few real newcomers each minute.
 */
export const NEWCOMER_WINS_PER_MINUTE = 6

/**
 * A token bucket of newcomer wins (pure; the clock is injected): {@link NEWCOMER_WINS_PER_MINUTE}
 * a minute, at most that many saved up.
 */
export class NewcomerBudget {
  #tokens: number
  #at: number
  constructor (private readonly now: () => number = Date.now, private readonly perMinute = NEWCOMER_WINS_PER_MINUTE) {
    this.#tokens = perMinute
    this.#at = now()
  }

  /** Takes one win if there is one. */
  take (): boolean {
    const t = this.now()
    this.#tokens = Math.min(this.perMinute, this.#tokens + (t - this.#at) * this.perMinute / 60_000)
    this.#at = t
    if (this.#tokens < 1) return false
    this.#tokens--
    return true
  }
}

export interface SelectOptions {
  /** Reputation of a peer in [0, 1] (default {@link NEUTRAL_REPUTATION}); the same hook as {@link RankOptions}. */
  reputation?: (peerId: string) => number
  /** Random source in [0, 1); called exactly twice per selection with an eligible bid. Default Math.random. */
  random?: () => number
  /** Never draw a bid expected to take longer than this (ms); it stays in the fallback list. Default: no limit. */
  maxMs?: number
  /** A bid competes in the weighted draw when its estimate is within `factor` × the best... (default 2) */
  factor?: number
  /** ...or within `slackMs` of it (default 0). */
  slackMs?: number
  /** Exponent on relative speed `best / estimate` (default 2: twice as slow → a quarter of the weight). */
  speedExponent?: number
  /** Exponent on relative price `(1 + cheapest) / (1 + price)` (default 1). */
  priceExponent?: number
  /** Probability of an exploration draw: uniform over every eligible bid (default 0.1). */
  explore?: number
  /**
   * When this ingest last gave the peer a job (undefined: never). With it, a close bid from a
   * peer never tried wins outright (the best-weighted such bid), so every newcomer that can keep
   * up is tried at once and gets a record.
   */
  lastAssigned?: (peerId: string) => number | undefined
  /** The segment's duration: estimates below {@link MIN_ESTIMATE_FRACTION} of it count as that. */
  durationMs?: number
  /**
   * Asked before a never-tried peer wins outright (e.g. {@link NewcomerBudget.take}); false: the
   * newcomer only takes part in the draw. Default: always.
   */
  newcomerWin?: () => boolean
  /**
   * Peers whose claims count for nothing yet (e.g. on probation: too few verified jobs, or caught
   * with invalid output): like a never-tried peer, their estimate counts as no better than the
   * best of the others'. Default: none besides the never-tried.
   */
  unproven?: (peerId: string) => boolean
}

export interface WeightedBid {
  bid: Bid
  /** Share of the weighted draw (0 for bids outside the close set); the weights sum to 1. */
  weight: number
  /** Eligible for the exploration draw: free capacity, valid estimate, within `maxMs`. */
  eligible: boolean
}

function clampRep (r: number): number {
  return Number.isNaN(r) ? NEUTRAL_REPUTATION : Math.min(1, Math.max(0, r))
}

/**
 * Each bid's estimate as the draw and the fallback ranking count it: at least
 * {@link MIN_ESTIMATE_FRACTION} of the segment, and for a never-tried or unproven peer at least
 * the best estimate of the other eligible peers (review H1).
 */
function countedEstimates (bids: readonly Bid[], eligible: readonly boolean[], opts: SelectOptions): number[] {
  const floor = Math.max(1, (opts.durationMs ?? 0) * MIN_ESTIMATE_FRACTION)
  const unproven = (b: Bid): boolean => (opts.lastAssigned != null && opts.lastAssigned(b.peerId) === undefined) || (opts.unproven?.(b.peerId) ?? false)
  const triedEstimates = bids.filter((b, i) => eligible[i] && !unproven(b)).map(b => Math.max(floor, b.estimateMs))
  const bestTried = triedEstimates.length > 0 ? Math.min(...triedEstimates) : floor
  return bids.map(b => unproven(b) ? Math.max(floor, bestTried, b.estimateMs) : Math.max(floor, b.estimateMs))
}

/**
 * The weights of {@link selectBids}' draw, in input order.
 *
 * ```
 * eligible : free slot (activeJobs < maxJobs), finite estimate ≥ 0, estimate ≤ maxMs
 * estimate = max(estimate, durationMs × MIN_ESTIMATE_FRACTION), and for a never-tried peer
 *            (with lastAssigned) or an unproven one at least the best estimate of a proven eligible peer:
 *            an unproven claim to be faster counts for nothing (review H1)
 * best     = min estimate over eligible bids
 * close    : eligible and estimate ≤ max(best × factor, best + slackMs)
 * weight   = (best / estimate)^speedExponent            expected completion time
 *          × (0.1 + 0.9 × reputation)                   0 → 0.1, 1 → 1
 *          × ((1 + cheapest) / (1 + price))^priceExponent
 * ```
 * normalised over the close bids.
 */
export function selectionWeights (bids: readonly Bid[], opts: SelectOptions = {}): WeightedBid[] {
  const reputation = opts.reputation ?? (() => NEUTRAL_REPUTATION)
  const maxMs = opts.maxMs ?? Infinity
  const valid = (b: Bid): boolean => Number.isFinite(b.estimateMs) && b.estimateMs >= 0
  const eligible = bids.map(b => valid(b) && !atCapacity(b) && b.estimateMs <= maxMs)
  const est = countedEstimates(bids, eligible, opts)
  const estimates = est.filter((_, i) => eligible[i])
  if (estimates.length === 0) return bids.map(bid => ({ bid, weight: 0, eligible: false }))
  const best = Math.min(...estimates)
  const limit = Math.max(best * (opts.factor ?? 2), best + (opts.slackMs ?? 0))
  const close = bids.map((_, i) => eligible[i]! && est[i]! <= limit)
  const price = (b: Bid): number => (Number.isFinite(b.price) && b.price > 0 ? b.price : 0)
  const cheapest = Math.min(...bids.filter((_, i) => close[i]).map(price))
  const raw = bids.map((b, i) => {
    if (!close[i]) return 0
    const speed = (best / est[i]!) ** (opts.speedExponent ?? 2)
    const rep = 0.1 + 0.9 * clampRep(reputation(b.peerId))
    const cost = ((1 + cheapest) / (1 + price(b))) ** (opts.priceExponent ?? 1)
    return speed * rep * cost
  })
  const total = raw.reduce((a, w) => a + w, 0)
  return bids.map((bid, i) => ({ bid, weight: total > 0 ? raw[i]! / total : 0, eligible: eligible[i]! }))
}

/**
 * Orders bids for dispatch: the first is drawn at random, the rest follow in {@link rankBids}
 * order as fallbacks (a new array; the input is not modified).
 *
 * Compare Livepeer's broadcaster (`MinLSSelectorWithRandFreq` in go-livepeer: a fixed share of
 * uniformly random picks among untried orchestrators, otherwise a stake-weighted draw or the best
 * latency score). Here one weighted draw covers speed, reputation (our stake) and price
 * ({@link selectionWeights}), so the best
 * worker wins most jobs but a close competitor, or a newcomer nobody has a record of, still gets
 * some; with probability `explore` the draw is uniform over every eligible bid instead, so a
 * worker whose calibration looks slower than the rest is tried now and then; with `lastAssigned`,
 * a close bid from a worker never tried wins outright. A bid that is full,
 * invalid or over `maxMs` is never drawn. With no eligible bid this is plain {@link rankBids}.
 *
 * Deterministic for a given `random` (two calls per selection with an eligible bid).
 */
export function selectBids (bids: readonly Bid[], opts: SelectOptions = {}): Bid[] {
  const rankOpts: RankOptions = { reputation: opts.reputation }
  const weighted = selectionWeights(bids, opts)
  const pool = weighted.filter(w => w.eligible)
  if (pool.length === 0) return rankBids(bids, rankOpts)
  const random = opts.random ?? Math.random
  const exploring = random() < (opts.explore ?? 0.1)
  const r = random()
  let pick = pool[pool.length - 1]!.bid
  const untried = opts.lastAssigned != null ? pool.filter(w => w.weight > 0 && opts.lastAssigned!(w.bid.peerId) === undefined) : []
  if (untried.length > 0 && (opts.newcomerWin?.() ?? true)) {
    pick = untried.reduce((a, b) => (b.weight > a.weight ? b : a)).bid
  } else if (exploring) {
    pick = pool[Math.min(pool.length - 1, Math.floor(r * pool.length))]!.bid
  } else {
    let acc = 0
    for (const w of pool) {
      acc += w.weight
      if (w.weight > 0 && r < acc) {
        pick = w.bid
        break
      }
      if (w.weight > 0) pick = w.bid
    }
  }
  // Fallbacks ranked by the estimates as counted: a claimed 0 ms no longer ranks first (review H1).
  const counted = countedEstimates(bids, bids.map(b => Number.isFinite(b.estimateMs) && b.estimateMs >= 0), opts)
  const original = new Map<Bid, Bid>()
  const adjusted = bids.filter(b => b !== pick).map(b => {
    const a = { ...b, estimateMs: counted[bids.indexOf(b)]! }
    original.set(a, b)
    return a
  })
  return [pick, ...rankBids(adjusted, rankOpts).map(a => original.get(a)!)]
}
