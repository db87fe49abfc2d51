import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, systemClock } from '../src/index.js'

describe('FakeClock', () => {
  it('runs due timers in order of due time, then scheduling order', () => {
    const clock = new FakeClock(1000)
    const log: string[] = []
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20)
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10)
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 20)
    clock.setTimeout(() => log.push('late'), 31)
    clock.advance(30)
    assert.deepEqual(log, ['a@1010', 'b@1020', 'c@1020'])
    assert.equal(clock.now(), 1030)
    assert.equal(clock.pendingTimers, 1)
    assert.equal(clock.nextTimerAt(), 1031)
  })

  it('runs timers scheduled by timers within the span, and honours clearTimeout', () => {
    const clock = new FakeClock()
    const log: number[] = []
    clock.setTimeout(() => { clock.setTimeout(() => log.push(clock.now()), 5) }, 5)
    const h = clock.setTimeout(() => log.push(-1), 7)
    clock.clearTimeout(h)
    clock.setTimeout(() => log.push(clock.now()), -5) // negative = 0
    clock.advance(10)
    assert.deepEqual(log, [0, 10])
    assert.equal(clock.pendingTimers, 0)
  })

  it('advanceAsync lets promise chains schedule further timers', async () => {
    const clock = new FakeClock()
    const sleep = async (ms: number): Promise<void> => { await new Promise<void>(resolve => clock.setTimeout(resolve, ms)) }
    const log: number[] = []
    const run = (async () => {
      await sleep(10)
      log.push(clock.now())
      await sleep(10)
      log.push(clock.now())
    })()
    clock.advance(20) // synchronous: the second sleep is not scheduled in time
    assert.deepEqual(log, [])
    await clock.advanceAsync(20)
    await run
    assert.deepEqual(log, [20, 30])
  })

  it('systemClock tells real time and runs real timers', async () => {
    assert.ok(Math.abs(systemClock.now() - Date.now()) < 50)
    await new Promise<void>(resolve => systemClock.setTimeout(resolve, 1))
    const h = systemClock.setTimeout(() => assert.fail('cleared timer ran'), 1)
    systemClock.clearTimeout(h)
    await new Promise<void>(resolve => setTimeout(resolve, 5))
  })
})
