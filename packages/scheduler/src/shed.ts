import { systemClock, type Clock } from './clock.js'

/**
 * A segment still unfinished this many segment durations after it closed is
 * late: normal latency is about one encode (under a duration on a machine
 * that keeps up), so past 1.5 durations the stream is falling behind and the
 * top rung goes, keeping a live stream within two durations of normal.
 */
export const SHED_LATE_DURATIONS = 1.5

/**
 * After a rung is shed, the next may go only this many durations later, and
 * only for a segment that itself began after the change: the jobs already
 * queued and running still carry the old ladder, and the segments behind
 * them wait for them; the effect of a shed shows only once they are through.
 */
export const SHED_COOLDOWN_DURATIONS = 3

/**
 * A shed rung comes back only after this many durations in which every
 * segment finished within {@link RESTORE_FAST_DURATIONS} and none was late
 * (hysteresis: a restore that made it late again would flap).
 */
export const RESTORE_QUIET_DURATIONS = 8

/**
 * "Fast" for a restore: a segment's time from closing to finished, scaled up
 * by the cost the rung that would come back adds (cost ∝ weight, e.g.
 * pixels), is within this many durations. A worker that only just keeps up
 * with the smaller ladder does not get the bigger one back (it would fall
 * behind at once, and the rung would flap).
 */
export const RESTORE_FAST_DURATIONS = 0.75

/**
 * The cheapest rungs never shed: the least a viewer on the ladder keeps
 * (the source plays too, but it is the costliest to watch), and the rung
 * costs least to make. With a one-rung ladder nothing is shed.
 */
export const MIN_LIVE_RUNGS = 1

/** Segments tracked as unfinished at most (a stalled stream must not grow memory); the oldest are dropped first. */
export const MAX_TRACKED_SEGMENTS = 1024

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

/** What the shedder decided, for the API and the dashboard. */
export interface ShedState {
  /** Rungs transcoded now, costliest first. */
  live: string[]
  /** Rungs shed now, costliest first. */
  shed: string[]
}

/**
 * Live means live: when workers cannot keep up, a live stream sheds its
 * costliest rungs instead of letting segments queue. The stream reports each
 * segment's close ({@link begin}) and end ({@link end}); {@link live} says
 * which rungs the next job asks for.
 *
 * - **Shed**: the oldest unfinished segment begun on the current ladder is
 *   older than {@link SHED_LATE_DURATIONS} durations → the costliest live
 *   rung goes, at most once per {@link SHED_COOLDOWN_DURATIONS} durations,
 *   down to the {@link MIN_LIVE_RUNGS} cheapest (the source always plays).
 * - **Restore**: {@link RESTORE_QUIET_DURATIONS} durations since the last
 *   change and since the last slow segment (finished, or still unfinished,
 *   past {@link RESTORE_FAST_DURATIONS} durations once scaled by the cost
 *   of the rung that would come back) → the last shed rung comes back, one
 *   at a time.
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
  #lastChange: number
  /** When a segment was last slow (not fast enough for a restore), or -Infinity. */
  #lastSlow = -Infinity
  /** Ladder changes so far: a segment begun before the last one carries the old ladder. */
  #epoch = 0
  /** Unfinished segments: seq → closed at, and the ladder change they began after. */
  readonly #open = new Map<number, { closedAt: number, epoch: number }>()

  constructor (opts: RungShedderOptions) {
    this.#rungs = [...opts.rungs]
    this.#weights = this.#rungs.map((_, i) => Math.max(0, opts.weights?.[i] ?? 1))
    this.#segmentMs = Math.max(1, opts.segmentMs)
    this.#clock = opts.clock ?? systemClock
    this.#lastChange = this.#clock.now()
  }

  /** A segment closed at `closedAt` and is on its way. */
  begin (seq: number, closedAt: number): void {
    this.#open.set(seq, { closedAt, epoch: this.#epoch })
    if (this.#open.size > MAX_TRACKED_SEGMENTS) this.#open.delete(this.#open.keys().next().value!)
  }

  /** A segment is finished (transcoded, passed through or abandoned). */
  end (seq: number): void {
    const open = this.#open.get(seq)
    if (open === undefined) return
    this.#open.delete(seq)
    const now = this.#clock.now()
    if (this.#slow(now - open.closedAt)) this.#lastSlow = now
  }

  /** The rungs the next job asks for, costliest first (and sheds or restores one first if it is time). */
  live (): string[] {
    this.#update()
    return this.#rungs.slice(this.#shed)
  }

  state (): ShedState {
    this.#update()
    return { live: this.#rungs.slice(this.#shed), shed: this.#rungs.slice(0, this.#shed) }
  }

  #update (): void {
    const now = this.#clock.now()
    let oldest = Infinity
    let oldestCurrent = Infinity
    for (const { closedAt, epoch } of this.#open.values()) {
      oldest = Math.min(oldest, closedAt)
      if (epoch === this.#epoch) oldestCurrent = Math.min(oldestCurrent, closedAt)
    }
    const age = Number.isFinite(oldest) ? now - oldest : 0
    // Only a segment on the current ladder says the current ladder is too much.
    const currentAge = Number.isFinite(oldestCurrent) ? now - oldestCurrent : 0
    if (this.#slow(age)) this.#lastSlow = now
    if (currentAge > SHED_LATE_DURATIONS * this.#segmentMs) {
      if (this.#shed < this.#rungs.length - MIN_LIVE_RUNGS && now - this.#lastChange >= SHED_COOLDOWN_DURATIONS * this.#segmentMs) this.#change(+1, now)
      return
    }
    const quietSince = Math.max(this.#lastChange, this.#lastSlow)
    if (this.#shed > 0 && now - quietSince >= RESTORE_QUIET_DURATIONS * this.#segmentMs) this.#change(-1, now)
  }

  /** Too slow for a restore: `ms` scaled by the cost the next rung back would add. */
  #slow (ms: number): boolean {
    if (this.#shed === 0) return ms > RESTORE_FAST_DURATIONS * this.#segmentMs
    const live = this.#weights.slice(this.#shed).reduce((a, b) => a + b, 0)
    const back = this.#weights[this.#shed - 1]!
    // With no rung live, nothing runs: the quiet spell itself is the probe.
    const scale = live > 0 ? (live + back) / live : 1
    return ms * scale > RESTORE_FAST_DURATIONS * this.#segmentMs
  }

  #change (by: number, now: number): void {
    this.#shed += by
    this.#epoch++
    this.#lastChange = now
  }
}
