import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHash } from 'node:crypto'
import { AUCTION_FIRST_BIDS, auctionCloseAfter, biddersFor, bidKey, bidWeight, electBidders, electionSize, shardBits, shardOf, shouldBid, SMALL_POOL_FACTOR } from '../src/index.js'

const workers = Array.from({ length: 50 }, (_, i) => `12D3KooWorker${i}`)

describe('bid policy', () => {
  it('keys are sha256 of the id', () => {
    // sha256("abc") = ba7816bf...
    assert.deepEqual([...bidKey('abc').slice(0, 4)], [0xba, 0x78, 0x16, 0xbf])
    assert.equal(bidKey('abc').length, 32)
  })

  it('weights are the first 48 bits of sha256(job NUL peer)', () => {
    const d = createHash('sha256').update('job\0peer').digest()
    assert.equal(bidWeight('job', 'peer'), d.readUIntBE(0, 6))
    assert.notEqual(bidWeight('job', 'peer'), bidWeight('job2', 'peer'))
  })

  it('elects the k lowest-weight free workers, first first, by brute force', () => {
    const jobId = 'job-42'
    const expected = [...workers].sort((a, b) => bidWeight(jobId, a) - bidWeight(jobId, b)).slice(0, 4)
    assert.deepEqual(electBidders({ jobId, freeWorkers: workers, k: 4 }), expected)
    assert.equal(electBidders({ jobId, freeWorkers: [...workers, ...workers], k: 4 }).length, 4)
    assert.deepEqual(electBidders({ jobId, freeWorkers: workers.slice(0, 2), k: 4 }).length, 2)
    assert.equal(electBidders({ jobId, freeWorkers: workers, k: 0 }).length, 1)
  })

  it('a worker bids exactly when it is elected, from the same view', () => {
    for (const jobId of ['a', 'b', 'c', 'd', 'e']) {
      const elected = new Set(electBidders({ jobId, freeWorkers: workers, k: 3 }))
      const bidders = workers.filter(self => shouldBid({ self, jobId, freeWorkers: workers, k: 3 }))
      assert.deepEqual(new Set(bidders), elected)
      assert.equal(bidders.length, 3)
    }
  })

  it('a worker missing from its own free list still counts itself', () => {
    const jobId = 'j'
    const [first] = electBidders({ jobId, freeWorkers: workers, k: 1 })
    const others = workers.filter(w => w !== first)
    assert.equal(shouldBid({ self: first!, jobId, freeWorkers: others, k: 1 }), true)
    assert.equal(shouldBid({ self: others[0]!, jobId, freeWorkers: workers, k: 1 }), others[0] === first)
  })

  it('spreads jobs evenly: every worker is elected about k/n of the time', () => {
    const count = new Map<string, number>()
    const jobs = 2000
    for (let j = 0; j < jobs; j++) {
      for (const w of electBidders({ jobId: `job${j}`, freeWorkers: workers, k: 2 })) count.set(w, (count.get(w) ?? 0) + 1)
    }
    const expected = jobs * 2 / workers.length // 80
    for (const w of workers) {
      const c = count.get(w) ?? 0
      assert.ok(c > expected * 0.6 && c < expected * 1.4, `${w} elected ${c} times, expected about ${expected}`)
    }
  })

  it('widens the election on each re-announce', () => {
    assert.deepEqual([1, 2, 3, 4].map(n => electionSize(4, n)), [4, 8, 16, 32])
    assert.equal(electionSize(4, 30, 100), 100)
    assert.equal(electionSize(0, 0), 1)
    assert.equal(electionSize(4, NaN), 4)
  })

  it('asks every free worker of a small pool, k of a large one', () => {
    assert.equal(SMALL_POOL_FACTOR, 2)
    assert.deepEqual([0, 1, 5, 8].map(free => biddersFor(4, 1, free)), [0, 1, 5, 8])
    assert.equal(biddersFor(4, 1, 9), 4)
    assert.equal(biddersFor(4, 2, 9), 8)
    assert.equal(biddersFor(4, 3, 9), 9)
    assert.equal(biddersFor(4, 1, NaN), 0)
    // Every one of five free workers is elected when each asks with biddersFor (the liars test's pool).
    const free = ['h', 'l1', 'l2', 'l3', 'l4']
    for (let j = 0; j < 50; j++) {
      assert.ok(free.every(self => shouldBid({ self, jobId: `job-${j}`, freeWorkers: free, k: biddersFor(4, 1, free.length) })))
    }
  })

  it('closes a small pool\'s auction on every bid, a large one\'s on the first two', () => {
    assert.equal(AUCTION_FIRST_BIDS, 2)
    assert.deepEqual([0, 1, 5, 8].map(free => auctionCloseAfter(4, 1, free)), [0, 1, 5, 8])
    assert.deepEqual([9, 100, 10_000].map(free => auctionCloseAfter(4, 1, free)), [2, 2, 2])
    assert.equal(auctionCloseAfter(1, 1, 3), 1) // k = 1, three free: one asked, one awaited
  })

  it('shards: depth from the worker count, shard from the key prefix', () => {
    assert.equal(shardBits(10, 64), 0)
    assert.equal(shardBits(64, 64), 0)
    assert.equal(shardBits(65, 64), 1)
    assert.equal(shardBits(6000, 64), 7) // 6000/64 = 93.75 → 128 shards of ~47
    assert.equal(shardBits(NaN, 64), 0)
    assert.equal(shardOf('abc', 0), 0)
    assert.equal(shardOf('abc', 4), 0xb) // 0xba...
    assert.equal(shardOf('abc', 8), 0xba)
    assert.equal(shardOf('abc', 12), 0xba7)
    // a shard at depth d splits into two at depth d + 1
    for (const w of workers) assert.equal(shardOf(w, 5) >> 1, shardOf(w, 4))
  })
})
