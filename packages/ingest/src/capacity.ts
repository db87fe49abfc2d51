import { Notifier } from '@diststream/util'

/**
 * "A worker may have room now": raised when an attempt of ours ends (its
 * worker freed a slot) and when presence shows a worker with a free slot.
 * Queued jobs wait on it instead of a fixed retry pause, so a job goes back
 * on the market the moment capacity appears, not up to a pause later.
 */
export class CapacitySignal {
  #epoch = 0
  readonly #notifier = new Notifier<'free'>()

  /** Capacity may have appeared: every waiter goes and looks. */
  freed (): void {
    this.#epoch++
    this.#notifier.wake('free')
  }

  /** Resolves at the next {@link freed}, after `timeoutMs`, or when `signal` aborts; never throws. */
  async wait (timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const from = this.#epoch
    await this.#notifier.wait('free', () => this.#epoch !== from, { timeoutMs, ...(signal != null ? { signal } : {}) })
  }
}
