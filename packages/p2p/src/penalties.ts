import { BoundedMap, systemClock } from '@diststream/util'
import type { Clock } from '@diststream/util'

/**
 * Penalty points of a refusal a peer caused (origin checks, bad signatures,
 * malformed messages). gossipsub weighs our score by `appSpecificWeight` (10)
 * and ignores a peer below its graylist threshold (−80): nine points
 * ({@link PENALTY_PER_REFUSAL} each) graylist a peer. An honest peer that got
 * one thing wrong (a version skew, a race) is far from it.
 */
export const PENALTY_PER_REFUSAL = 1
/** Penalty points halve in this long: an offender is graylisted for minutes, not for ever (its key may be reused honestly after a fix). */
export const PENALTY_HALF_LIFE_MS = 5 * 60_000
/** Most peers with penalty points remembered (keyed by peer ids strangers choose); the oldest entries go first. */
export const MAX_PENALISED_PEERS = 4096
/** Penalty points at which a message's author is refused outright (not delivered, not forwarded): graylist level. */
export const AUTHOR_BLOCK_POINTS = 8

/**
 * The refusals that prove their author misbehaved whatever the receiver knows: a stream announcement
 * signed by a peer its self-certifying id does not commit to (`verifyStreamOwner` is a pure function
 * of the id, the signer and the salt). Not blamed: refusals that depend on the receiver's own state,
 * which an honest author can meet through no fault of its own: a segment, job or Have refused because
 * the receiver has not bound the stream yet (a node just restarted refused an honest ingest's jobs as
 * foreign and graylisted it: hostile-ownership's restart race), an old signed message an attacker
 * replays (`streams:stale-announce`), or our own load (`streams:directory-full`, `have:seq-ahead`,
 * `have:rate`).
 */
export const BLAMED_REFUSALS: ReadonlySet<string> = new Set(['streams:foreign-announce'])

interface Points {
  points: number
  at: number
}

/** Points decayed from `at` to `now` (pure): halved every `halfLifeMs`. */
export function decayed (p: Points, now: number, halfLifeMs: number): number {
  return p.points * 0.5 ** (Math.max(0, now - p.at) / halfLifeMs)
}

/**
 * The peers that caused refusals, and how much (decaying points). Fed by the
 * node's protocol-error hook: the refusal is blamed on the author of the gossip
 * message being handled ({@link Penalties.run} sets it while the handler runs
 * synchronously: every origin check is made before a handler's first await;
 * what a handler starts later, e.g. a stream it follows, is not blamed on the
 * message's author). Read by gossipsub's `appSpecificScore` (negative points), so
 * offenders are graylisted, and by the gossip validator, so a penalised
 * author's messages are dropped before anyone handles them.
 */
export class Penalties {
  private readonly table = new BoundedMap<string, Points>(MAX_PENALISED_PEERS)
  private current?: string
  /** The message being handled was blamed already (its refusals by several roles count once). */
  private blamed = false

  constructor (private readonly clock: Clock = systemClock, private readonly halfLifeMs = PENALTY_HALF_LIFE_MS) {}

  /** Runs `fn` (one message's handler) with `peer` as the one refusals made synchronously inside it are blamed on, once. */
  run<T> (peer: string, fn: () => T): T {
    const outer = { current: this.current, blamed: this.blamed }
    this.current = peer
    this.blamed = false
    try {
      return fn()
    } finally {
      this.current = outer.current
      this.blamed = outer.blamed
    }
  }

  /** Blames a refusal made at `where` ({@link BLAMED_REFUSALS}) on the author of the message being handled, if any; which peer, or undefined. */
  blameCurrent (where: string, points = PENALTY_PER_REFUSAL): string | undefined {
    if (this.current == null || !BLAMED_REFUSALS.has(where)) return undefined
    if (this.blamed) return this.current
    this.blamed = true
    this.add(this.current, points)
    return this.current
  }

  add (peer: string, points = PENALTY_PER_REFUSAL): void {
    const now = this.clock.now()
    const p = this.table.get(peer)
    const total = (p == null ? 0 : decayed(p, now, this.halfLifeMs)) + points
    this.table.delete(peer) // re-inserted last: an active offender is not the first to be forgotten
    this.table.set(peer, { points: total, at: now })
  }

  /** A peer's points now (0 when unknown). */
  points (peer: string): number {
    const p = this.table.get(peer)
    return p == null ? 0 : decayed(p, this.clock.now(), this.halfLifeMs)
  }

  blocked (peer: string): boolean {
    return this.points(peer) >= AUTHOR_BLOCK_POINTS
  }

  get size (): number { return this.table.size }
}
