import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, MAX_RESTORE_BACKOFF, RESTORE_QUIET_DURATIONS, RungShedder, SHED_WAIT_DURATIONS } from '../src/index.js'

const SEG = 2000
const RUNGS = ['360p', '240p', '180p']
/** Pixels per frame, costliest first. */
const PIXELS = [640 * 360, 426 * 240, 320 * 180]

/** A worker: how long a job with `rungs` takes it (ms). */
type Worker = (rungs: string[]) => number

/** ms per thousand pixels of the ladder asked for: a worker whose cost follows the rungs. */
function perKpx (msPerKpx: number, fixedMs = 0): Worker {
  return rungs => fixedMs + rungs.reduce((ms, r) => ms + msPerKpx * PIXELS[RUNGS.indexOf(r)]! / 1000, 0)
}

interface Run {
  /** seq → closed-to-finished ms */
  latency: number[]
  /** seq → rungs its job was dispatched with */
  ladders: string[][]
  /** the live rungs after each segment closed */
  liveAfter: string[][]
}

/**
 * A stream on a pool, driven by the fake clock in 10 ms steps: a segment
 * closes every SEG ms and queues its job (FIFO); a free worker takes the
 * oldest, asking for the shedder's live rungs at that moment, as the ingest
 * does. `pool(seq)` gives the workers present when segment `seq` closes
 * (workers join by being listed).
 */
function run (s: RungShedder, clock: FakeClock, segments: number, pool: (seq: number) => Worker[]): Run {
  const out: Run = { latency: [], ladders: [], liveAfter: [] }
  const queue: number[] = []
  const busy: Array<{ seq: number, until: number } | undefined> = []
  const closed: number[] = []
  const start = clock.now()
  let workers = pool(0)
  const freeWorkers = (): number[] => workers.map((_, i) => i).filter(i => busy[i] == null)
  for (let t = 0, next = 0; next < segments || queue.length > 0 || busy.some(b => b != null); t += 10) {
    clock.advance(t === 0 ? 0 : 10)
    for (let i = 0; i < busy.length; i++) {
      const b = busy[i]
      if (b != null && b.until <= clock.now()) {
        s.finished(b.seq, workers.length)
        out.latency[b.seq] = clock.now() - closed[b.seq]!
        busy[i] = undefined
      }
    }
    if (next < segments && clock.now() - start >= (next + 1) * SEG) {
      workers = pool(next)
      closed[next] = clock.now()
      s.queued(next)
      queue.push(next)
      out.liveAfter[next] = s.live()
      next++
    }
    // The market: the free worker with the best estimate (the quickest) wins.
    for (let free = freeWorkers(); queue.length > 0 && free.length > 0; free = freeWorkers()) {
      const i = free.sort((a, b) => workers[a]!(RUNGS) - workers[b]!(RUNGS))[0]!
      const seq = queue.shift()!
      s.dispatched(seq)
      const ladder = s.live()
      out.ladders[seq] = ladder
      busy[i] = { seq, until: clock.now() + workers[i]!(ladder) }
    }
  }
  return out
}

const shedder = (clock: FakeClock): RungShedder => new RungShedder({ rungs: RUNGS, weights: PIXELS, segmentMs: SEG, clock })

