import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, MAX_TRACKED_SEGMENTS, RESTORE_QUIET_DURATIONS, RungShedder, SHED_COOLDOWN_DURATIONS, SHED_LATE_DURATIONS } from '../src/index.js'

const SEG = 2000
const RUNGS = ['720p', '480p', '360p']

/** A stream that closes a segment every SEG ms and takes `encodeMs` to finish each (one at a time in flight per call). */
function segment (s: RungShedder, clock: FakeClock, seq: number, encodeMs: number): void {
  s.begin(seq, clock.now())
  clock.advance(encodeMs)
  s.end(seq)
  clock.advance(SEG - encodeMs)
}

describe('RungShedder', () => {
  it('keeps every rung while segments finish in time', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    for (let i = 0; i < 50; i++) segment(s, clock, i, 1200)
    assert.deepEqual(s.state(), { live: RUNGS, shed: [] })
  })

  it('sheds the costliest rung when the oldest unfinished segment is late, then the next after the cooldown', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    s.begin(0, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG)
    assert.deepEqual(s.live(), RUNGS, 'exactly at the bound: not late yet')
    clock.advance(1)
    assert.deepEqual(s.live(), ['480p', '360p'])
    assert.deepEqual(s.state().shed, ['720p'])
    // Segment 0 carries the old ladder: however late it gets, it says nothing about the new one.
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG * 3)
    assert.deepEqual(s.live(), ['480p', '360p'], 'a backlog on the old ladder sheds nothing more')
    s.begin(1, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['360p'], 'a segment on the new ladder is late too')
    s.begin(2, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    assert.deepEqual(s.live(), ['360p'], 'the cheapest rung stays (MIN_LIVE_RUNGS)')
    assert.deepEqual(s.state(), { live: ['360p'], shed: ['720p', '480p'] })
  })

  it('restores the last shed rung after a quiet spell of fast segments, one at a time (hysteresis)', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    s.begin(0, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['480p', '360p'])
    s.end(0)
    // Fast again, but not yet for the whole quiet spell (the late segment counts against it).
    for (let i = 1; i < RESTORE_QUIET_DURATIONS - 1; i++) segment(s, clock, i, 500)
    assert.deepEqual(s.state().shed, ['720p'], 'the late segment ended inside this spell')
    for (let i = 0; i < RESTORE_QUIET_DURATIONS + 1; i++) segment(s, clock, 100 + i, 500)
    assert.deepEqual(s.state(), { live: RUNGS, shed: [] })
    // One at a time: shed two, and the second comes back a whole quiet spell before the first.
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    s.begin(200, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    s.live()
    s.end(200)
    s.begin(201, clock.now())
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    assert.deepEqual(s.live(), ['360p'])
    s.end(201)
    for (let i = 0; i < RESTORE_QUIET_DURATIONS; i++) segment(s, clock, 300 + i, 500)
    assert.deepEqual(s.live(), ['480p', '360p'])
    for (let i = 0; i < RESTORE_QUIET_DURATIONS; i++) segment(s, clock, 400 + i, 500)
    assert.deepEqual(s.live(), RUNGS)
  })

  it('a slow (not late) segment holds a restore back', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    s.begin(0, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    s.live()
    s.end(0)
    for (let i = 1; i < 40; i++) segment(s, clock, i, 1800) // 0.9 durations: keeps up, but no room for the rung back
    assert.deepEqual(s.state().shed, ['720p'])
  })

  it('forgets unfinished segments beyond its bound, oldest first', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    for (let i = 0; i <= MAX_TRACKED_SEGMENTS; i++) s.begin(i, clock.now() + i)
    s.end(0) // dropped already: no effect
    assert.deepEqual(s.live(), RUNGS)
  })

  it('sheds at most once per cooldown', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: RUNGS, segmentMs: SEG, clock })
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    s.begin(0, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['480p', '360p'])
    s.begin(1, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['480p', '360p'], 'segment 1 is late, but within the cooldown')
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG - SHED_LATE_DURATIONS * SEG - 2)
    assert.deepEqual(s.live(), ['480p', '360p'], 'still within the cooldown')
    clock.advance(1)
    assert.deepEqual(s.live(), ['360p'])
  })

  it('a one-rung ladder sheds nothing', () => {
    const clock = new FakeClock()
    const s = new RungShedder({ rungs: ['240p'], segmentMs: SEG, clock })
    s.begin(0, clock.now())
    clock.advance(20 * SEG)
    assert.deepEqual(s.state(), { live: ['240p'], shed: [] })
  })

  it('weights: a ladder that only just keeps up does not get the costly rung back', () => {
    const clock = new FakeClock()
    // 360p and 240p by pixels: 240p alone at 1100 ms would be ~3.6 s with 360p back.
    const s = new RungShedder({ rungs: ['360p', '240p'], weights: [230_400, 102_240], segmentMs: SEG, clock })
    clock.advance(SHED_COOLDOWN_DURATIONS * SEG)
    s.begin(0, clock.now())
    clock.advance(SHED_LATE_DURATIONS * SEG + 1)
    assert.deepEqual(s.live(), ['240p'])
    s.end(0)
    for (let i = 1; i < 40; i++) segment(s, clock, i, 1100)
    assert.deepEqual(s.state().shed, ['360p'], '1.1 s × (332 ÷ 102) is over 0.75 durations')
    for (let i = 40; i < 40 + RESTORE_QUIET_DURATIONS + 1; i++) segment(s, clock, i, 300)
    assert.deepEqual(s.state().shed, [], '0.3 s × 3.25 is under 0.75 durations')
  })
})
