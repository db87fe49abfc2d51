import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BidSlots } from '../src/index.js'

describe('BidSlots (--max-jobs)', () => {
  it('stops bidding when running + promised reaches max-jobs', () => {
    let now = 0
    const s = new BidSlots({ maxJobs: 2, ttlMs: 500, now: () => now })
    assert.equal(s.reserve('a'), true)
    assert.equal(s.canBid('a'), false, 'one bid per job')
    assert.equal(s.reserve('b'), true)
    assert.equal(s.canBid('c'), false, 'full: two promised')
    assert.equal(s.reserve('c'), false)
    assert.equal(s.committed, 2)
    // job a arrives and runs: still full
    s.release('a')
    assert.equal(s.start(), true)
    assert.equal(s.canBid('c'), false)
    // b's promise lapses (another worker won it): one slot frees
    now = 501
    assert.equal(s.pending, 0)
    assert.equal(s.canBid('c'), true)
    assert.equal(s.start(), true)
    assert.equal(s.canBid('d'), false, 'two running')
    assert.equal(s.start(), false, 'a third job is refused (BUSY)')
    s.finish()
    assert.equal(s.active, 1)
    assert.equal(s.canBid('d'), true)
  })

  it('a refused bid frees its slot at once', () => {
    const s = new BidSlots({ maxJobs: 1, now: () => 0 })
    assert.equal(s.reserve('a'), true)
    assert.equal(s.canBid('b'), false)
    s.release('a')
    assert.equal(s.canBid('b'), true)
  })

  it('several slots at once (a GPU worker)', () => {
    const s = new BidSlots({ maxJobs: 4, now: () => 0 })
    for (const id of ['a', 'b', 'c', 'd']) assert.equal(s.reserve(id), true)
    assert.equal(s.reserve('e'), false)
  })
})
