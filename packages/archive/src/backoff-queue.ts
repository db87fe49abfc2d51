import type { Clock } from '@diststream/util'

/** One file to upload. */
export interface UploadJob {
  /** Object key. */
  key: string
  /** Local path. */
  file: string
  /** Failed attempts so far. */
  attempts: number
}

/** How an attempt ended: `ok`; `retry` (network, 5xx, the server gone: try again after a backoff); `fatal` (denied, bad request: give up). */
export type AttemptOutcome = 'ok' | 'retry' | 'fatal'

export interface QueueInit {
  clock: Clock
  /** Runs one upload; its outcome decides what happens to the job. */
  attempt: (job: UploadJob) => Promise<AttemptOutcome>
  /** Most jobs waiting or running; past it new ones are refused (`dropped`), so a dead bucket cannot eat the node's memory. */
  maxPending: number
  /** Uploads running at once. */
  concurrency: number
  /** Wait before the n-th retry (1-based). */
  backoffMs: (attempts: number) => number
  /** Give up a job after this many failed attempts. */
  maxAttempts: number
  /** Every settled job and refusal: `ok`, `failed` (gave up after retries), `denied` (fatal), `dropped` (queue full). */
  onResult?: (result: 'ok' | 'failed' | 'denied' | 'dropped', job: UploadJob) => void
  /** The jobs not yet done changed (to persist them). */
  onChange?: () => void
}

/**
 * A bounded upload queue with retries and exponential backoff. `enqueue`
 * never waits (the live path only hands a file over); jobs run
 * `concurrency` at a time in order, a failed one waits its backoff while the
 * others go on. No I/O of its own: the clock and `attempt` are injected.
 */
export class UploadQueue {
  readonly #init: QueueInit
  /** Key → job, in order of arrival (waiting, backing off or running). */
  readonly #jobs = new Map<string, UploadJob>()
  readonly #running = new Set<string>()
  /** Keys waiting out a backoff, with their timers. */
  readonly #waiting = new Map<string, unknown>()
  #stopped = false

  constructor (init: QueueInit) { this.#init = init }

  /** Jobs not done yet (to persist: a restart resumes them). */
  pending (): UploadJob[] { return [...this.#jobs.values()].map(j => ({ ...j })) }
  get size (): number { return this.#jobs.size }
  get running (): number { return this.#running.size }

  /** Queues `file` for `key` (a key already queued is left as it is); false when the queue is full. */
  enqueue (file: string, key: string, attempts = 0): boolean {
    if (this.#jobs.has(key)) return true
    const job = { key, file, attempts }
    if (this.#jobs.size >= this.#init.maxPending) {
      this.#init.onResult?.('dropped', job)
      return false
    }
    this.#jobs.set(key, job)
    this.#init.onChange?.()
    this.#pump()
    return true
  }

  /** Stops starting uploads and cancels the backoffs (running ones finish; jobs stay in `pending()`). */
  stop (): void {
    this.#stopped = true
    for (const t of this.#waiting.values()) this.#init.clock.clearTimeout(t)
    this.#waiting.clear()
  }

  #pump (): void {
    if (this.#stopped) return
    for (const job of this.#jobs.values()) {
      if (this.#running.size >= this.#init.concurrency) return
      if (this.#running.has(job.key) || this.#waiting.has(job.key)) continue
      this.#run(job)
    }
  }

  #run (job: UploadJob): void {
    this.#running.add(job.key)
    // A thrown attempt is a transient failure: retried after its backoff.
    void this.#init.attempt(job).catch((): AttemptOutcome => 'retry').then((outcome) => {
      this.#running.delete(job.key)
      if (outcome === 'ok' || outcome === 'fatal') {
        this.#jobs.delete(job.key)
        this.#init.onResult?.(outcome === 'ok' ? 'ok' : 'denied', job)
        this.#init.onChange?.()
      } else if (++job.attempts >= this.#init.maxAttempts) {
        this.#jobs.delete(job.key)
        this.#init.onResult?.('failed', job)
        this.#init.onChange?.()
      } else if (!this.#stopped) {
        this.#waiting.set(job.key, this.#init.clock.setTimeout(() => {
          this.#waiting.delete(job.key)
          this.#pump()
        }, this.#init.backoffMs(job.attempts)))
        this.#init.onChange?.()
      }
      this.#pump()
    })
  }
}
