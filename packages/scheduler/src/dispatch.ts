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

/** Thrown by an attempt's signal when its deadline elapses. */
export class AttemptTimeoutError extends Error {
  override name = 'AttemptTimeoutError'
}

/** One finished attempt of a dispatch. */
export interface DispatchAttempt {
  peerId: string
  outcome: AttemptOutcome
  reason: string
  startedAt: number
  endedAt: number
}

/** Thrown when a job could not be dispatched: no bids, or every allowed attempt failed. */
export class DispatchError extends Error {
  override name = 'DispatchError'
  readonly jobId: string | undefined
  /** Every attempt made, in order, with why it failed. */
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
   * Runs the job on the bidder. Resolve with the result, or reject (throw
   * {@link AttemptRejectedError} if the worker declined). Should stop when
   * `signal` aborts (deadline or caller abort); its later outcome is ignored.
   */
  attempt: (bid: Bid, signal: AbortSignal) => Promise<T>
  /** Attempts at most (default: one per bid). */
  maxAttempts?: number
  /** Deadline for an attempt on this bidder, ms from its start (non-finite = none). */
  deadlineFor: (bid: Bid) => number
  /** Default {@link systemClock}. */
  clock?: Clock
  /** Aborts the whole dispatch. */
  signal?: AbortSignal
  /** Called when an attempt starts (1-based number). */
  onAttemptStart?: (bid: Bid, attempt: number) => void
  /** Called when an attempt ends, successfully (`'ok'`) or not. */
  onAttempt?: (bid: Bid, outcome: AttemptOutcome, reason: string | undefined) => void
}

export interface DispatchResult<T> {
  result: T
  bid: Bid
  /** Attempts made, including the successful one. */
  attempts: number
}

type Settled<T> =
  | { kind: 'ok', value: T }
  | { kind: 'error' | 'rejected' | 'timeout' | 'aborted', reason: string }

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/**
 * Tries the bids in order until one attempt succeeds. Each attempt gets its
 * own AbortSignal, aborted (with {@link AttemptTimeoutError}) when
 * `deadlineFor(bid)` elapses on `clock`, at which point the next bidder is
 * tried at once without waiting for the slow one to settle.
 *
 * Rejects with {@link DispatchError} (listing every attempt) when bids or
 * attempts run out, and with {@link DispatchAbortedError} when `signal`
 * aborts (the running attempt is aborted and reported as `'error'`).
 */
export async function dispatchJob<T> (opts: DispatchOptions<T>): Promise<DispatchResult<T>> {
  const clock = opts.clock ?? systemClock
  const jobId = opts.bids[0]?.jobId
  const max = Math.min(opts.bids.length, opts.maxAttempts ?? Infinity)
  const history: DispatchAttempt[] = []
  const aborted = (): DispatchAbortedError =>
    new DispatchAbortedError(`dispatch of job ${jobId ?? '?'} aborted`, jobId, history, { cause: opts.signal?.reason })

  if (opts.bids.length === 0) throw new DispatchError('no bids', undefined, [])
  for (let i = 0; i < max; i++) {
    if (opts.signal?.aborted === true) throw aborted()
    const bid = opts.bids[i]!
    const startedAt = clock.now()
    opts.onAttemptStart?.(bid, i + 1)
    const settled = await runAttempt(opts, bid, clock)
    if (settled.kind === 'ok') {
      opts.onAttempt?.(bid, 'ok', undefined)
      return { result: settled.value, bid, attempts: i + 1 }
    }
    const outcome: AttemptOutcome = settled.kind === 'aborted' ? 'error' : settled.kind
    history.push({ peerId: bid.peerId, outcome, reason: settled.reason, startedAt, endedAt: clock.now() })
    opts.onAttempt?.(bid, outcome, settled.reason)
    if (settled.kind === 'aborted') throw aborted()
  }
  const why = max < opts.bids.length ? `all ${max} allowed attempts failed` : `all ${max} bids failed`
  throw new DispatchError(`job ${jobId ?? '?'}: ${why}`, jobId, history)
}

/** Runs one attempt, racing it against its deadline and the caller's signal. Never rejects. */
async function runAttempt<T> (opts: DispatchOptions<T>, bid: Bid, clock: Clock): Promise<Settled<T>> {
  const controller = new AbortController()
  const deadline = opts.deadlineFor(bid)
  let timer: unknown
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<Settled<T>>(resolve => {
      if (Number.isFinite(deadline)) {
        timer = clock.setTimeout(() => {
          timer = undefined
          const reason = `no result within ${deadline} ms`
          controller.abort(new AttemptTimeoutError(reason))
          resolve({ kind: 'timeout', reason })
        }, Math.max(0, deadline))
      }
      if (opts.signal !== undefined) {
        const signal = opts.signal
        onAbort = () => {
          controller.abort(signal.reason)
          resolve({ kind: 'aborted', reason: `aborted: ${describe(signal.reason)}` })
        }
        signal.addEventListener('abort', onAbort, { once: true })
        if (signal.aborted) { onAbort(); return } // aborted by onAttemptStart: do not start
      }
      let pending: Promise<T>
      try {
        pending = Promise.resolve(opts.attempt(bid, controller.signal))
      } catch (err) {
        pending = Promise.reject(err)
      }
      pending.then(
        value => { resolve({ kind: 'ok', value }) },
        (err: unknown) => {
          resolve(err instanceof AttemptRejectedError
            ? { kind: 'rejected', reason: describe(err) }
            : { kind: 'error', reason: describe(err) })
        })
    })
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer)
    if (onAbort !== undefined) opts.signal?.removeEventListener('abort', onAbort)
  }
}
