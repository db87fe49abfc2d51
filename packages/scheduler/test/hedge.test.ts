import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { HEDGE_WINDOW_MS, HedgeBudget, attemptDeadlineMs, hedgeAfterMs, LATE_FACTOR } from '../src/index.js'

describe('hedgeAfterMs / attemptDeadlineMs', () => {
  it('keep the ingest’s formulas, on the estimate they are given', () => {
    // session.ts: hedgeAfter = estimateMs * LATE_FACTOR + 500 + durationMs / 4
    assert.equal(hedgeAfterMs(1000, 2000), 1000 * LATE_FACTOR + 500 + 500)
    // session.ts: deadlineFor = Math.max(estimateMs * 6, durationMs * 5) + 4000
    assert.equal(attemptDeadlineMs(1000, 2000), 14_000)
    assert.equal(attemptDeadlineMs(3000, 2000), 22_000)
    assert.ok(hedgeAfterMs(3000, 2000) < attemptDeadlineMs(3000, 2000), 'a hedge comes before the deadline')
  })
})

describe('HedgeBudget', () => {
  it('never hedges without a spare bidder in hand', () => {
    const budget = new HedgeBudget()
    assert.equal(budget.allow(0, false), false)
    assert.equal(budget.stats(0).hedges, 0, 'a refusal takes nothing')
  })

  it('allows share × max(jobs, minJobs) hedges in the window, counted when granted', () => {
    const budget = new HedgeBudget({ share: 0.1, minJobs: 20 })
    // No job recorded yet: two hedges (10 % of the 20-job floor), granted back to back by jobs running side by side.
    assert.deepEqual([budget.allow(0, true), budget.allow(1, true), budget.allow(2, true)], [true, true, false])
    for (let i = 0; i < 30; i++) budget.record(10 + i, { hedges: 0 })
    assert.deepEqual(budget.stats(100), { jobs: 30, hedges: 2, limit: 3 })
    assert.equal(budget.allow(100, true), true)
    assert.equal(budget.allow(101, true), false)
  })

  it('a job’s record matches the hedges granted for it instead of counting them again', () => {
    const budget = new HedgeBudget({ share: 0.1, minJobs: 20 })
    assert.equal(budget.allow(0, true), true)
    budget.record(5, { hedges: 1 })
    assert.equal(budget.stats(5).hedges, 1)
    // Hedges started without asking are counted when recorded.
    budget.record(6, { hedges: 1 })
    assert.deepEqual(budget.stats(6), { jobs: 2, hedges: 2, limit: 2 })
    assert.equal(budget.allow(7, true), false)
  })

  it('hedges and jobs leave the window after windowMs', () => {
    const budget = new HedgeBudget()
    assert.equal(budget.allow(0, true), true)
    assert.equal(budget.allow(0, true), true)
    assert.equal(budget.allow(HEDGE_WINDOW_MS - 1, true), false)
    assert.equal(budget.allow(HEDGE_WINDOW_MS, true), true)
    budget.record(HEDGE_WINDOW_MS, { hedges: 0 })
    assert.deepEqual(budget.stats(2 * HEDGE_WINDOW_MS), { jobs: 0, hedges: 0, limit: 2 })
  })

  it('stays bounded however many jobs are recorded', () => {
    const budget = new HedgeBudget({ maxJobs: 50 })
    for (let i = 0; i < 500; i++) budget.record(i, { hedges: 3 })
    const s = budget.stats(500)
    assert.equal(s.jobs, 50)
    assert.ok(s.hedges <= 50)
    assert.equal(budget.allow(500, true), false, 'recorded hedges use the budget up')
  })
})
