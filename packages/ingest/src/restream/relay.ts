import { connected, failed, initialStatus, retryDue, start, stop } from './output-state.js'
import type { BackoffPolicy, OutputStatus } from './output-state.js'
import type { Clock } from '@diststream/util'

/** One attempt at sending to an output (an ffmpeg run, in production). */
export interface RelayAttempt {
  /** Settles when the attempt ends, with why (redacted). */
  ended: Promise<string>
  /** Ends the attempt (its `ended` then settles). */
  kill: () => void
}

export interface RelayInit {
  clock: Clock
  policy: BackoffPolicy
  /** An attempt that reports no media within this long is ended (a receiver that accepts and hangs). */
  connectTimeoutMs: number
  /** A live attempt whose media stops moving for this long is ended. */
  stallMs: number
  /** Starts an attempt; it calls `onMedia` whenever more media reached the output. */
  run: (onMedia: () => void) => RelayAttempt
  onChange?: (s: OutputStatus) => void
}

/**
 * Drives one output through its state machine (output-state.ts) with real
 * attempts and the injected clock: start when the source is live, a new
 * attempt after each backoff, a watchdog for hung connects and stalls, stop
 * when the source ends. No I/O of its own: `run` does it.
 */
export class OutputRelay {
  #status: OutputStatus
  #attempt?: RelayAttempt
  #why?: string
  #timer?: unknown
  readonly #init: RelayInit

  constructor (init: RelayInit) {
    this.#init = init
    this.#status = initialStatus(init.clock.now())
  }

  get status (): OutputStatus { return this.#status }

  /** The source went live: connect (a failed output gets a new chance). */
  start (): void {
    const next = start(this.#status, this.#init.clock.now())
    if (next === this.#status) return
    this.#set(next)
    this.#launch()
  }

  /** The source ended or the output was removed. */
  stop (): void {
    this.#clearTimer()
    const a = this.#attempt
    this.#attempt = undefined
    a?.kill()
    this.#set(stop(this.#status, this.#init.clock.now()))
  }

  #set (s: OutputStatus): void {
    if (s === this.#status) return
    this.#status = s
    this.#init.onChange?.(s)
  }

  #clearTimer (): void {
    if (this.#timer !== undefined) this.#init.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** (Re)arms the watchdog: the attempt is ended unless media moves within `ms`. */
  #arm (ms: number, why: string): void {
    this.#clearTimer()
    this.#timer = this.#init.clock.setTimeout(() => {
      this.#timer = undefined
      this.#why = why
      this.#attempt?.kill()
    }, ms)
  }

  #launch (): void {
    this.#why = undefined
    const attempt = this.#init.run(() => { this.#onMedia(attempt) })
    this.#attempt = attempt
    this.#arm(this.#init.connectTimeoutMs, `no media reached the output within ${this.#init.connectTimeoutMs} ms`)
    attempt.ended.then(
      (why) => { this.#onEnd(attempt, why) },
      (err: unknown) => { this.#onEnd(attempt, err instanceof Error ? err.message : String(err)) }
    )
  }

  #onMedia (attempt: RelayAttempt): void {
    if (attempt !== this.#attempt) return
    this.#set(connected(this.#status, this.#init.clock.now()))
    this.#arm(this.#init.stallMs, `the output stalled for ${this.#init.stallMs} ms`)
  }

  #onEnd (attempt: RelayAttempt, why: string): void {
    if (attempt !== this.#attempt) return
    this.#attempt = undefined
    this.#clearTimer()
    const now = this.#init.clock.now()
    const next = failed(this.#status, now, this.#why ?? why, this.#init.policy)
    this.#set(next)
    if (next.state !== 'retrying') return
    this.#timer = this.#init.clock.setTimeout(() => {
      this.#timer = undefined
      const due = retryDue(this.#status, this.#init.clock.now())
      if (due.state !== 'connecting') return
      this.#set(due)
      this.#launch()
    }, Math.max(0, (next.retryAt ?? now) - now))
  }
}
