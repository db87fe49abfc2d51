import { systemClock, type Clock } from './clock.js'

/**
 * A job that waited longer than this many segment durations for a worker
 * says the workers cannot keep up: a pool that keeps up has a slot free
 * within a duration (its jobs take under a duration each), and the segment
 * behind a job that waited a duration waits as long again. Shedding at one
 * duration leaves the second of the two durations a live stream may fall
 * behind (issue 13) for the jobs already on a worker to drain.
 */
export const SHED_WAIT_DURATIONS = 1

/**
 * After a change, the next shed waits this many durations: the jobs already
 * on a worker carry the old ladder (up to one slow job per slot), and the
 * jobs queued behind them wait for them, so a second shed would be blamed on
 * work the first one already took away. Waits of jobs queued before the
 * change never count (see {@link RungShedder}).
 */
export const SHED_COOLDOWN_DURATIONS = 2

/**
 * Headroom for a restore: no job waited more than this many durations for a
 * worker (a quarter of a duration is above an auction's bid window, 150 ms
 * by default, for segments of a second or more).
 */
export const RESTORE_WAIT_DURATIONS = 0.25

/**
 * A shed rung comes back only after this many durations of headroom (and of
 * no change): long enough to see several jobs per worker, short enough that
 * a viewer gets the rung back within a few tens of seconds.
 */
export const RESTORE_QUIET_DURATIONS = 8

/**
 * The load the pool may carry once the rung is back: the share of its job
 * slots busy with this stream over the quiet window, scaled by the cost the
 * returning rung adds (cost ∝ weight, e.g. pixels), must stay within this.
 * A quarter of headroom keeps a worker that only just keeps up with the
 * smaller ladder from getting the bigger one back (it would fall behind at
 * once, and the rung would flap).
 */
export const RESTORE_MAX_LOAD = 0.75

/**
 * A shed within this many durations of a restore means the restore was
 * premature: the next quiet period doubles (hysteresis that grows with each
 * flap), up to {@link MAX_RESTORE_BACKOFF} times; a restore that holds this
 * long resets it.
 */
export const FLAP_WINDOW_DURATIONS = 16

/** The quiet period grows to at most this many times {@link RESTORE_QUIET_DURATIONS} (8 × 8 × 2 s ≈ 2 minutes). */
export const MAX_RESTORE_BACKOFF = 8

/**
 * The cheapest rung is never shed: the least a viewer on the ladder keeps
 * (the source plays too, but it is the costliest to watch). With a one-rung
 * ladder nothing is shed.
 */
export const MIN_LIVE_RUNGS = 1

/** Jobs tracked as queued or running, and finished jobs kept for the load, at most (a stalled stream must not grow memory); the oldest go first. */
export const MAX_TRACKED_JOBS = 1024

export interface RungShedderOptions {
  /** Rung names, costliest first (the order they are shed in). */
  rungs: readonly string[]
  /** Each rung's relative cost, same order (e.g. pixels per frame); default 1 each. */
  weights?: readonly number[]
  /** The stream's segment duration, ms. */
  segmentMs: number
  /** Default {@link systemClock}. */
  clock?: Clock
}

/** One rung of the ladder and whether it is transcoded now, costliest first. */
export interface RungState {
  name: string
  live: boolean
}

/**
 * Live means live: when workers cannot keep up, a live stream sheds its
 * costliest rungs instead of letting its jobs queue (each queued job adds
 * its wait to its segment's latency, and every job behind it waits too).
 * The stream reports each job's life: {@link queued} (the segment closed and
 * its job waits for a worker), {@link dispatched} (bids in hand: it leaves
 * the queue, asking for {@link live} rungs), {@link finished}.
 *
 * - **Shed**: a job queued since the last change waited more than
 *   {@link SHED_WAIT_DURATIONS} for a worker (still waiting, or just
 *   dispatched) → the costliest live rung goes, at most once per
 *   {@link SHED_COOLDOWN_DURATIONS}, down to the {@link MIN_LIVE_RUNGS}
 *   cheapest (the source always plays).
 * - **Restore**: {@link RESTORE_QUIET_DURATIONS} (× the flap backoff) since
 *   the last change and since any job waited more than
 *   {@link RESTORE_WAIT_DURATIONS}, and the pool's load from this stream
 *   over that window, scaled by the returning rung's cost, within
 *   {@link RESTORE_MAX_LOAD} → the last shed rung comes back, one at a time.
 *
 * Pure apart from the injected clock: no timers, no I/O.
 */
