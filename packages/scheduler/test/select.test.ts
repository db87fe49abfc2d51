import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { NewcomerBudget, selectBids, selectionWeights } from '../src/index.js'
import type { Bid, SelectOptions } from '../src/index.js'
import { bid, sequence } from './helpers.js'

/** A seeded generator (mulberry32): a fixed, repeatable sequence in [0, 1). */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** How often each peer is drawn first over `n` selections. */
function wins (bids: Bid[], n: number, opts: SelectOptions = {}): Map<string, number> {
  const random = seeded(42)
  const out = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const first = selectBids(bids, { ...opts, random })[0]!.peerId
    out.set(first, (out.get(first) ?? 0) + 1)
  }
  return out
}

const weightOf = (ws: ReturnType<typeof selectionWeights>, peer: string): number => ws.find(w => w.bid.peerId === peer)!.weight

describe('selectionWeights', () => {
  it('weighs expected completion time, reputation and price', () => {
    const reputation = (p: string): number => ({ bad: 0 } as Record<string, number>)[p] ?? 1
    const ws = selectionWeights([
      bid('fast', { estimateMs: 500 }),
      bid('slower', { estimateMs: 1000 }), // (500/1000)^2 = 1/4 of fast
      bid('pricey', { estimateMs: 500, price: 9 }), // (1+0)/(1+9) = 1/10 of fast
      bid('bad', { estimateMs: 500 }), // 0.1 of fast
      bid('far', { estimateMs: 1001 }), // outside 2x best: 0
      bid('full', { estimateMs: 100, activeJobs: 2, maxJobs: 2 }) // never
    ], { reputation })
    const fast = weightOf(ws, 'fast')
    assert.ok(Math.abs(weightOf(ws, 'slower') / fast - 0.25) < 1e-12)
    assert.ok(Math.abs(weightOf(ws, 'pricey') / fast - 0.1) < 1e-12)
    assert.ok(Math.abs(weightOf(ws, 'bad') / fast - 0.1) < 1e-12)
    assert.equal(weightOf(ws, 'far'), 0)
    assert.equal(weightOf(ws, 'full'), 0)
    assert.equal(ws.find(w => w.bid.peerId === 'far')!.eligible, true, 'far may still be explored')
    assert.equal(ws.find(w => w.bid.peerId === 'full')!.eligible, false)
    assert.ok(Math.abs(ws.reduce((a, w) => a + w.weight, 0) - 1) < 1e-12)
  })

  it('leaves out bids over the time budget and invalid estimates', () => {
    const ws = selectionWeights([bid('ok', { estimateMs: 900 }), bid('late', { estimateMs: 5000 }), bid('nan', { estimateMs: NaN })], { maxMs: 4000, factor: 100 })
    assert.deepEqual(ws.map(w => [w.bid.peerId, w.eligible, w.weight]), [['ok', true, 1], ['late', false, 0], ['nan', false, 0]])
  })
})

