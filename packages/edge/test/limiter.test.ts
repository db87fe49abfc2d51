import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AdmissionGate, FetchLimits, Semaphore } from '../src/limiter.js'

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

describe('AdmissionGate (viewer-driven cold fetches, M6)', () => {
  it('refuses past the per-stream and the node-wide bound instead of queueing, and forgets idle streams', async () => {
    const gate = new AdmissionGate(3, 2)
    const gates: Array<() => void> = []
    const work = async (): Promise<string> => await new Promise<string>(resolve => gates.push(() => { resolve('done') }))
    const a1 = gate.run('evil', work)
    const a2 = gate.run('evil', work)
    assert.deepEqual(await gate.run('evil', work), { refused: 'per_key' })
    const h1 = gate.run('honest', work)
    assert.deepEqual(await gate.run('other', work), { refused: 'global' })
    assert.equal(gates.length, 3, 'refused work never ran')
    for (const open of gates.splice(0)) open()
    assert.deepEqual(await Promise.all([a1, a2, h1]), [{ value: 'done' }, { value: 'done' }, { value: 'done' }])
    assert.equal(gate.keys, 0)
    // A failure frees its place too.
    await assert.rejects(gate.run('evil', async () => { throw new Error('boom') }), /boom/)
    assert.equal(gate.keys, 0)
  })
})
