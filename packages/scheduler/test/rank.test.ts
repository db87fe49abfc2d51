import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rankBids, scoreBid } from '../src/index.js'
import { bid, sequence } from './helpers.js'

const ids = (bids: Array<{ peerId: string }>): string[] => bids.map(b => b.peerId)

describe('rankBids', () => {
  it('prefers the faster expected completion', () => {
    assert.deepEqual(ids(rankBids([bid('slow', { estimateMs: 2000 }), bid('fast', { estimateMs: 500 })])), ['fast', 'slow'])
  })

  it('takes the estimate as the expected completion time: the worker already counted its load', () => {
    const busy = bid('busy', { estimateMs: 1000, activeJobs: 1, maxJobs: 2 })
    const idle = bid('idle', { estimateMs: 1400, activeJobs: 0, maxJobs: 2 })
    assert.deepEqual(ids(rankBids([busy, idle])), ['busy', 'idle'])
    assert.equal(scoreBid(busy), 1000)
  })

  it('scales by reputation (0.5 neutral, lower is worse)', () => {
    const a = bid('trusted', { estimateMs: 1400 })
    const b = bid('unknown', { estimateMs: 1000 })
    const c = bid('flaky', { estimateMs: 400 })
    const reputation = (p: string): number => ({ trusted: 1, unknown: 0.5, flaky: 0 })[p] ?? 0.5
    // trusted 1400/1.5 = 933, unknown 1000, flaky 400/0.5 = 800
    assert.deepEqual(ids(rankBids([a, b, c], { reputation })), ['flaky', 'trusted', 'unknown'])
    assert.deepEqual(ids(rankBids([a, b, c])), ['flaky', 'unknown', 'trusted'])
    assert.equal(scoreBid(b, 7), scoreBid(b, 1)) // clamped
    assert.equal(scoreBid(b, NaN), 1000)
  })

  it('puts workers at or over capacity last, still ranked among themselves', () => {
    const full = bid('full', { estimateMs: 10, activeJobs: 2, maxJobs: 2 })
    const over = bid('over', { estimateMs: 5, activeJobs: 3, maxJobs: 2 })
    const none = bid('none', { estimateMs: 1, maxJobs: 0 })
    const free = bid('free', { estimateMs: 5000, activeJobs: 1, maxJobs: 2 })
    assert.deepEqual(ids(rankBids([full, over, none, free])), ['free', 'none', 'over', 'full'])
  })

  it('breaks ties by price, then arrival, then peer id', () => {
    const bids = [
      bid('d', { price: 2, receivedAt: 0 }),
      bid('c', { price: 1, receivedAt: 5 }),
      bid('b', { price: 1, receivedAt: 3 }),
      bid('a', { price: 1, receivedAt: 3 })
    ]
    assert.deepEqual(ids(rankBids(bids)), ['a', 'b', 'c', 'd'])
  })

  it('ranks invalid estimates last without throwing', () => {
    const bids = [bid('nan', { estimateMs: NaN }), bid('neg', { estimateMs: -1 }), bid('ok')]
    assert.equal(rankBids(bids)[0]?.peerId, 'ok')
  })

  it('does not modify its input', () => {
    const bids = [bid('slow', { estimateMs: 2000 }), bid('fast', { estimateMs: 500 })]
    rankBids(bids)
    assert.deepEqual(ids(bids), ['slow', 'fast'])
  })

  it('exploration jitters scores deterministically for a given random', () => {
    const best = bid('best', { estimateMs: 1000 })
    const newcomer = bid('new', { estimateMs: 1100 })
    // no exploration: random is never consulted
    assert.deepEqual(ids(rankBids([best, newcomer], { random: () => { throw new Error('called') } })), ['best', 'new'])
    // best jittered by +20 % * 0.9, newcomer by +20 % * 0: 1180 vs 1100
    const opts = { exploration: 0.2, random: sequence(0.9, 0) }
    assert.deepEqual(ids(rankBids([best, newcomer], opts)), ['new', 'best'])
    assert.deepEqual(ids(rankBids([best, newcomer], { exploration: 0.2, random: sequence(0.9, 0) })), ['new', 'best'])
    assert.deepEqual(ids(rankBids([best, newcomer], { exploration: 0.2, random: sequence(0, 0.9) })), ['best', 'new'])
    // a much better bid still wins whatever the dice say
    const far = bid('far', { estimateMs: 5000 })
    for (const r of [0, 0.5, 0.999]) {
      assert.equal(rankBids([far, best], { exploration: 0.2, random: sequence(0, r) })[0]?.peerId, 'best')
    }
  })
})
