/** Time source and timers, injectable so scheduling logic can be tested without waiting. */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin, for fake clocks). */
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The real clock: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: handle => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}

interface Timer { id: number, at: number, fn: () => void }

/** Lets pending promise callbacks (microtasks) run. */
const settle = async (): Promise<void> => { await new Promise<void>(resolve => setImmediate(resolve)) }

/**
 * A manual clock for tests. Time only moves in {@link advance} /
 * {@link advanceAsync}; due timers run in order of due time, then of
 * scheduling, with {@link now} set to each timer's due time while it runs.
 * Timers scheduled by a running timer also run if they fall due in the span.
 */
export class FakeClock implements Clock {
  #now: number
  #nextId = 1
  #timers: Timer[] = []

  constructor (startMs = 0) {
    this.#now = startMs
  }

  now (): number { return this.#now }

  setTimeout (fn: () => void, ms: number): number {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    const timer = { id: this.#nextId++, at: this.#now + delay, fn }
    this.#timers.push(timer)
    return timer.id
  }

  clearTimeout (handle: unknown): void {
    this.#timers = this.#timers.filter(t => t.id !== handle)
  }

  /** Number of timers scheduled and not yet run or cleared. */
  get pendingTimers (): number { return this.#timers.length }

  /** Due time of the earliest pending timer, if any. */
  nextTimerAt (): number | undefined {
    return this.#nextDue(Infinity)?.at
  }

  /**
   * Moves time forward by `ms`, synchronously running every timer that falls
   * due. Promise callbacks triggered by those timers run only afterwards; use
   * {@link advanceAsync} when a timer's effects schedule further timers
   * through promises.
   */
  advance (ms: number): void {
    const target = this.#now + Math.max(0, ms)
    for (let t = this.#nextDue(target); t !== undefined; t = this.#nextDue(target)) this.#run(t)
    this.#now = target
  }

  /**
   * Like {@link advance}, but lets pending promise callbacks settle before,
   * between and after timers, so async code reacting to one timer (for
   * example by scheduling the next deadline) is driven as in real time.
   */
  async advanceAsync (ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms)
    await settle()
    for (let t = this.#nextDue(target); t !== undefined; t = this.#nextDue(target)) {
      this.#run(t)
      await settle()
    }
    this.#now = target
    await settle()
  }

  #nextDue (limit: number): Timer | undefined {
    let best: Timer | undefined
    for (const t of this.#timers) {
      if (t.at <= limit && (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t
    }
    return best
  }

  #run (t: Timer): void {
    this.#timers = this.#timers.filter(x => x !== t)
    this.#now = Math.max(this.#now, t.at)
    t.fn()
  }
}
