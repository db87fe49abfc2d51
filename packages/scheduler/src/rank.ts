/** A worker's offer to transcode one job. */
export interface Bid {
  peerId: string
  jobId: string
  /** The worker's expected completion time for this job, ms: its calibrated speed under its current load (running jobs and promised slots). */
  estimateMs: number
  /** Jobs the worker is running now. */
  activeJobs: number
  /** Jobs the worker runs at once at most. */
  maxJobs: number
  gpu: boolean
  /** Hardware/encoder kind, e.g. `nvenc`, `vaapi`, `cpu`. Informational. */
  hwKind: string
  /** Asking price (lower is better); only breaks ties. */
  price: number
  /** When the bid was received (clock ms). */
  receivedAt: number
}

export interface RankOptions {
  /** Reputation of a peer in [0, 1]; default 0.5 for everyone. */
  reputation?: (peerId: string) => number
  /** Random source in [0, 1) for exploration; default Math.random. */
  random?: () => number
  /** Maximum relative score jitter, e.g. 0.2 = up to 20 % worse. Default 0 (none). */
  exploration?: number
}

/** Default reputation of an unknown peer. */
export const NEUTRAL_REPUTATION = 0.5

/**
 * Score of a bid: expected completion time in ms, adjusted; lower is better.
 *
 * ```
 * score    = estimateMs / (0.5 + reputation)   // rep 0.5 -> x1, 1 -> x0.67, 0 -> x2
 * ```
 *
 * The worker's estimate already includes its load (see PROTOCOL.md, Bid), so load is not
 * counted again here.
 *
 * A non-finite or negative `estimateMs` scores `Infinity`; reputation is
 * clamped to [0, 1] (NaN counts as neutral).
 */
export function scoreBid (bid: Bid, reputation = NEUTRAL_REPUTATION): number {
  if (!Number.isFinite(bid.estimateMs) || bid.estimateMs < 0) return Infinity
  const rep = Number.isNaN(reputation) ? NEUTRAL_REPUTATION : Math.min(1, Math.max(0, reputation))
  return bid.estimateMs / (0.5 + rep)
}

/** True when the worker already runs as many jobs as it accepts (`maxJobs <= 0` is always full). */
export function atCapacity (bid: Bid): boolean {
  return !(bid.activeJobs < bid.maxJobs)
}

/**
 * Orders bids best first (a new array; the input is not modified).
 *
 * 1. Workers below capacity before workers at or over it ({@link atCapacity}).
 * 2. Lower score ({@link scoreBid}), multiplied when `exploration > 0` by
 *    `1 + exploration * random()` (one `random()` call per bid, in input
 *    order) so that a newcomer slightly worse on paper is sometimes tried.
 * 3. Ties: lower `price`, then earlier `receivedAt`, then `peerId`.
 *
 * Deterministic for a given `random`.
 */
export function rankBids (bids: readonly Bid[], opts: RankOptions = {}): Bid[] {
  const reputation = opts.reputation ?? (() => NEUTRAL_REPUTATION)
  const random = opts.random ?? Math.random
  const exploration = Math.max(0, opts.exploration ?? 0)
  const price = (b: Bid): number => (Number.isNaN(b.price) ? Infinity : b.price)
  const scored = bids.map(bid => {
    let score = scoreBid(bid, reputation(bid.peerId))
    if (exploration > 0) score *= 1 + exploration * random()
    return { bid, score, full: atCapacity(bid) }
  })
  scored.sort((a, b) =>
    Number(a.full) - Number(b.full) ||
    compare(a.score, b.score) ||
    compare(price(a.bid), price(b.bid)) ||
    compare(a.bid.receivedAt, b.bid.receivedAt) ||
    (a.bid.peerId < b.bid.peerId ? -1 : a.bid.peerId > b.bid.peerId ? 1 : 0))
  return scored.map(s => s.bid)
}

function compare (a: number, b: number): number {
  if (a === b) return 0
  return a < b ? -1 : 1
}
