import { RungShedder, systemClock } from '@diststream/scheduler'
import type { IngestContext } from '../types.js'
import type { RungSpec } from '@diststream/media'
import type { Rung } from '@diststream/protocol'
import type { Clock, RungState } from '@diststream/scheduler'
import type { Logger } from 'pino'

/**
 * Job slots one worker counts for in the pool's load, at most, whatever its
 * presence claims: a peer that claims thousands of slots must not make a
 * stream believe it has headroom (at worst it brings a rung back early, and
 * the RungShedder sheds it again with a longer quiet period after).
 */
export const MAX_SLOTS_PER_WORKER = 8

/**
 * Live means live (issue 13), for one live stream: its jobs ask only for the
 * rungs its {@link RungShedder} keeps. A job is announced with the rungs live
 * when its segment closed, and asks again when it leaves the queue (bids in
 * hand), so a shed takes effect on every job not yet on a worker. A VOD has
 * none of this: every rung, however long the queue.
 */
export class LiveRungs {
  readonly #ctx: Pick<IngestContext, 'presence' | 'localWorker' | 'metrics' | 'segmentSeconds'>
  readonly #log: Logger
  readonly #clock: Clock
  #shedder?: RungShedder
  /** Rungs live now (for the log line on a change), and in the whole ladder. */
  #live = 0
  #full = 0

  constructor (ctx: Pick<IngestContext, 'presence' | 'localWorker' | 'metrics' | 'segmentSeconds'>, log: Logger, clock: Clock = systemClock) {
    this.#ctx = ctx
    this.#log = log
    this.#clock = clock
  }

  /** A segment's job is about to be announced: it waits for a worker from now; the rungs of `full` to announce. */
  queued (seq: number, durationMs: number, full: readonly RungSpec[]): RungSpec[] {
    if (full.length === 0) return []
    // Costliest first: the order rungs are shed in; the cost of a rung is its pixels per frame.
    const byCost = [...full].sort((a, b) => b.width * b.height - a.width * a.height)
    if (this.#shedder == null) {
      // The stream's segment duration: the configured one, or longer if its keyframes are further apart
      // (a short first segment must not make every threshold tighter).
      const segmentMs = Math.max(durationMs, this.#ctx.segmentSeconds * 1000)
      this.#shedder = new RungShedder({ rungs: byCost.map(r => r.name), weights: byCost.map(r => r.width * r.height), segmentMs, clock: this.#clock })
      this.#live = this.#full = byCost.length
    }
    this.#shedder.queued(seq)
    const live = new Set(this.#liveNow())
    return full.filter(r => live.has(r.name))
  }

  /** The job of `seq` has its bids and goes to a worker: the rungs of `ladder` it asks for now. */
  dispatched (seq: number, ladder: readonly Rung[]): Rung[] {
    if (this.#shedder == null) return [...ladder]
    this.#shedder.dispatched(seq)
    const live = new Set(this.#liveNow())
    const kept = ladder.filter(r => live.has(r.name))
    if (kept.length < this.#full) this.#ctx.metrics.shedRungs.inc(this.#full - kept.length)
    return kept
  }

  /** The job of `seq` is over (done, failed or passed through). */
  finished (seq: number): void {
    this.#shedder?.finished(seq, this.#slots())
  }

  /** Every rung, costliest first, and whether it is transcoded now (undefined before the first segment). */
  state (): RungState[] | undefined {
    return this.#shedder?.state()
  }

  #liveNow (): string[] {
    const live = this.#shedder!.live()
    if (live.length !== this.#live) {
      const state = this.#shedder!.state()
      this.#log.info({ live, shed: state.filter(r => !r.live).map(r => r.name) }, live.length < this.#live ? 'workers cannot keep up: shedding a rung' : 'capacity is back: a rung returns')
      this.#live = live.length
    }
    return live
  }

  /** Job slots of the workers the ingest knows now (each counted up to MAX_SLOTS_PER_WORKER). */
  #slots (): number {
    const remote = this.#ctx.presence.withRole('worker').reduce((n, p) => n + Math.min(MAX_SLOTS_PER_WORKER, Math.max(0, p.maxJobs)), 0)
    return remote + (this.#ctx.localWorker ? 1 : 0)
  }
}
