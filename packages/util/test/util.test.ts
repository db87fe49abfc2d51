import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BoundedMap, evictOldest, exponential, linear, Notifier, retry, SingleFlight, sleep } from '../src/index.js'

describe('BoundedMap', () => {
  it('evicts the oldest insertion past its bound and counts it', () => {
    const m = new BoundedMap<string, number>(2)
    m.set('a', 1).set('b', 2).set('c', 3)
    assert.deepEqual([...m.keys()], ['b', 'c'])
    assert.equal(m.evicted, 1)
    m.set('b', 20) // an update keeps its place and evicts nothing
    assert.deepEqual([...m.entries()], [['b', 20], ['c', 3]])
    assert.equal(m.evicted, 1)
  })

  it('refuses a bound that is not a positive integer', () => {
    assert.throws(() => new BoundedMap(0), RangeError)
  })

  it('evictOldest trims sets too', () => {
    const s = new Set([1, 2, 3, 4])
    const gone: number[] = []
    evictOldest(s, 2, k => gone.push(k))
    assert.deepEqual([...s], [3, 4])
    assert.deepEqual(gone, [1, 2])
  })
})

describe('Notifier', () => {
  it('resolves at the wake that makes the condition true, and leaves no key behind', async () => {
    const n = new Notifier()
    let ready = false
    const p = n.wait('s', () => ready, { timeoutMs: 10_000 })
    n.wake('s')
    assert.equal(n.size, 1)
    ready = true
    n.wake('s')
    await p
    assert.equal(n.size, 0)
  })

  it('resolves on timeout and on abort without throwing', async () => {
    const n = new Notifier()
    await n.wait('x', () => false, { timeoutMs: 5 })
    const ac = new AbortController()
    const p = n.wait('y', () => false, { timeoutMs: 10_000, signal: ac.signal })
    ac.abort()
    await p
    assert.equal(n.size, 0)
  })

  it('returns at once when the condition already holds', async () => {
    const n = new Notifier()
    await n.wait('z', () => true, { timeoutMs: 10_000 })
    assert.equal(n.size, 0)
  })
})

describe('retry', () => {
  it('tries again with the given backoff and returns the first success', async () => {
    const delays: number[] = []
    let calls = 0
    const v = await retry(async () => {
      calls++
      if (calls < 3) throw new Error('not yet')
      return 'ok'
    }, { attempts: 3, delayMs: n => { delays.push(n); return 1 } })
    assert.equal(v, 'ok')
    assert.equal(calls, 3)
    assert.deepEqual(delays, [1, 2])
  })

  it('rethrows the last error when the tries run out, and stops on a non-retryable error', async () => {
    let calls = 0
    await assert.rejects(retry(async () => { calls++; throw new Error(`e${calls}`) }, { attempts: 2, delayMs: () => 1 }), /e2/)
    calls = 0
    await assert.rejects(retry(async () => { calls++; throw new Error('fatal') }, { attempts: 5, delayMs: () => 1, retryable: () => false }), /fatal/)
    assert.equal(calls, 1)
  })

  it('ends a pause at once when the signal fires', async () => {
    const ac = new AbortController()
    const started = Date.now()
    const p = retry(async () => { throw new Error('down') }, { attempts: 5, delayMs: () => 60_000, signal: ac.signal })
    setTimeout(() => { ac.abort(new Error('stopping')) }, 10)
    await assert.rejects(p, /stopping/)
    assert.ok(Date.now() - started < 5000)
  })

  it('backoff shapes', () => {
    assert.deepEqual([1, 2, 3, 4].map(exponential(100, 500)), [100, 200, 400, 500])
    assert.deepEqual([1, 2, 3].map(linear(200)), [200, 400, 600])
  })

  it('sleep rejects with the abort reason', async () => {
    await assert.rejects(sleep(60_000, AbortSignal.abort(new Error('gone'))), /gone/)
  })
})

describe('SingleFlight', () => {
  it('shares one call among concurrent callers and forgets it when settled', async () => {
    const sf = new SingleFlight<number>()
    let calls = 0
    const fn = async (): Promise<number> => { calls++; await sleep(5); return 7 }
    const [a, b] = await Promise.all([sf.do('k', fn), sf.do('k', fn)])
    assert.equal(a + b, 14)
    assert.equal(calls, 1)
    assert.equal(sf.size, 0)
  })
})

describe('Notifier with a fake clock', () => {
  it('times out when the clock says so, not before', async () => {
    const { FakeClock } = await import('../src/index.js')
    const clock = new FakeClock()
    const n = new Notifier(clock)
    let done = false
    const p = n.wait('k', () => false, { timeoutMs: 1000 }).then(() => { done = true })
    await clock.advanceAsync(999)
    assert.equal(done, false)
    await clock.advanceAsync(1)
    await p
    assert.equal(done, true)
    assert.equal(n.size, 0)
  })
})