describe('RungShedder', () => {
  it('keeps every rung while the pool keeps up', () => {
    const clock = new FakeClock()
    const s = shedder(clock)
    // The whole ladder in 0.6 durations (389 kpx × 3 ms).
    const r = run(s, clock, 100, () => [perKpx(3)])
    assert.deepEqual(s.state().filter(x => !x.live), [])
    assert.ok(r.ladders.every(l => l.length === 3))
  })

  it('sheds the costliest rung for a worker too slow for the ladder, stays within two durations of normal, and does not flap', () => {
    const clock = new FakeClock()
    const s = shedder(clock)
    // 8 ms per kpx: the whole ladder 3.1 s (1.56 durations: it falls behind), without 360p 1.3 s.
    const r = run(s, clock, 150, () => [perKpx(8)])
    assert.deepEqual(s.state(), [{ name: '360p', live: false }, { name: '240p', live: true }, { name: '180p', live: true }])
    const normal = Math.min(...r.latency)
    const worst = Math.max(...r.latency)
    assert.ok(worst <= normal + 2 * SEG, `worst ${worst} ms, normal ${normal} ms`)
    // Shed once, early, never restored (the load scaled by 360p's cost is far over the limit).
    const changes = r.liveAfter.filter((l, i) => i > 0 && l.length !== r.liveAfter[i - 1]!.length).length
    assert.equal(changes, 1)
    assert.ok(r.ladders.findIndex(l => l.length === 2) <= 3, 'shed within the first few segments')
    // Drained: the last segments are back at normal latency.
    assert.ok(r.latency.slice(-20).every(ms => ms < SEG), 'no backlog at the end')
  })

  it('sheds one rung at a time down to the cheapest, never the cheapest', () => {
    const clock = new FakeClock()
    const s = shedder(clock)
    // Hopeless: every job takes three durations whatever it asks for.
    const r = run(s, clock, 30, () => [() => 3 * SEG])
    assert.deepEqual(s.live(), ['180p'])
    const firstTwo = r.ladders.findIndex(l => l.length === 2)
    const firstOne = r.ladders.findIndex(l => l.length === 1)
    assert.ok(firstTwo >= 0 && firstOne > firstTwo, `one at a time (${firstTwo}, ${firstOne})`)
  })

  it('a wait caused by jobs queued before a shed does not shed again', () => {
    const clock = new FakeClock()
    const s = shedder(clock)
    s.queued(0)
    s.queued(1)
    clock.advance(SHED_WAIT_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['240p', '180p'], 'a job waited over the limit')
    s.dispatched(0)
    clock.advance(10 * SEG)
    // Job 1 has waited ten durations, but behind the old ladder's work.
    assert.deepEqual(s.live(), ['240p', '180p'])
    s.dispatched(1)
    assert.deepEqual(s.live(), ['240p', '180p'])
    s.queued(2)
    clock.advance(SHED_WAIT_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['180p'], 'a job queued on the new ladder that waits is a new sign')
  })

  it('brings the rung back when a fast worker joins, after a quiet spell, and keeps it', () => {
    const clock = new FakeClock()
    const s = shedder(clock)
    const slow = perKpx(8)
    const fast = perKpx(1)
    const r = run(s, clock, 120, seq => seq < 40 ? [slow] : [slow, fast])
    assert.equal(r.liveAfter[39]!.length, 2, 'shed while the slow worker was alone')
    const back = r.liveAfter.findIndex((l, i) => i >= 40 && l.length === 3)
    // The slow worker had no headroom for 360p for long before (long after the last change): only the join brings it back.
    assert.ok(back >= 40 && back < 40 + RESTORE_QUIET_DURATIONS, `back within a quiet spell of the join (segment ${back})`)
    assert.ok(r.liveAfter.slice(back).every(l => l.length === 3), 'and it stays')
    assert.ok(r.latency.slice(back).every(ms => ms <= 2 * SEG), 'the pool keeps up with the whole ladder')
  })

  it('a restore that falls behind again sheds at once and waits twice as long before the next (hysteresis)', () => {
    const clock = new FakeClock()
    // Weights that lie: 360p looks as cheap as the others, but costs far more on the worker.
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    const worker: Worker = rungs => rungs.includes('360p') ? 3 * SEG : 200
    const r = run(s, clock, 200, () => [worker])
    const changes: number[] = []
    r.liveAfter.forEach((l, i) => { if (i > 0 && l.length !== r.liveAfter[i - 1]!.length) changes.push(i) })
    assert.ok(changes.length >= 4, `flaps: ${changes.join(',')}`)
    // Shed, restore, shed, restore…: each restore waits longer than the one before, up to the cap.
    const waits = changes.filter((_, i) => i % 2 === 1).map((at, i) => at - changes[2 * i]!)
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i]! >= Math.min(waits[i - 1]! * 2 - 2, RESTORE_QUIET_DURATIONS * MAX_RESTORE_BACKOFF), `restore waits grow: ${waits.join(',')}`)
    assert.ok(r.latency.every(ms => ms <= 3 * SEG + 2 * SEG), 'each flap costs at most two durations')
  })

  it('a one-rung ladder sheds nothing', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: ['240p'], segmentMs: SEG, clock })
    run(s, clock, 20, () => [() => 3 * SEG])
    assert.deepEqual(s.state(), [{ name: '240p', live: true }])
  })

  it('forgets the oldest of too many queued jobs instead of growing', () => {
    const clock = new FakeClock()
    const s = shedder(clock)
    for (let i = 0; i < 5000; i++) s.queued(i)
    clock.advance(SHED_WAIT_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['240p', '180p'])
    // Job 0 was forgotten: its dispatch is no sign of anything.
    s.dispatched(0)
    s.finished(0, 1)
    assert.equal(s.state().length, 3)
  })
})
