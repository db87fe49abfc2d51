/** Waits `ms`, or less if `signal` fires: then it rejects with the signal's reason (a shutdown's own error). */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, Math.max(0, ms))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export interface RetryOptions {
  /** Tries in all, the first included (≥ 1). */
  attempts: number
  /** Pause before try `n` (n ≥ 1: the first retry), in ms. */
  delayMs: (n: number) => number
  /** Stops retrying (and aborts a pause) when this fires. */
  signal?: AbortSignal
  /** Whether an error is worth another try (default: every error). */
  retryable?: (err: unknown) => boolean
  /** Called before each pause, with the error and the retry's number (for a debug log). */
  onRetry?: (err: unknown, n: number) => void
}

/** Backoff that doubles: `base`, `2·base`, `4·base`… capped at `maxMs`. */
export const exponential = (base: number, maxMs = Infinity) => (n: number): number => Math.min(maxMs, base * 2 ** (n - 1))
/** Backoff that grows by `step` each time: `step`, `2·step`… */
export const linear = (step: number) => (n: number): number => step * n

/**
 * Runs `fn` until it resolves or the tries run out; rethrows the last error.
 * A fired signal ends the loop at once with the signal's reason.
 */
export async function retry<T> (fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(opts.attempts))
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted()
    try {
      return await fn(attempt)
    } catch (err) {
      if (attempt + 1 >= attempts || opts.signal?.aborted === true || opts.retryable?.(err) === false) throw err
      opts.onRetry?.(err, attempt + 1)
      await sleep(opts.delayMs(attempt + 1), opts.signal)
    }
  }
}
