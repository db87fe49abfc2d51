import type { Clock } from './clock.js'
import type { Bid } from './rank.js'

export interface AuctionOptions {
  jobId: string
  clock: Clock
  /** How long bids are collected at most, ms (from construction). */
  windowMs: number
  /**
   * Close as soon as this many bids are in (e.g. the number of known
   * workers), instead of waiting for the whole window. 0 closes at once.
   */
  expectedBids?: number
  /**
   * Whether a bid counts toward `expectedBids` (default: every bid). Others are still collected,
   * but cannot close the auction early: throwaway ids answering first must not shut out the
   * bids of the workers expected (security review H1).
   */
  counts?: (bid: Bid) => boolean
}

/**
 * Collects the bids for one job until its window elapses, `expectedBids`
 * bids are in, or {@link close} is called, whichever comes first. The
 * window starts at construction.
 *
 * {@link result} resolves with the accepted bids in arrival order (rank them
 * with `rankBids`); it never rejects, and an empty array means nobody bid.
 */
export class Auction {
  readonly jobId: string
  readonly result: Promise<Bid[]>
  readonly #clock: Clock
  readonly #expected: number | undefined
  readonly #counts: ((bid: Bid) => boolean) | undefined
  #counted = 0
  readonly #bids: Bid[] = []
  readonly #peers = new Set<string>()
  #resolve!: (bids: Bid[]) => void
  #timer: unknown
  #closed = false

  constructor (opts: AuctionOptions) {
    this.jobId = opts.jobId
    this.#clock = opts.clock
    this.#expected = opts.expectedBids
    this.#counts = opts.counts
    this.result = new Promise<Bid[]>(resolve => { this.#resolve = resolve })
    if (this.#expected !== undefined && this.#expected <= 0) {
      this.close()
      return
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.close()
    }, Math.max(0, opts.windowMs))
  }

  /** True once the result is decided; further offers are refused. */
  get closed (): boolean { return this.#closed }

  /** Bids accepted so far, in arrival order (a copy). */
  get bids (): Bid[] { return [...this.#bids] }

  /**
   * Offers a bid. Returns false (and ignores it) when the auction is closed,
   * the bid is for another job, or this peer already bid.
   */
  offer (bid: Bid): boolean {
    if (this.#closed || bid.jobId !== this.jobId || this.#peers.has(bid.peerId)) return false
    this.#peers.add(bid.peerId)
    this.#bids.push(bid)
    if (this.#counts?.(bid) ?? true) this.#counted++
    if (this.#expected !== undefined && this.#counted >= this.#expected) this.close()
    return true
  }

  /** Closes now and resolves {@link result} with the bids so far. Idempotent. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#resolve([...this.#bids])
  }
}
