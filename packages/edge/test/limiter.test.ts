import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FetchLimits, Semaphore } from '../src/limiter.js'

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('fetch limits (H3)', () => {
  it('a semaphore lets `max` in, queues the rest in order, and a waiter that aborts leaves the queue', async () => {
    const s = new Semaphore(2)
    await s.acquire()
    await s.acquire()
    const order: string[] = []
    const stop = new AbortController()
    const a = s.acquire().then(() => order.push('a'))
    const b = s.acquire(stop.signal).then(() => order.push('b'), () => order.push('b aborted'))
    const c = s.acquire().then(() => order.push('c'))
    stop.abort()
    await tick()
    s.release()
    s.release()
    await Promise.all([a, b, c])
    assert.deepEqual(order, ['b aborted', 'a', 'c'])
    s.release()
    s.release()
    assert.equal(s.idle, true)
  })

  it('one stream cannot take more than its share, nor the node more than its total; idle streams are forgotten', async () => {
    const limits = new FetchLimits(3, 2)
    let running = 0
    let peak = 0
    const perStream = new Map<string, number>()
    const gates: Array<() => void> = []
    const job = (key: string): Promise<void> => limits.run(key, async () => {
      running++; peak = Math.max(peak, running)
      perStream.set(key, Math.max(perStream.get(key) ?? 0, running))
      await new Promise<void>(resolve => gates.push(resolve))
      running--
    })
    const all = [job('evil'), job('evil'), job('evil'), job('evil'), job('honest')]
    await tick()
    assert.equal(running, 3, 'two of the attacker\'s and the honest one run; the rest wait')
    while (gates.length > 0 || running > 0) { gates.shift()?.(); await tick() }
    await Promise.all(all)
    assert.ok(peak <= 3)
    assert.equal(limits.keys, 0)
  })
})
