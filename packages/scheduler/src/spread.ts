import { scoreBid } from './rank.js'
import type { Bid } from './rank.js'

export interface SpreadOptions {
  /** When this ingest last assigned a job to the peer (ms), or undefined if never. */
  lastAssigned: (peerId: string) => number | undefined
  /** Reputation used for scoring, as in rankBids. */
  reputation?: (peerId: string) => number
  /** A bid is "good enough" if its score is within this factor of the best... */
  factor?: number
  /** ...or within this many ms of it (e.g. a quarter of the segment duration). */
  slackMs?: number
}

/**
 * Load spreading on top of a ranking. Among the bids whose score is close to
 * the best one (within `factor` × best or best + `slackMs`), the worker this
 * ingest used least recently goes first; the rest keep their ranked order as
 * the fallback list. Any of the close bids meets the deadline about as well,
 * and spreading keeps every worker warm, its reputation current, and one
 * worker's failure from hitting every segment.
 */
export function spreadLoad (ranked: readonly Bid[], opts: SpreadOptions): Bid[] {
  if (ranked.length < 2) return [...ranked]
  const score = (b: Bid): number => scoreBid(b, opts.reputation?.(b.peerId))
  const best = score(ranked[0]!)
  const limit = Math.max(best * (opts.factor ?? 2), best + (opts.slackMs ?? 0))
  const close = ranked.filter(b => b.activeJobs < b.maxJobs && score(b) <= limit)
  if (close.length < 2) return [...ranked]
  const last = (b: Bid): number => opts.lastAssigned(b.peerId) ?? -Infinity
  const pick = close.reduce((a, b) => (last(b) < last(a) ? b : a))
  return [pick, ...ranked.filter(b => b !== pick)]
}
