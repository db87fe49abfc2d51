import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BidSlots, CONTENTION_WINDOW_MS, ingestShare } from '../src/index.js'

describe('BidSlots (--max-jobs)', () => {
  it('stops bidding when running + promised reaches max-jobs', () => {
    let now = 0
    const s = new BidSlots({ maxJobs: 2, ttlMs: 500, now: () => now })
    assert.equal(s.reserve('a', 'i'), true)
    assert.equal(s.canBid('a', 'i'), false, 'one bid per job')
    assert.equal(s.reserve('b', 'i'), true)
    assert.equal(s.canBid('c', 'i'), false, 'full: two promised')
    assert.equal(s.reserve('c', 'i'), false)
    assert.equal(s.committed, 2)
    // job a arrives and runs: still full
    s.release('a')
    assert.equal(s.start('i'), true)
    assert.equal(s.canBid('c', 'i'), false)
    // b's promise lapses (another worker won it): one slot frees
    now = 501
    assert.equal(s.pending, 0)
    assert.equal(s.canBid('c', 'i'), true)
    assert.equal(s.start('i'), true)
    assert.equal(s.canBid('d', 'i'), false, 'two running')
    assert.equal(s.start('i'), false, 'a third job is refused (BUSY)')
    s.finish('i')
    assert.equal(s.active, 1)
    assert.equal(s.canBid('d', 'i'), true)
  })

  it('a refused bid frees its slot at once', () => {
    const s = new BidSlots({ maxJobs: 1, now: () => 0 })
    assert.equal(s.reserve('a', 'i'), true)
    assert.equal(s.canBid('b', 'i'), false)
    s.release('a')
    assert.equal(s.canBid('b', 'i'), true)
  })

  it('several slots at once (a GPU worker)', () => {
    const s = new BidSlots({ maxJobs: 4, now: () => 0 })
    for (const id of ['a', 'b', 'c', 'd']) assert.equal(s.reserve(id, 'i'), true)
    assert.equal(s.reserve('e', 'i'), false)
  })

  it('one ingest holds at most its share while another wants the worker (H4), all of it when alone', () => {
    let now = 0
    const s = new BidSlots({ maxJobs: 4, ttlMs: 500, now: () => now })
    assert.equal(ingestShare(4), 2)
    assert.equal(ingestShare(1), 1)
    s.want('evil')
    for (const id of ['a', 'b', 'c']) assert.equal(s.reserve(id, 'evil'), true, 'alone: every slot')
    for (const id of ['a', 'b', 'c']) { s.release(id); assert.equal(s.start('evil'), true) }
    s.want('honest')
    assert.equal(s.canBid('d', 'evil'), false, 'over its share while another ingest wants a slot')
    assert.equal(s.start('evil'), false)
    assert.equal(s.reserve('e', 'honest'), true, 'the other ingest gets the free slot')
    s.release('e')
    assert.equal(s.start('honest'), true)
    s.finish('evil')
    s.finish('evil')
    assert.equal(s.heldBy('evil'), 1)
    assert.equal(s.canBid('f', 'evil'), true, 'back under its share')
    // The other ingest goes quiet: after the window, one ingest may use every slot again.
    s.finish('honest')
    now += CONTENTION_WINDOW_MS + 1
    assert.equal(s.contended('evil'), false)
    assert.equal(s.start('evil'), true)
    assert.equal(s.start('evil'), true)
    assert.equal(s.start('evil'), true)
    assert.equal(s.active, 4)
    assert.equal(s.start('evil'), false, 'full')
  })
})