describe('selectBids', () => {
  it('is deterministic for a given random source and uses it twice', () => {
    const bids = [bid('a', { estimateMs: 500 }), bid('b', { estimateMs: 600 }), bid('c', { estimateMs: 700 })]
    let calls = 0
    const r = sequence(0.5, 0.99)
    const counted = (): number => { calls++; return r() }
    const x = selectBids(bids, { random: counted })
    assert.equal(calls, 2)
    assert.deepEqual(selectBids(bids, { random: sequence(0.5, 0.99) }).map(b => b.peerId), x.map(b => b.peerId))
    // weighted draw: r = 0 → the first weighted bid; r → 1 → the last
    assert.equal(selectBids(bids, { random: sequence(0.5, 0) })[0]!.peerId, 'a')
    assert.equal(selectBids(bids, { random: sequence(0.5, 0.999999) })[0]!.peerId, 'c')
    // exploration draw (first number < explore): uniform over the eligible bids
    assert.equal(selectBids(bids, { random: sequence(0.01, 0.5) })[0]!.peerId, 'b')
  })

  it('puts the drawn bid first and the rest in ranked order, without losing any', () => {
    const bids = [bid('full', { estimateMs: 100, activeJobs: 1, maxJobs: 1 }), bid('a', { estimateMs: 500 }), bid('b', { estimateMs: 700 }), bid('c', { estimateMs: 600 })]
    const out = selectBids(bids, { random: sequence(0.5, 0.999999) })
    assert.deepEqual(out.map(x => x.peerId), ['c', 'a', 'b', 'full'])
    assert.deepEqual(bids.map(x => x.peerId), ['full', 'a', 'b', 'c'], 'input untouched')
  })

  it('the best bid wins most jobs, a close newcomer gets some, a far slower one is only explored', () => {
    // 'known' has a clean record; 'new' is unknown (neutral reputation) and a bit slower;
    // 'slow' is 3x slower than the best: outside the close set.
    const reputation = (p: string): number => (p === 'known' ? 1 : 0.5)
    const bids = [bid('known', { estimateMs: 800 }), bid('new', { estimateMs: 1000 }), bid('slow', { estimateMs: 2400 })]
    const n = 4000
    const w = wins(bids, n, { reputation })
    const share = (p: string): number => (w.get(p) ?? 0) / n
    // expected: explore 0.1 → 1/30 each; weighted 0.9 × (1 : 0.64×0.55/1=0.352) → known ≈ 0.699, new ≈ 0.268
    assert.ok(share('known') > 0.6 && share('known') < 0.8, `known ${share('known')}`)
    assert.ok(share('new') > 0.18 && share('new') < 0.35, `new ${share('new')}`)
    assert.ok(share('slow') > 0.01 && share('slow') < 0.07, `slow ${share('slow')}`)
    // without exploration the slow worker is never drawn
    assert.equal(wins(bids, 500, { reputation, explore: 0 }).get('slow'), undefined)
  })

  it('with lastAssigned, a close bid from a worker never tried wins outright', () => {
    const last = new Map([['known', 100], ['known2', 50]])
    const lastAssigned = (p: string): number | undefined => last.get(p)
    const bids = [bid('known', { estimateMs: 500 }), bid('new', { estimateMs: 900 }), bid('known2', { estimateMs: 400 }), bid('newer', { estimateMs: 700 }), bid('far', { estimateMs: 5000 })]
    for (const r of [0, 0.5, 0.99]) {
      // the best-weighted untried close bid, whatever the dice; 'far' (outside the close set) is not eligible for this
      assert.equal(selectBids(bids, { lastAssigned, random: sequence(r, r) })[0]!.peerId, 'newer')
    }
    // once both were tried, the draw is back to weights
    last.set('new', 200).set('newer', 300)
    assert.equal(selectBids(bids, { lastAssigned, random: sequence(0.5, 0) })[0]!.peerId, 'known')
    // an untried worker that is full, or too slow, does not jump the queue
    const untriedFull = [bid('known', { estimateMs: 500 }), bid('fresh', { estimateMs: 500, activeJobs: 2, maxJobs: 2 }), bid('slowpoke', { estimateMs: 5000 })]
    assert.equal(selectBids(untriedFull, { lastAssigned, random: sequence(0.5, 0.99) })[0]!.peerId, 'known')
  })

  it('the cheaper of two equally fast workers wins more often', () => {
    const w = wins([bid('cheap', { price: 1 }), bid('dear', { price: 7 })], 2000, { explore: 0 })
    // weights 1 : 2/8 → cheap 80 %
    const cheap = (w.get('cheap') ?? 0) / 2000
    assert.ok(cheap > 0.74 && cheap < 0.86, `cheap ${cheap}`)
  })

  it('never draws a full worker or one over the time budget; with none eligible it is rankBids', () => {
    const bids = [bid('full', { estimateMs: 10, activeJobs: 2, maxJobs: 2 }), bid('late', { estimateMs: 9000 }), bid('ok', { estimateMs: 3000 })]
    const w = wins(bids, 300, { maxMs: 4000 })
    assert.deepEqual([...w.keys()], ['ok'])
    const none = selectBids([bid('late', { estimateMs: 9000 }), bid('later', { estimateMs: 9500 })], { maxMs: 4000, random: () => { throw new Error('not called') } })
    assert.deepEqual(none.map(b => b.peerId), ['late', 'later'])
    assert.deepEqual(selectBids([]), [])
  })
})

