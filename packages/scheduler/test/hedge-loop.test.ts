import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  attemptDeadlineMs, DispatchError, dispatchJob, FakeClock, HEDGE_SHARE, HEDGE_WINDOW_MIN_JOBS, HedgeBudget, hedgeAfterMs, SpeedTracker,
  type Bid, type DispatchOptions
} from '../src/index.js'
import { bid } from './helpers.js'

/**
 * One machine whose cores every worker shares (the test cluster, or a host
 * running several workers): processor sharing, so each running attempt
 * progresses at `min(1, cores / running)`: the more attempts run at once,
 * hedges included, the slower each of them.
 */
class Machine {
  readonly #clock: FakeClock
  readonly #cores: number
  readonly #tasks = new Set<{ left: number, done: () => void }>()
  #last = 0
  #timer: unknown

  constructor (clock: FakeClock, cores: number) {
    this.#clock = clock
    this.#cores = cores
  }

  /** Runs `workMs` of one core's work; rejects with the signal's reason on abort. */
  async run (workMs: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#progress()
      const task = { left: workMs, done: resolve }
      this.#tasks.add(task)
      signal.addEventListener('abort', () => {
        if (!this.#tasks.has(task)) return // finished already: nothing to take back
        this.#progress()
        this.#tasks.delete(task)
        this.#schedule()
        reject(signal.reason)
      }, { once: true })
      this.#schedule()
    })
  }

  #rate (): number { return Math.min(1, this.#cores / Math.max(1, this.#tasks.size)) }

  #progress (): void {
    const now = this.#clock.now()
    const worked = (now - this.#last) * this.#rate()
    this.#last = now
    for (const t of this.#tasks) t.left -= worked
  }

  #schedule (): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#tasks.size === 0) return
    const first = Math.min(...[...this.#tasks].map(t => t.left))
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#progress()
      for (const t of [...this.#tasks]) {
        if (t.left <= 1e-6) { this.#tasks.delete(t); t.done() }
      }
      this.#schedule()
    }, Math.max(0, first / this.#rate()))
  }
}

interface Policy {
  /** Hedge timing, deadline and the hedge gate for one job. */
  options: Pick<DispatchOptions<void>, 'hedgeAfter' | 'deadlineFor' | 'mayHedge'>
  /** An attempt returned its result after `elapsedMs`. */
  finished: (b: Bid, elapsedMs: number) => void
  /** A job ended (done or failed) having started `hedges` hedges. */
  recorded: (hedges: number) => void
}

interface Job { segment: number, latencyMs: number, hedges: number, failed: boolean }

const SEGMENT_MS = 2000
/** One job's work on an idle core, ms: what every worker calibrated, and bids as its estimate. */
const BASE_MS = 250
const STREAMS = 14
const CORES = 2
const WORKERS = 6
const SEGMENTS = 40
/** Without hedges the machine is 87.5 % busy: it keeps up, with little room to spare. */
const LOAD = STREAMS * BASE_MS / (CORES * SEGMENT_MS)

/**
 * STREAMS streams each cut a segment every SEGMENT_MS (all at the same
 * instant: the worst case); each job goes to dispatchJob with bids from
 * WORKERS workers (rotated, so the first choice spreads), all on one machine.
 */
async function simulate (policy: (clock: FakeClock) => Policy): Promise<Job[]> {
  const clock = new FakeClock()
  const machine = new Machine(clock, CORES)
  const pol = policy(clock)
  const active = new Map<string, number>()
  const jobs: Job[] = []
  const running: Array<Promise<void>> = []
  let n = 0
  const dispatch = async (segment: number): Promise<void> => {
    const k = n++
    const bids = Array.from({ length: WORKERS }, (_, i) => {
      const peerId = `w${(k + i) % WORKERS}`
      return bid(peerId, { jobId: `j${k}`, estimateMs: BASE_MS, activeJobs: active.get(peerId) ?? 0, maxJobs: 4 })
    })
    const arrived = clock.now()
    let hedges = 0
    let failed = false
    try {
      const out = await dispatchJob<void>({
        bids,
        clock,
        maxAttempts: 4,
        ...pol.options,
        attempt: async (b, signal) => {
          const startedAt = clock.now()
          active.set(b.peerId, (active.get(b.peerId) ?? 0) + 1)
          try {
            await machine.run(BASE_MS, signal)
          } finally {
            active.set(b.peerId, (active.get(b.peerId) ?? 1) - 1)
          }
          pol.finished(b, clock.now() - startedAt)
        }
      })
      hedges = out.hedges
    } catch (err) {
      if (!(err instanceof DispatchError)) throw err
      hedges = err.attempts.filter(a => a.hedge).length
      failed = true
    }
    jobs.push({ segment, latencyMs: clock.now() - arrived, hedges, failed })
    pol.recorded(hedges)
  }
  for (let s = 0; s < SEGMENTS; s++) {
    for (let i = 0; i < STREAMS; i++) running.push(dispatch(s))
    await clock.advanceAsync(SEGMENT_MS)
  }
  // Drain: every attempt has a deadline, so this ends.
  while (clock.pendingTimers > 0) await clock.advanceAsync(SEGMENT_MS)
  await Promise.all(running)
  return jobs
}

/** Today's ingest: late against the idle estimate, and every late attempt hedged. */
const today = (): Policy => ({
  options: {
    hedgeAfter: b => hedgeAfterMs(b.estimateMs, SEGMENT_MS),
    deadlineFor: b => attemptDeadlineMs(b.estimateMs, SEGMENT_MS)
  },
  finished: () => {},
  recorded: () => {}
})

/** Estimates follow each worker's measured speed (`useSpeed`); hedges need a spare bidder and the budget (`useBudget`). */
const proposed = (useSpeed: boolean, useBudget: boolean) => (clock: FakeClock): Policy => {
  const speed = new SpeedTracker({ clock })
  const budget = new HedgeBudget()
  const estimate = (b: Bid): number => useSpeed ? speed.adjusted(b) : b.estimateMs
  return {
    options: {
      hedgeAfter: b => hedgeAfterMs(estimate(b), SEGMENT_MS),
      deadlineFor: b => attemptDeadlineMs(estimate(b), SEGMENT_MS),
      ...(useBudget ? { mayHedge: (next: Bid) => budget.allow(clock.now(), next.activeJobs < next.maxJobs) } : {})
    },
    finished: (b, elapsed) => { speed.observe(b.peerId, elapsed, b.estimateMs) },
    recorded: hedges => { budget.record(clock.now(), { hedges }) }
  }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
/** Jobs cut in segments [from, to). */
const span = (jobs: Job[], from: number, to: number): Job[] => jobs.filter(j => j.segment >= from && j.segment < to)
const hedges = (jobs: Job[]): number => jobs.reduce((a, j) => a + j.hedges, 0)
const describeRun = (jobs: Job[]): string =>
  `hedges ${hedges(jobs)}/${jobs.length} jobs, failed ${jobs.filter(j => j.failed).length}, ` +
  `mean latency by 10 segments ${[0, 10, 20, 30].map(s => Math.round(mean(span(jobs, s, s + 10).map(j => j.latencyMs)))).join(' ')} ms`

describe('hedging under saturation (a discrete simulation on a fake clock)', () => {
  it(`today's policy feeds on itself: on a machine ${Math.round(LOAD * 100)} % busy without hedges, hedges multiply and latency climbs`, async () => {
    assert.ok(LOAD < 1, 'the machine keeps up when nobody hedges')
    const jobs = await simulate(today)
    const msg = describeRun(jobs)
    const latency = (segment: number): number => mean(span(jobs, segment, segment + 1).map(j => j.latencyMs))
    const first = span(jobs, 0, 1)
    const last = span(jobs, SEGMENTS - 10, SEGMENTS)
    assert.ok(latency(0) < 1.5 * SEGMENT_MS, `starts nearly in time: ${msg}`)
    for (let s = 1; s <= 5; s++) assert.ok(latency(s) > latency(s - 1), `latency climbs segment after segment: ${msg}`)
    assert.ok(hedges(last) / last.length > 2 * hedges(first) / first.length, `hedges per job grow: ${msg}`)
    assert.ok(mean(last.map(j => j.latencyMs)) > 10 * SEGMENT_MS, `the pipeline falls far behind: ${msg}`)
    assert.ok(last.some(j => j.failed), `jobs fail on every attempt: ${msg}`)
  })

  for (const [name, useSpeed, useBudget] of [
    ['speed-adjusted estimates and the hedge budget', true, true],
    ['the hedge budget alone (idle estimates)', false, true],
    ['speed-adjusted estimates alone (no budget)', true, false]
  ] as const) {
    it(`${name}: hedges stay bounded and so does latency`, async () => {
      const jobs = await simulate(proposed(useSpeed, useBudget))
      const msg = describeRun(jobs)
      assert.equal(jobs.length, STREAMS * SEGMENTS)
      assert.ok(jobs.every(j => !j.failed), `no job fails: ${msg}`)
      if (useBudget) {
        assert.ok(hedges(jobs) <= HEDGE_SHARE * jobs.length + HEDGE_SHARE * HEDGE_WINDOW_MIN_JOBS, `hedges within the budget share: ${msg}`)
      } else {
        assert.ok(hedges(jobs) <= HEDGE_SHARE * jobs.length, `hedges stop once estimates follow the machine: ${msg}`)
      }
      assert.ok(jobs.every(j => j.latencyMs < 1.5 * SEGMENT_MS), `every job stays within 1.5 segments: ${msg}`)
      const last = span(jobs, SEGMENTS - 10, SEGMENTS)
      assert.ok(mean(last.map(j => j.latencyMs)) < SEGMENT_MS, `the pipeline keeps up: ${msg}`)
    })
  }
})
