import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, MAX_SLOWNESS, MIN_SLOWNESS, SLOWNESS_STALE_MS, SPEED_EWMA_ALPHA, SpeedTracker } from '../src/index.js'
import { bid } from './helpers.js'

const close = (actual: number, expected: number): void => { assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≈ ${expected}`) }

describe('SpeedTracker', () => {
  it('an unknown worker is taken at its own estimate', () => {
    const speed = new SpeedTracker({ clock: new FakeClock() })
    assert.equal(speed.slowness('a'), 1)
    assert.equal(speed.adjusted(bid('a', { estimateMs: 1200 })), 1200)
  })

  it('the first attempt sets the ratio; later ones move it by the EWMA weight', () => {
    const speed = new SpeedTracker({ clock: new FakeClock() })
    speed.observe('a', 2000, 1000)
    assert.equal(speed.slowness('a'), 2)
    speed.observe('a', 1000, 1000)
    close(speed.slowness('a'), 2 + SPEED_EWMA_ALPHA * (1 - 2))
    close(speed.adjusted(bid('a', { estimateMs: 1000 })), 1000 * (2 - SPEED_EWMA_ALPHA))
    assert.equal(speed.slowness('b'), 1, 'per worker')
  })

  it('follows a machine that turns busy within a few attempts', () => {
    const speed = new SpeedTracker({ clock: new FakeClock() })
    for (let i = 0; i < 5; i++) speed.observe('a', 1000, 1000)
    for (let i = 0; i < 8; i++) speed.observe('a', 3000, 1000)
    assert.ok(speed.slowness('a') > 2.8, `ratio ${speed.slowness('a')}`)
  })

  it('clamps each sample and the ratio to [MIN_SLOWNESS, MAX_SLOWNESS]', () => {
    const speed = new SpeedTracker({ clock: new FakeClock() })
    speed.observe('stalled', 1_000_000, 100)
    assert.equal(speed.slowness('stalled'), MAX_SLOWNESS)
    speed.observe('fast', 1, 1000)
    assert.equal(speed.slowness('fast'), MIN_SLOWNESS)
  })

  it('ignores nonsense measurements', () => {
    const speed = new SpeedTracker({ clock: new FakeClock() })
    speed.observe('a', NaN, 1000)
    speed.observe('a', 1000, 0)
    speed.observe('a', -5, 1000)
    speed.observe('a', 1000, Infinity)
    assert.equal(speed.size, 0)
    assert.equal(speed.slowness('a'), 1)
  })

  it('forgets a ratio that has gone stale', () => {
    const clock = new FakeClock()
    const speed = new SpeedTracker({ clock })
    speed.observe('a', 4000, 1000)
    clock.advance(SLOWNESS_STALE_MS)
    assert.equal(speed.slowness('a'), 4)
    clock.advance(1)
    assert.equal(speed.slowness('a'), 1)
    speed.observe('a', 1500, 1000)
    assert.equal(speed.slowness('a'), 1.5, 'starts afresh, not from the stale ratio')
  })

  it('keeps a bounded number of workers, forgetting the least recently updated', () => {
    const speed = new SpeedTracker({ clock: new FakeClock(), maxWorkers: 2 })
    speed.observe('a', 2000, 1000)
    speed.observe('b', 3000, 1000)
    speed.observe('a', 2000, 1000) // a is now the most recent
    speed.observe('c', 4000, 1000)
    assert.equal(speed.size, 2)
    assert.deepEqual(['a', 'b', 'c'].map(p => speed.slowness(p)), [2, 1, 4])
  })
})
