/**
 * A worker's capacity: jobs running plus slots promised in outstanding bids, never more than
 * `maxJobs`. Pure (the clock is injected).
 *
 * A bid holds a slot for `ttlMs` (the ingest's bid window plus dispatch): without it a free
 * worker bids on every job of a burst, wins several and has to refuse all but one. The slot is
 * released when the bid is refused, when the job arrives (it then runs in an active slot), or
 * when the promise lapses (another worker won).
 *
 * Fairness between ingests (security review H4): any peer can be an ingest, and one that
 * wins bids and then trickles its segments would hold every slot. While more than one ingest
 * wants this worker (a job from another one within {@link CONTENTION_WINDOW_MS}), one ingest
 * holds at most its {@link ingestShare} of the slots (running + promised); alone, it may use
 * them all, so a single-ingest network loses no throughput.
 */

/**
 * How long a job seen from another ingest counts as competition for the slots: a few
 * segment lengths, so a live stream that sends a job every 2 s keeps its share.
 */
export const CONTENTION_WINDOW_MS = 30_000
/** Most ingests remembered as competition; a bound on a table keyed by strangers' peer ids. */
export const MAX_DEMANDING_INGESTS = 1024

/** Slots one ingest may hold while others want this worker: half, rounded up (one of one). */
export function ingestShare (maxJobs: number): number {
  return Math.max(1, Math.ceil(maxJobs / 2))
}

export class BidSlots {
  /** Jobs at once at most; may be lowered at run time (running jobs finish, no new bids meanwhile). */
  maxJobs: number
  readonly #ttlMs: number
  readonly #now: () => number
  /** jobId → [expiry, ingest]. */
  readonly #offers = new Map<string, { until: number, peer: string }>()
  /** ingest → its running jobs. */
  readonly #running = new Map<string, number>()
  /** ingest → when it last wanted a slot (insertion order = age; bounded). */
  readonly #demand = new Map<string, number>()
  #active = 0

  constructor (init: { maxJobs: number, ttlMs?: number, now?: () => number }) {
    this.maxJobs = init.maxJobs
    this.#ttlMs = init.ttlMs ?? 500
    this.#now = init.now ?? Date.now
  }

  /** Transcodes running now. */
  get active (): number { return this.#active }

  /** Unexpired promises (queued work). */
  get pending (): number {
    const now = this.#now()
    for (const [id, o] of this.#offers) if (o.until < now) this.#offers.delete(id)
    return this.#offers.size
  }

  /** Running + promised. */
  get committed (): number { return this.#active + this.pending }

  /** Running + promised for one ingest. */
  heldBy (peer: string): number {
    let n = this.#running.get(peer) ?? 0
    const now = this.#now()
    for (const o of this.#offers.values()) if (o.peer === peer && o.until >= now) n++
    return n
  }

  /** Records that `peer` wants a slot (a job from it): it competes with the others for a while. */
  want (peer: string): void {
    this.#demand.delete(peer)
    this.#demand.set(peer, this.#now())
    if (this.#demand.size > MAX_DEMANDING_INGESTS) this.#demand.delete(this.#demand.keys().next().value!)
  }

  /** Whether another ingest than `peer` wanted a slot within {@link CONTENTION_WINDOW_MS}. */
  contended (peer: string): boolean {
    const since = this.#now() - CONTENTION_WINDOW_MS
    for (const [p, at] of this.#demand) {
      if (at < since) this.#demand.delete(p)
      else if (p !== peer) return true
    }
    return false
  }

  /** Whether `peer` may take one more slot: under its share, or alone. */
  #fair (peer: string): boolean {
    return this.heldBy(peer) < ingestShare(this.maxJobs) || !this.contended(peer)
  }

  /** Whether a bid on `jobId` may be sent now to `peer`: not already offered, a slot is free, and within the ingest's share. */
  canBid (jobId: string, peer: string): boolean {
    return !this.#offers.has(jobId) && this.committed < this.maxJobs && this.#fair(peer)
  }

  /** Promise a slot to `jobId` of `peer`; false (nothing reserved) when {@link canBid} is false. */
  reserve (jobId: string, peer: string): boolean {
    if (!this.canBid(jobId, peer)) return false
    this.#offers.set(jobId, { until: this.#now() + this.#ttlMs, peer })
    return true
  }

  /** Drop the promise for `jobId` (bid refused or failed, or the job arrived). */
  release (jobId: string): void {
    this.#offers.delete(jobId)
  }

  /** Start a job of `peer` (its promise, if any, should be released first); false when every slot runs or the ingest is over its share. */
  start (peer: string): boolean {
    if (this.#active >= this.maxJobs || !this.#fair(peer)) return false
    this.#active++
    this.#running.set(peer, (this.#running.get(peer) ?? 0) + 1)
    return true
  }

  finish (peer: string): void {
    this.#active = Math.max(0, this.#active - 1)
    const n = (this.#running.get(peer) ?? 0) - 1
    if (n > 0) this.#running.set(peer, n)
    else this.#running.delete(peer)
  }
}
