import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AttemptInvalidError, DispatchError, dispatchJob, FakeClock } from '../src/index.js'
import { bid } from './helpers.js'

describe('dispatchJob: bids that stop being eligible mid-job', () => {
  it('a worker caught lying while the job ran goes behind the clean bidders (the liars test: all attempts spent on liars)', async () => {
    const clock = new FakeClock()
    const offenders = new Set<string>()
    const order: string[] = []
    const out = await dispatchJob({
      bids: [bid('junk'), bid('black'), bid('size'), bid('honest')],
      clock,
      maxAttempts: 3,
      deadlineFor: () => 1000,
      eligible: b => !offenders.has(b.peerId),
      attempt: async (b) => {
        order.push(b.peerId)
        // While the first attempt runs, a spot check of another segment catches 'black'.
        if (b.peerId === 'junk') { offenders.add('black'); throw new AttemptInvalidError('junk bytes') }
        if (b.peerId === 'size') throw new AttemptInvalidError('wrong size')
        return `by ${b.peerId}`
      }
    })
    assert.deepEqual(order, ['junk', 'size', 'honest'])
    assert.equal(out.result, 'by honest')
  })

  it('keeps the order of the eligible bids, and tries the ineligible ones when nobody else is left', async () => {
    const tried: string[] = []
    await assert.rejects(dispatchJob({
      bids: [bid('x'), bid('a'), bid('y'), bid('b')],
      clock: new FakeClock(),
      deadlineFor: () => 1000,
      eligible: b => b.peerId === 'a' || b.peerId === 'b',
      attempt: async (b) => { tried.push(b.peerId); throw new Error('nope') }
    }), (err: unknown) => err instanceof DispatchError && err.attempts.length === 4)
    assert.deepEqual(tried, ['a', 'b', 'x', 'y'])
  })
})
