import { systemClock, type Clock } from './clock.js'
import type { AttemptOutcome } from './ledger.js'
import type { Bid } from './rank.js'

/**
 * Throw this from an `attempt` function when the worker declined the job
 * (busy, unsupported, ...): the attempt is reported as `'rejected'` rather
 * than `'error'`.
 */
export class AttemptRejectedError extends Error {
  override name = 'AttemptRejectedError'
}

/**
 * Throw this from an `attempt` function when the worker's output failed
 * verification (wrong hash, resolution, duration, undecodable): reported as
 * `'invalid'`, which costs the worker the most reputation.
 */
export class AttemptInvalidError extends Error {
  override name = 'AttemptInvalidError'
}

/** Thrown by an attempt's signal when its deadline elapses. */
export class AttemptTimeoutError extends Error {
  override name = 'AttemptTimeoutError'
}

/** Thrown by an attempt's signal when a hedged duplicate finished first. */
export class AttemptCancelledError extends Error {
  override name = 'AttemptCancelledError'
}

/** One finished attempt of a dispatch. */
export interface DispatchAttempt {
  peerId: string
  outcome: AttemptOutcome
  reason: string
  startedAt: number
  endedAt: number
  /** Started as a hedge while an earlier attempt was still running. */
  hedge: boolean
}

/** Thrown when a job could not be dispatched: no bids, or every allowed attempt failed. */
export class DispatchError extends Error {
  override name = 'DispatchError'
  readonly jobId: string | undefined
  /** Every attempt made, in order of ending, with why it failed. */
  readonly attempts: readonly DispatchAttempt[]

  constructor (message: string, jobId: string | undefined, attempts: readonly DispatchAttempt[], options?: ErrorOptions) {
    const detail = attempts.map(a => `${a.peerId}: ${a.outcome} (${a.reason})`).join('; ')
    super(detail === '' ? message : `${message}: ${detail}`, options)
    this.jobId = jobId
    this.attempts = attempts
  }
}

/** Thrown when the caller's signal aborts the dispatch; `cause` is the signal's reason. */
export class DispatchAbortedError extends DispatchError {
  override name = 'DispatchAbortedError'
}

export interface DispatchOptions<T> {
  /** Bids, best first (see `rankBids`). Tried in this order. */
  bids: readonly Bid[]
  /**
   * Runs the job on the bidder. Resolve with the (verified) result, or reject
   * ({@link AttemptRejectedError} if the worker declined,
   * {@link AttemptInvalidError} if its output was bad). Should stop when
   * `signal` aborts (deadline, lost hedge race or caller abort); its later
   * outcome is ignored.
   */
  attempt: (bid: Bid, signal: AbortSignal) => Promise<T>
  /** Attempts at most, hedges included, declined ones (busy) not (default: one per bid). */
  maxAttempts?: number
  /** Deadline for an attempt on this bidder, ms from its start (non-finite = none). */
  deadlineFor: (bid: Bid) => number
  /**
   * When an attempt on this bidder counts as late, ms from its start (it
   * should be below the deadline; non-finite or absent = never hedge). A late
   * attempt keeps running, and a duplicate starts on the next bidder: the
   * first valid result wins and the other is aborted
   * ({@link AttemptCancelledError}, outcome `'cancelled'`). At most two
   * attempts run at once.
   */
  hedgeAfter?: (bid: Bid) => number
  /**
   * Consulted once when an attempt turns late, just before its hedge would
   * start on `next` (absent = always yes). Say no when hedging would only add
   * load: no spare capacity in hand, or the hedge budget spent (see
   * `HedgeBudget`). On no, `next` stays first in line, the late attempt keeps
   * running until it succeeds, fails or hits its deadline (then `next` is
   * tried), and it is not offered for hedging again.
   */
  mayHedge?: (next: Bid, late: Bid) => boolean
  /**
   * Called when the bids in hand are used up but attempts remain: return
   * fresh bids (e.g. from a new announcement; bidders already tried are
   * skipped), or [] to give up. Not called while an attempt is still running.
   */
  rebid?: (tried: ReadonlySet<string>) => Promise<readonly Bid[]>
  /**
   * Consulted each time a bid comes up (absent = every bid is). A bid that is not eligible any
   * more (its worker was caught lying since the bids were ordered) goes behind every eligible
   * one and is tried only when none is left, before a re-bid.
   */
  eligible?: (bid: Bid) => boolean
  /** Default {@link systemClock}. */
  clock?: Clock
  /** Aborts the whole dispatch. */
  signal?: AbortSignal
  /** Called when an attempt starts (1-based number; `hedge` when it duplicates a late one). */
  onAttemptStart?: (bid: Bid, attempt: number, hedge: boolean) => void
  /** Called when an attempt ends, successfully (`'ok'`) or not. */
  onAttempt?: (bid: Bid, outcome: AttemptOutcome, reason: string | undefined) => void
}

