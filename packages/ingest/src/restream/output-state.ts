/**
 * A restream output's state machine (pure, no I/O, no timers): idle →
 * connecting → live, and on a failure retrying (after an exponential
 * backoff) → connecting again, or failed after too many failures in a row.
 * The relay (relay.ts) feeds it events and the clock.
 */

export type OutputState = 'idle' | 'connecting' | 'live' | 'retrying' | 'failed'

export interface OutputStatus {
  state: OutputState
  /** Failures since the output was last live (resets once it is live). */
  failures: number
  /** When it entered this state (ms). */
  since: number
  /** `retrying`: when the next attempt starts (ms). */
  retryAt?: number
  /** The last failure, redacted (never the URL's key). */
  lastError?: string
}

export interface BackoffPolicy {
  /** First retry after this long (ms); each later one doubles. */
  baseMs: number
  /** No wait is longer than this (ms). */
  maxMs: number
  /** Failures in a row after which the output gives up (`failed`) until the stream goes live again. */
  maxFailures: number
}

export const initialStatus = (now: number): OutputStatus => ({ state: 'idle', failures: 0, since: now })

/** The wait before retry number `failures` (1-based): base × 2^(n-1), at most maxMs. */
export function backoffMs (failures: number, p: BackoffPolicy): number {
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, failures - 1))
}

/** The source is live: start connecting (from idle, or again from failed: a new publish is a new chance). */
export function start (s: OutputStatus, now: number): OutputStatus {
  if (s.state === 'connecting' || s.state === 'live' || s.state === 'retrying') return s
  return { state: 'connecting', failures: 0, since: now, lastError: s.lastError }
}

/** The output accepts media (ffmpeg reports progress). */
export function connected (s: OutputStatus, now: number): OutputStatus {
  if (s.state !== 'connecting') return s
  return { state: 'live', failures: 0, since: now }
}

/** The attempt ended (ffmpeg exited, timed out or stalled): retry after the backoff, or give up. */
export function failed (s: OutputStatus, now: number, error: string, p: BackoffPolicy): OutputStatus {
  if (s.state !== 'connecting' && s.state !== 'live') return s
  const failures = s.failures + 1
  if (failures >= p.maxFailures) return { state: 'failed', failures, since: now, lastError: error }
  return { state: 'retrying', failures, since: now, retryAt: now + backoffMs(failures, p), lastError: error }
}

/** The backoff is over: connect again. */
export function retryDue (s: OutputStatus, now: number): OutputStatus {
  if (s.state !== 'retrying' || now < (s.retryAt ?? 0)) return s
  return { state: 'connecting', failures: s.failures, since: now, lastError: s.lastError }
}

/** The source ended (or the output was removed): nothing runs. */
export function stop (s: OutputStatus, now: number): OutputStatus {
  if (s.state === 'idle') return s
  return { state: 'idle', failures: 0, since: now, lastError: s.lastError }
}