describe('throwaway ids (H1)', () => {
  it('an estimate of 0 counts as the floor; an untried peer\'s claim counts as no better than the best tried one', () => {
    const bids = [bid('honest', { estimateMs: 1500 }), bid('sybil', { estimateMs: 0 })]
    const tried = new Set(['honest'])
    const w = selectionWeights(bids, { durationMs: 2000, lastAssigned: p => tried.has(p) ? 1 : undefined })
    // Both at 1500 ms: the sybil (neutral reputation) has the same weight as an honest peer of neutral reputation.
    assert.ok(Math.abs(w[0]!.weight - w[1]!.weight) < 1e-9, JSON.stringify(w.map(x => x.weight)))
    // Without a tried peer the floor (duration / 20) still applies: 0 ms is no better than 100 ms.
    const w2 = selectionWeights([bid('a', { estimateMs: 0 }), bid('b', { estimateMs: 100 })], { durationMs: 2000 })
    assert.ok(Math.abs(w2[0]!.weight - w2[1]!.weight) < 1e-9)
  })

  it('newcomers win outright only while the budget lasts', () => {
    let now = 0
    const budget = new NewcomerBudget(() => now, 6)
    const tried = new Set(['honest'])
    let sybilWins = 0
    for (let i = 0; i < 100; i++) {
      const fresh = `sybil${i}`
      const order = selectBids([bid('honest', { estimateMs: 1500 }), bid(fresh, { estimateMs: 0 })], { durationMs: 2000, lastAssigned: p => tried.has(p) ? 1 : undefined, newcomerWin: () => budget.take(), random: seeded(i), explore: 0 })
      if (order[0]!.peerId === fresh) sybilWins++
    }
    // 6 outright wins, then a fair draw against an honest peer of the same (neutral) reputation: about half.
    assert.ok(sybilWins < 75, `fresh ids won ${sybilWins} of 100`)
    now += 60_000
    assert.equal(budget.take(), true, 'the budget refills')
  })

  it('an unproven peer (on probation) counts no faster than the best proven one, and a 0 ms claim never ranks first among fallbacks', () => {
    const bids = [bid('honest', { estimateMs: 1500 }), bid('sybil1', { estimateMs: 0 }), bid('sybil2', { estimateMs: 0 })]
    const onProbation = new Set(['sybil1', 'sybil2'])
    const opts: SelectOptions = { durationMs: 2000, lastAssigned: () => 1, unproven: p => onProbation.has(p), reputation: p => p === 'honest' ? 0.9 : 0.2, explore: 0 }
    const w = selectionWeights(bids, opts)
    // Same counted speed: only reputation tells them apart.
    assert.ok(weightOf(w, 'honest') > 2 * weightOf(w, 'sybil1'), JSON.stringify(w.map(x => x.weight)))
    // Whoever is drawn, the honest peer is never behind a sybil among the fallbacks.
    for (let i = 0; i < 50; i++) {
      const order = selectBids(bids, { ...opts, random: seeded(i) }).map(b => b.peerId)
      if (order[0] !== 'honest') assert.equal(order[1], 'honest', order.join(','))
    }
    // Without the hook a tried sybil's 0 ms claim wins every draw (what probation closes).
    assert.equal(weightOf(selectionWeights(bids, { ...opts, unproven: undefined }), 'honest'), 0)
  })
})
