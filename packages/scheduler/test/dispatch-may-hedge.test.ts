import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { dispatchJob, FakeClock, HedgeBudget, type Bid, type Clock } from '../src/index.js'
import { bid } from './helpers.js'

/** Resolves with `value` after `ms` on `clock`, or rejects with the signal's reason on abort. */
async function work<T> (clock: Clock, ms: number, value: T, signal: AbortSignal): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const h = clock.setTimeout(() => resolve(value), ms)
    signal.addEventListener('abort', () => { clock.clearTimeout(h); reject(signal.reason) }, { once: true })
  })
}

const bids = [bid('a'), bid('b'), bid('c')]

describe('dispatchJob mayHedge', () => {
  it('is asked with the next bid and the late one; yes starts the hedge as before', async () => {
    const clock = new FakeClock()
    const asked: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 5000,
      hedgeAfter: () => 500,
      mayHedge: (next, late) => { asked.push(`${next.peerId} for ${late.peerId} @${clock.now()}`); return true },
      attempt: async (b, s) => await work(clock, b.peerId === 'a' ? 4000 : 300, b.peerId, s)
    })
    await clock.advanceAsync(800)
    const out = await run
    assert.deepEqual([out.result, out.attempts, out.hedged, out.hedges], ['b', 2, true, 1])
    assert.deepEqual(asked, ['b for a @500'])
  })

  it('no: the late attempt keeps running to its result, and is not offered again', async () => {
    const clock = new FakeClock()
    const events: string[] = []
    let asked = 0
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 5000,
      hedgeAfter: () => 500,
      mayHedge: () => { asked++; return false },
      attempt: async (b, s) => await work(clock, 3000, b.peerId, s),
      onAttemptStart: (b, n, hedge) => events.push(`start ${b.peerId} #${n}${hedge ? ' hedge' : ''} @${clock.now()}`),
      onAttempt: (b, outcome) => events.push(`${outcome} ${b.peerId} @${clock.now()}`)
    })
    await clock.advanceAsync(3000)
    const out = await run
    assert.deepEqual([out.result, out.attempts, out.hedged, out.hedges], ['a', 1, false, 0])
    assert.deepEqual(events, ['start a #1 @0', 'ok a @3000'])
    assert.equal(asked, 1)
    assert.equal(clock.pendingTimers, 0)
  })

  it('no: the refused bid stays first in line for when the late attempt fails', async () => {
    const clock = new FakeClock()
    const events: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 1000,
      hedgeAfter: () => 500,
      mayHedge: () => false,
      attempt: async (b, s) => await work(clock, b.peerId === 'a' ? 10_000 : 200, b.peerId, s),
      onAttemptStart: (b, n, hedge) => events.push(`start ${b.peerId} #${n}${hedge ? ' hedge' : ''} @${clock.now()}`),
      onAttempt: (b, outcome) => events.push(`${outcome} ${b.peerId} @${clock.now()}`)
    })
    await clock.advanceAsync(1200)
    const out = await run
    assert.equal(out.result, 'b')
    assert.deepEqual(events, ['start a #1 @0', 'timeout a @1000', 'start b #2 @1000', 'ok b @1200'])
  })

  it('with a HedgeBudget: only a spare bidder runs a hedge, within the budget', async () => {
    const clock = new FakeClock()
    const budget = new HedgeBudget({ share: 0.1, minJobs: 10 }) // one hedge per window
    const dispatch = async (list: Bid[]): Promise<number> => {
      const run = dispatchJob({
        bids: list,
        clock,
        deadlineFor: () => 5000,
        hedgeAfter: () => 500,
        mayHedge: next => budget.allow(clock.now(), next.activeJobs < next.maxJobs),
        attempt: async (b, s) => await work(clock, b.peerId === 'a' ? 2000 : 300, b.peerId, s)
      })
      await clock.advanceAsync(2000)
      const out = await run
      budget.record(clock.now(), { hedges: out.hedges })
      return out.hedges
    }
    const full = { activeJobs: 2, maxJobs: 2 }
    assert.equal(await dispatch([bid('a'), bid('b', full)]), 0, 'the next worker is full')
    assert.equal(await dispatch([bid('a'), bid('b')]), 1)
    assert.equal(await dispatch([bid('a'), bid('b')]), 0, 'the budget is spent')
    assert.deepEqual(budget.stats(clock.now()), { jobs: 3, hedges: 1, limit: 1 })
  })
})
