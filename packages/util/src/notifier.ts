import { systemClock } from './clock.js'
import type { Clock } from './clock.js'

/** Most waiters parked on one key (more: the newest waits out its time alone, unparked). */
export const MAX_WAITERS_PER_KEY = 10_000

export interface WaitOptions {
  /** Give up after this long (ms): the wait resolves, it does not throw. */
  timeoutMs: number
  /** Stop waiting when this fires (a shutdown or a closed request): the wait resolves. */
  signal?: AbortSignal
}

/**
 * "Wait until woken or time out", keyed: `wait(key, until)` resolves as soon
 * as `until()` holds when checked at a `wake(key)`, or when the timeout or
 * signal fires. Waiting never throws; the caller looks at its own state
 * afterwards. Keys with no waiter leave nothing behind, so waiting on keys a
 * stranger chose (made-up stream ids) costs nothing once the wait ends.
 */
export class Notifier<K = string> {
  readonly #waiters = new Map<K, Set<() => void>>()
  readonly #clock: Clock

  /** `clock` times the timeouts (a `FakeClock` in tests). */
  constructor (clock: Clock = systemClock) {
    this.#clock = clock
  }

  async wait (key: K, until: () => boolean, opts: WaitOptions): Promise<void> {
    if (until() || opts.signal?.aborted === true) return
    await new Promise<void>(resolve => {
      let set = this.#waiters.get(key)
      if (set == null) {
        set = new Set()
        this.#waiters.set(key, set)
      }
      const waiters = set
      const check = (): void => { if (until()) finish() }
      const finish = (): void => {
        this.#clock.clearTimeout(timer)
        opts.signal?.removeEventListener('abort', finish)
        waiters.delete(check)
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
        resolve()
      }
      const timer = this.#clock.setTimeout(finish, Math.max(0, opts.timeoutMs))
      opts.signal?.addEventListener('abort', finish, { once: true })
      if (waiters.size < MAX_WAITERS_PER_KEY) waiters.add(check)
    })
  }

  /** Re-checks every waiter on `key`. */
  wake (key: K): void {
    for (const check of [...(this.#waiters.get(key) ?? [])]) check()
  }

  /** Re-checks every waiter on every key. */
  wakeAll (): void {
    for (const key of [...this.#waiters.keys()]) this.wake(key)
  }

  /** Keys with at least one waiter. */
  get size (): number { return this.#waiters.size }
}
