import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CapacitySignal } from '../src/capacity.js'

describe('CapacitySignal', () => {
  it('a queued job waiting for capacity wakes when an attempt ends, not after the retry pause', async () => {
    const cap = new CapacitySignal()
    let woke = false
    const waiting = cap.wait(60_000).then(() => { woke = true })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(woke, false)
    cap.freed()
    await waiting
    assert.equal(woke, true)
  })

  it('a capacity signal raised before the wait started does not count; the wait ends at its timeout or abort', async () => {
    const cap = new CapacitySignal()
    cap.freed()
    const t0 = Date.now()
    await cap.wait(30)
    assert.ok(Date.now() - t0 >= 25)
    const ac = new AbortController()
    const w = cap.wait(60_000, ac.signal)
    ac.abort()
    await w // never throws
  })
})