export interface DispatchResult<T> {
  result: T
  bid: Bid
  /** Attempts started, including the successful one and any cancelled hedge. */
  attempts: number
  /** The winning attempt was a hedge. */
  hedged: boolean
  /** Hedges started for this job (0 or more), won or not: what a `HedgeBudget` records. */
  hedges: number
}

interface Running {
  bid: Bid
  controller: AbortController
  startedAt: number
  hedge: boolean
  timers: unknown[]
  /** Already hedged (a late attempt starts at most one duplicate). */
  hedged: boolean
  /** Clock time from which it counts as late (Infinity: never). */
  lateAt: number
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** How often one worker may decline (busy) a job and still be offered it again from a re-bid. */
export const MAX_DECLINES_PER_WORKER = 3

/**
 * Runs a job on the bids in order until one attempt succeeds.
 *
 * - Each attempt has its own AbortSignal, aborted with
 *   {@link AttemptTimeoutError} when `deadlineFor(bid)` elapses; the next
 *   bidder is tried at once, without waiting for the slow one to settle.
 * - A failed attempt (error, rejected, invalid, timeout) moves the job to the
 *   next bidder without a new round trip; when bids run out and `rebid` is
 *   given, it asks for fresh ones.
 * - Hedging: an attempt still running at `hedgeAfter(bid)` gets a duplicate
 *   on the next bidder (if `mayHedge` agrees); the first valid result wins,
 *   the loser is aborted.
 *
 * Rejects with {@link DispatchError} (listing every attempt) when bids or
 * attempts run out, and with {@link DispatchAbortedError} when `signal`
 * aborts (running attempts are aborted and reported as `'error'`).
 */
export async function dispatchJob<T> (opts: DispatchOptions<T>): Promise<DispatchResult<T>> {
  const clock = opts.clock ?? systemClock
  const jobId = opts.bids[0]?.jobId
  const maxAttempts = opts.maxAttempts ?? Infinity
  if (opts.bids.length === 0) throw new DispatchError('no bids', undefined, [])

  const queue: Bid[] = [...opts.bids]
  const tried = new Set<string>()
  const history: DispatchAttempt[] = []
  const running = new Set<Running>()
  let started = 0
  let hedges = 0
  /** Attempts the worker declined at once (busy): they cost nothing, so they do not count against maxAttempts. */
  let declined = 0
  /** Declines per worker: a busy worker stays eligible for a re-bid (it bids again once free), a few times. */
  const declinedBy = new Map<string, number>()
  const spent = (): number => started - declined
  let rebidding = false
  let settled = false

  return await new Promise<DispatchResult<T>>((resolve, reject) => {
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      opts.signal?.removeEventListener('abort', onAbort)
      fn()
    }

    const end = (r: Running, outcome: AttemptOutcome, reason?: string): void => {
      for (const t of r.timers) clock.clearTimeout(t)
      running.delete(r)
      if (outcome !== 'ok') history.push({ peerId: r.bid.peerId, outcome, reason: reason ?? '', startedAt: r.startedAt, endedAt: clock.now(), hedge: r.hedge })
      opts.onAttempt?.(r.bid, outcome, reason)
    }

    const onAbort = (): void => {
      for (const r of [...running]) {
        r.controller.abort(opts.signal?.reason)
        end(r, 'error', `aborted: ${describe(opts.signal?.reason)}`)
      }
      finish(() => { reject(new DispatchAbortedError(`dispatch of job ${jobId ?? '?'} aborted`, jobId, history, { cause: opts.signal?.reason })) })
    }

    /** Next untried bid, left first in line (an eligible one if any is left), or undefined. */
    const peekBid = (): Bid | undefined => {
      for (let i = 0; i < queue.length; i++) {
        const b = queue[i]!
        if (tried.has(b.peerId)) continue
        if (opts.eligible === undefined || opts.eligible(b)) {
          // Drop the tried ones before it; the ineligible ones stay in line behind it.
          const ahead = queue.splice(0, i).filter(x => !tried.has(x.peerId))
          queue.splice(1, 0, ...ahead)
          return b
        }
      }
      while (queue.length > 0 && tried.has(queue[0]!.peerId)) queue.shift()
      return queue[0]
    }

    /** Next untried bid, taken out of line, or undefined. */
    const nextBid = (): Bid | undefined => {
      const b = peekBid()
      if (b !== undefined) queue.shift()
      return b
    }

    const giveUp = (): void => {
      const why = spent() >= maxAttempts ? `all ${spent()} allowed attempts failed` : `all ${started} bids failed`
      finish(() => { reject(new DispatchError(`job ${jobId ?? '?'}: ${why}`, jobId, history)) })
    }

    /** Keeps one attempt running while attempts and bids (or re-bids) remain. */
    const advance = (): void => {
      if (settled || rebidding) return
      if (running.size > 0) {
        // The survivor of a pair may have turned late while its partner ran: hedge it now.
        for (const r of running) if (clock.now() >= r.lateAt) hedge(r)
        return
      }
      if (spent() >= maxAttempts) { giveUp(); return }
      const b = nextBid()
      if (b !== undefined) { start(b, false); return }
      if (opts.rebid === undefined) { giveUp(); return }
      rebidding = true
      opts.rebid(tried).then(fresh => {
        rebidding = false
        if (settled) return
        for (const f of fresh) if (!tried.has(f.peerId)) queue.push(f)
        if (queue.length === 0) { giveUp(); return }
        advance()
      }, () => {
        rebidding = false
        giveUp()
      })
    }

    const hedge = (late: Running): void => {
      if (settled || late.hedged || !running.has(late) || running.size > 1 || spent() >= maxAttempts) return
      const b = peekBid()
      if (b === undefined) return
      late.hedged = true
      if (opts.mayHedge !== undefined && (!opts.mayHedge(b, late.bid) || settled)) return
      queue.shift()
      hedges++
      start(b, true)
    }

    const start = (bid: Bid, isHedge: boolean): void => {
      started++
      tried.add(bid.peerId)
      const lateAfter = opts.hedgeAfter?.(bid) ?? Infinity
      const deadline = opts.deadlineFor(bid)
      const hedgeable = Number.isFinite(lateAfter) && (!Number.isFinite(deadline) || lateAfter < deadline)
      const r: Running = { bid, controller: new AbortController(), startedAt: clock.now(), hedge: isHedge, timers: [], hedged: false, lateAt: hedgeable ? clock.now() + Math.max(0, lateAfter) : Infinity }
      running.add(r)
      opts.onAttemptStart?.(bid, started, isHedge)
      if (settled) return // onAttemptStart aborted the dispatch
      if (Number.isFinite(deadline)) {
        r.timers.push(clock.setTimeout(() => {
          if (!running.has(r)) return
          const reason = `no result within ${deadline} ms`
          r.controller.abort(new AttemptTimeoutError(reason))
          end(r, 'timeout', reason)
          advance()
        }, Math.max(0, deadline)))
      }
      if (hedgeable) {
        r.timers.push(clock.setTimeout(() => { hedge(r) }, Math.max(0, lateAfter)))
      }
      let pending: Promise<T>
      try {
        pending = Promise.resolve(opts.attempt(bid, r.controller.signal))
      } catch (err) {
        pending = Promise.reject(err)
      }
      pending.then(value => {
        if (!running.has(r) || settled) return
        end(r, 'ok')
        for (const other of [...running]) {
          const reason = `a duplicate on ${bid.peerId} finished first`
          other.controller.abort(new AttemptCancelledError(reason))
          end(other, 'cancelled', reason)
        }
        finish(() => { resolve({ result: value, bid, attempts: started, hedged: r.hedge, hedges }) })
      }, (err: unknown) => {
        if (!running.has(r) || settled) return
        const outcome: AttemptOutcome = err instanceof AttemptRejectedError
          ? 'rejected'
          : err instanceof AttemptInvalidError ? 'invalid' : 'error'
        if (outcome === 'rejected') {
          declined++
          const n = (declinedBy.get(bid.peerId) ?? 0) + 1
          declinedBy.set(bid.peerId, n)
          if (n < MAX_DECLINES_PER_WORKER) tried.delete(bid.peerId)
        }
        end(r, outcome, describe(err))
        advance()
      })
    }

    if (opts.signal?.aborted === true) {
      finish(() => { reject(new DispatchAbortedError(`dispatch of job ${jobId ?? '?'} aborted`, jobId, history, { cause: opts.signal?.reason })) })
      return
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    advance()
  })
}
