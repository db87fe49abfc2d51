import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FakeClock, RESTORE_QUIET_DURATIONS, SHED_WAIT_DURATIONS } from '@diststream/scheduler'
import { pino } from 'pino'
import { Counter, Registry } from 'prom-client'
import { LiveRungs, MAX_SLOTS_PER_WORKER } from '../src/session/live-rungs.js'
import type { IngestContext } from '../src/types.js'

const SEG = 2000
// Listed as the ingest's ladder is: tallest first. Costs are pixels: 360p > 240p > 180p.
const LADDER = [
  { name: '360p', width: 640, height: 360, videoKbps: 800 },
  { name: '180p', width: 320, height: 180, videoKbps: 200 },
  { name: '240p', width: 426, height: 240, videoKbps: 400 }
]
const WIRE = LADDER.map(({ name, width, height, videoKbps }) => ({ name, width, height, videoKbps }))

function setup (workers: Array<{ maxJobs: number }>): { live: LiveRungs, clock: FakeClock, shed: Counter } {
  const clock = new FakeClock()
  const shed = new Counter({ name: 'shed', help: 'test', registers: [new Registry()] })
  const ctx = {
    presence: { withRole: () => workers },
    localWorker: false,
    segmentSeconds: SEG / 1000,
    metrics: { shedRungs: shed }
  } as unknown as Pick<IngestContext, 'presence' | 'localWorker' | 'metrics' | 'segmentSeconds'>
  return { live: new LiveRungs(ctx, pino({ level: 'silent' }), clock), clock, shed }
}

describe('LiveRungs: a live stream\'s jobs ask only for the rungs it keeps', () => {
  it('announces every rung while the pool keeps up; state lists them costliest first', async () => {
    const { live, clock, shed } = setup([{ maxJobs: 1 }])
    assert.equal(live.state(), undefined, 'nothing before the first segment')
    assert.deepEqual(live.queued(0, SEG, LADDER).map(r => r.name), ['360p', '180p', '240p'], 'the ladder as given')
    clock.advance(100)
    assert.deepEqual(live.dispatched(0, WIRE).map(r => r.name), ['360p', '180p', '240p'])
    live.finished(0)
    assert.deepEqual(live.state(), [{ name: '360p', live: true }, { name: '240p', live: true }, { name: '180p', live: true }])
    assert.equal((await shed.get()).values[0]?.value ?? 0, 0)
  })

  it('a job that waited too long leaves the queue without the costliest rung, and so does every job behind it', async () => {
    const { live, clock, shed } = setup([{ maxJobs: 1 }])
    live.queued(0, SEG, LADDER)
    live.queued(1, SEG, LADDER)
    clock.advance(SHED_WAIT_DURATIONS * SEG + 1)
    assert.deepEqual(live.dispatched(0, WIRE).map(r => r.name), ['180p', '240p'], '360p shed as job 0 leaves the queue')
    // Job 1 was announced with 360p; it leaves the queue without it.
    assert.deepEqual(live.dispatched(1, WIRE).map(r => r.name), ['180p', '240p'])
    // A new job is announced without it.
    assert.deepEqual(live.queued(2, SEG, LADDER).map(r => r.name), ['180p', '240p'])
    assert.equal((await shed.get()).values[0]?.value, 2, 'one rung left out of each of two jobs')
    assert.deepEqual(live.state()?.filter(r => !r.live).map(r => r.name), ['360p'])
  })

  it('a short first segment does not tighten the thresholds: the configured duration counts', () => {
    const { live, clock } = setup([{ maxJobs: 1 }])
    live.queued(0, SEG / 4, LADDER)
    clock.advance(SHED_WAIT_DURATIONS * SEG / 2)
    assert.deepEqual(live.dispatched(0, WIRE).map(r => r.name), ['360p', '180p', '240p'], 'half a configured duration is no reason to shed')
  })

  it('counts a worker for at most MAX_SLOTS_PER_WORKER slots: a claim of thousands buys no headroom', () => {
    /** Three jobs that hold their workers through a whole quiet spell, then a new segment: is 360p back? */
    const restoredWith = (workers: Array<{ maxJobs: number }>): boolean => {
      const { live, clock } = setup(workers)
      for (let seq = 0; seq < 4; seq++) live.queued(seq, SEG, LADDER)
      clock.advance(SHED_WAIT_DURATIONS * SEG + 1)
      for (let seq = 0; seq < 4; seq++) live.dispatched(seq, WIRE)
      live.finished(3) // reports the pool's slots
      clock.advance(RESTORE_QUIET_DURATIONS * SEG)
      return live.queued(4, SEG, LADDER).some(r => r.name === '360p')
    }
    // 48 s of work in a 16 s spell: on 8 slots a load of 0.375, × 2.44 for 360p's cost = 0.92, over 0.75.
    assert.equal(restoredWith([{ maxJobs: 10_000 }]), false, 'one peer claiming 10 000 slots counts for 8')
    // Ten honest workers of 8 slots each: a load of 0.0375: back.
    assert.equal(restoredWith(Array.from({ length: 10 }, () => ({ maxJobs: MAX_SLOTS_PER_WORKER }))), true)
  })
})