export class RungShedder {
  readonly #rungs: readonly string[]
  readonly #weights: readonly number[]
  readonly #segmentMs: number
  readonly #clock: Clock
  /** How many of the costliest rungs are shed now. */
  #shed = 0
  #lastChange = -Infinity
  #lastRestore = -Infinity
  /** When a job last waited past {@link RESTORE_WAIT_DURATIONS} (no headroom then). */
  #lastWait = -Infinity
  /** A job of the current ladder was dispatched late: shed at the next update. */
  #lateDispatch = false
  #backoff = 1
  /** Ladder changes so far: a job queued before the last one waited behind the old ladder's work. */
  #epoch = 0
  /** The pool's job slots, as last reported. */
  #slots = 1
  readonly #queue = new Map<number, { since: number, epoch: number }>()
  readonly #running = new Map<number, number>()
  /** Finished jobs: when, and how long they held a worker (ms), oldest first. */
  readonly #work: Array<{ at: number, busyMs: number }> = []

  constructor (opts: RungShedderOptions) {
    this.#rungs = [...opts.rungs]
    this.#weights = this.#rungs.map((_, i) => Math.max(0, opts.weights?.[i] ?? 1))
    this.#segmentMs = Math.max(1, opts.segmentMs)
    this.#clock = opts.clock ?? systemClock
  }

  /** A segment's job waits for a worker from now. */
  queued (seq: number): void {
    bounded(this.#queue).set(seq, { since: this.#clock.now(), epoch: this.#epoch })
  }

  /** The job of `seq` has its bids: it leaves the queue for a worker now. */
  dispatched (seq: number): void {
    const q = this.#queue.get(seq)
    if (q === undefined) return
    this.#queue.delete(seq)
    const now = this.#clock.now()
    const waited = now - q.since
    if (waited > RESTORE_WAIT_DURATIONS * this.#segmentMs) this.#lastWait = now
    if (q.epoch === this.#epoch && waited > SHED_WAIT_DURATIONS * this.#segmentMs) this.#lateDispatch = true
    bounded(this.#running).set(seq, now)
  }

  /** The job of `seq` is over (done, failed, or the source passed through); `slots`: job slots of the pool's workers now. */
  finished (seq: number, slots: number): void {
    const now = this.#clock.now()
    this.#slots = Math.max(1, slots)
    this.#queue.delete(seq)
    const since = this.#running.get(seq)
    if (since === undefined) return
    this.#running.delete(seq)
    this.#work.push({ at: now, busyMs: now - since })
    if (this.#work.length > MAX_TRACKED_JOBS) this.#work.shift()
  }

  /** The rungs to ask for now, costliest first (shedding or restoring one first if it is time). */
  live (): string[] {
    this.#update()
    return this.#rungs.slice(this.#shed)
  }

  /** Every rung, costliest first, and whether it is transcoded now. */
  state (): RungState[] {
    this.#update()
    return this.#rungs.map((name, i) => ({ name, live: i >= this.#shed }))
  }

  #update (): void {
    const now = this.#clock.now()
    let late = this.#lateDispatch
    this.#lateDispatch = false
    for (const { since, epoch } of this.#queue.values()) {
      if (now - since > RESTORE_WAIT_DURATIONS * this.#segmentMs) this.#lastWait = now
      if (epoch === this.#epoch && now - since > SHED_WAIT_DURATIONS * this.#segmentMs) late = true
    }
    if (late) {
      if (this.#shed < this.#rungs.length - MIN_LIVE_RUNGS && now - this.#lastChange >= SHED_COOLDOWN_DURATIONS * this.#segmentMs) {
        this.#backoff = now - this.#lastRestore < FLAP_WINDOW_DURATIONS * this.#segmentMs ? Math.min(MAX_RESTORE_BACKOFF, this.#backoff * 2) : 1
        this.#change(+1, now)
      }
      return
    }
    const quietMs = RESTORE_QUIET_DURATIONS * this.#segmentMs
    if (this.#shed === 0 || now - Math.max(this.#lastChange, this.#lastWait) < quietMs * this.#backoff) return
    if (this.#load(now, quietMs) * this.#restoreScale() <= RESTORE_MAX_LOAD) {
      this.#change(-1, now)
      this.#lastRestore = now
    }
  }

  /** Share of the pool's slots this stream's jobs held over the last `windowMs` (running jobs count up to now). */
  #load (now: number, windowMs: number): number {
    let busy = 0
    for (const w of this.#work) if (now - w.at <= windowMs) busy += w.busyMs
    for (const since of this.#running.values()) busy += now - since
    return busy / (windowMs * this.#slots)
  }

  /** What the next rung back multiplies the work by (live weight plus its own, over live weight). */
  #restoreScale (): number {
    const live = this.#weights.slice(this.#shed).reduce((a, b) => a + b, 0)
    const back = this.#weights[this.#shed - 1] ?? 0
    return live > 0 ? (live + back) / live : 1
  }

  #change (by: number, now: number): void {
    this.#shed += by
    this.#epoch++
    this.#lastChange = now
  }
}

/** `map`, its oldest entry dropped first if it is full. */
function bounded<V> (map: Map<number, V>): Map<number, V> {
  if (map.size >= MAX_TRACKED_JOBS) map.delete(map.keys().next().value!)
  return map
}
