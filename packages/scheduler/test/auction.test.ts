import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Auction, FakeClock, type Bid } from '../src/index.js'
import { bid } from './helpers.js'

/** Resolves to the result if it is settled now, else 'pending'. */
async function peek (p: Promise<Bid[]>): Promise<Bid[] | 'pending'> {
  return await Promise.race([p, new Promise<'pending'>(resolve => setImmediate(() => resolve('pending')))])
}

describe('Auction', () => {
  it('collects bids until the window elapses', async () => {
    const clock = new FakeClock()
    const auction = new Auction({ jobId: 'job-1', clock, windowMs: 300 })
    assert.equal(auction.offer(bid('a')), true)
    clock.advance(299)
    assert.equal(await peek(auction.result), 'pending')
    assert.equal(auction.offer(bid('b')), true)
    clock.advance(1)
    assert.equal(auction.closed, true)
    assert.deepEqual((await auction.result).map(b => b.peerId), ['a', 'b'])
    assert.equal(auction.offer(bid('late')), false)
    assert.deepEqual((await auction.result).map(b => b.peerId), ['a', 'b'])
  })

  it('closes early once expectedBids are in, and cancels its timer', async () => {
    const clock = new FakeClock()
    const auction = new Auction({ jobId: 'job-1', clock, windowMs: 1000, expectedBids: 2 })
    auction.offer(bid('a'))
    assert.equal(await peek(auction.result), 'pending')
    auction.offer(bid('b'))
    assert.deepEqual((await peek(auction.result) as Bid[]).map(b => b.peerId), ['a', 'b'])
    assert.equal(clock.now(), 0)
    assert.equal(clock.pendingTimers, 0)
    assert.equal(auction.offer(bid('c')), false)
  })

  it('bids that do not count (throwaway ids, H1) are kept but do not close it early', async () => {
    const clock = new FakeClock()
    const auction = new Auction({ jobId: 'job-1', clock, windowMs: 1000, expectedBids: 1, counts: b => b.peerId === 'known' })
    auction.offer(bid('sybil1'))
    auction.offer(bid('sybil2'))
    assert.equal(await peek(auction.result), 'pending')
    auction.offer(bid('known'))
    assert.deepEqual((await auction.result).map(b => b.peerId), ['sybil1', 'sybil2', 'known'])
  })

  it('refuses duplicate peers and bids for another job', async () => {
    const clock = new FakeClock()
    const auction = new Auction({ jobId: 'job-1', clock, windowMs: 100, expectedBids: 2 })
    assert.equal(auction.offer(bid('a')), true)
    assert.equal(auction.offer(bid('a', { estimateMs: 1 })), false)
    assert.equal(auction.offer(bid('b', { jobId: 'job-2' })), false)
    assert.equal(auction.closed, false) // refused bids do not count towards expectedBids
    assert.deepEqual(auction.bids.map(b => b.estimateMs), [1000])
    clock.advance(100)
    assert.equal((await auction.result).length, 1)
  })

  it('resolves with no bids when nobody answers', async () => {
    const clock = new FakeClock()
    const auction = new Auction({ jobId: 'job-1', clock, windowMs: 50 })
    clock.advance(50)
    assert.deepEqual(await auction.result, [])
  })

  it('expectedBids 0 resolves at once; close() resolves early', async () => {
    const clock = new FakeClock()
    const none = new Auction({ jobId: 'job-1', clock, windowMs: 50, expectedBids: 0 })
    assert.equal(none.closed, true)
    assert.deepEqual(await none.result, [])
    const manual = new Auction({ jobId: 'job-1', clock, windowMs: 50 })
    manual.offer(bid('a'))
    manual.close()
    manual.close()
    assert.equal((await manual.result).length, 1)
    assert.equal(clock.pendingTimers, 0)
  })
})
