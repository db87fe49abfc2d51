/**
 * A worker's capacity: jobs running plus slots promised in outstanding bids, never more than
 * `maxJobs`. Pure (the clock is injected).
 *
 * A bid holds a slot for `ttlMs` (the ingest's bid window plus dispatch): without it a free
 * worker bids on every job of a burst, wins several and has to refuse all but one. The slot is
 * released when the bid is refused, when the job arrives (it then runs in an active slot), or
 * when the promise lapses (another worker won).
 */
export class BidSlots {
  /** Jobs at once at most; may be lowered at run time (running jobs finish, no new bids meanwhile). */
  maxJobs: number
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #offers = new Map<string, number>()
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
    for (const [id, until] of this.#offers) if (until < now) this.#offers.delete(id)
    return this.#offers.size
  }

  /** Running + promised. */
  get committed (): number { return this.#active + this.pending }

  /** Whether a bid on `jobId` may be sent now: not already offered, and a slot is free. */
  canBid (jobId: string): boolean {
    return !this.#offers.has(jobId) && this.committed < this.maxJobs
  }

  /** Promise a slot to `jobId`; false (nothing reserved) when {@link canBid} is false. */
  reserve (jobId: string): boolean {
    if (!this.canBid(jobId)) return false
    this.#offers.set(jobId, this.#now() + this.#ttlMs)
    return true
  }

  /** Drop the promise for `jobId` (bid refused or failed, or the job arrived). */
  release (jobId: string): void {
    this.#offers.delete(jobId)
  }

  /** Start a job (its promise, if any, should be released first); false when every slot runs. */
  start (): boolean {
    if (this.#active >= this.maxJobs) return false
    this.#active++
    return true
  }

  finish (): void {
    this.#active = Math.max(0, this.#active - 1)
  }
}
