import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  AttemptCancelledError, AttemptInvalidError, AttemptRejectedError, AttemptTimeoutError, DispatchAbortedError, DispatchError, dispatchJob, FakeClock, JobLedger, MAX_DECLINES_PER_WORKER,
  type Bid, type Clock
} from '../src/index.js'
import { bid } from './helpers.js'

/** Resolves with `value` after `ms` on `clock`, or rejects with the signal's reason on abort. */
function work<T> (clock: Clock, ms: number, value: T, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const h = clock.setTimeout(() => resolve(value), ms)
    signal.addEventListener('abort', () => { clock.clearTimeout(h); reject(signal.reason) }, { once: true })
  })
}

const bids = [bid('a'), bid('b'), bid('c')]

describe('dispatchJob', () => {
  it('returns the first bidder’s result', async () => {
    const clock = new FakeClock()
    const run = dispatchJob({ bids, clock, deadlineFor: () => 500, attempt: async (b, s) => await work(clock, 100, `by ${b.peerId}`, s) })
    await clock.advanceAsync(100)
    const out = await run
    assert.deepEqual({ result: out.result, peer: out.bid.peerId, attempts: out.attempts }, { result: 'by a', peer: 'a', attempts: 1 })
    assert.equal(clock.pendingTimers, 0) // the deadline timer is cleared
  })

  it('a slow first worker times out (its signal aborts) and the second wins', async () => {
    const clock = new FakeClock()
    const signals: AbortSignal[] = []
    const events: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      maxAttempts: 3,
      deadlineFor: b => (b.peerId === 'a' ? 500 : 1000),
      attempt: async (b, signal) => {
        signals.push(signal)
        return await work(clock, b.peerId === 'a' ? 10_000 : 200, b.peerId, signal)
      },
      onAttemptStart: (b, n) => events.push(`start ${b.peerId} #${n} @${clock.now()}`),
      onAttempt: (b, outcome, reason) => events.push(`${outcome} ${b.peerId} @${clock.now()}${reason === undefined ? '' : `: ${reason}`}`)
    })
    await clock.advanceAsync(500)
    assert.equal(signals[0]?.aborted, true)
    assert.ok(signals[0]?.reason instanceof AttemptTimeoutError)
    await clock.advanceAsync(200)
    const out = await run
    assert.equal(out.result, 'b')
    assert.equal(out.attempts, 2)
    assert.equal(signals[1]?.aborted, false)
    assert.deepEqual(events, [
      'start a #1 @0', 'timeout a @500: no result within 500 ms', 'start b #2 @500', 'ok b @700'
    ])
  })

  it('moves on without waiting for a timed-out attempt that ignores its signal; its late result is dropped', async () => {
    const clock = new FakeClock()
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 100,
      attempt: async b => await new Promise<string>((resolve, reject) => {
        if (b.peerId === 'a') clock.setTimeout(() => reject(new Error('too late anyway')), 150)
        else clock.setTimeout(() => resolve('b'), 50)
      })
    })
    await clock.advanceAsync(300)
    const out = await run
    assert.equal(out.bid.peerId, 'b')
  })

  it('an erroring or rejecting worker is skipped with the right outcome', async () => {
    const clock = new FakeClock()
    const outcomes: string[] = []
    const out = await dispatchJob({
      bids,
      clock,
      deadlineFor: () => 1000,
      attempt: async b => {
        if (b.peerId === 'a') throw new Error('ffmpeg exited 1')
        if (b.peerId === 'b') throw new AttemptRejectedError('busy')
        return 'c'
      },
      onAttempt: (b, outcome, reason) => outcomes.push(`${b.peerId} ${outcome} ${reason ?? ''}`)
    })
    assert.equal(out.result, 'c')
    assert.equal(out.attempts, 3)
    assert.deepEqual(outcomes, ['a error ffmpeg exited 1', 'b rejected busy', 'c ok '])
  })

  it('a synchronous throw counts as an error', async () => {
    const out = await dispatchJob({
      bids,
      clock: new FakeClock(),
      deadlineFor: () => 1000,
      attempt: (b) => { if (b.peerId === 'a') throw new Error('sync'); return Promise.resolve(b.peerId) }
    })
    assert.equal(out.bid.peerId, 'b')
  })

  it('throws DispatchError with every attempt when all bids fail', async () => {
    const clock = new FakeClock(1000)
    const run = dispatchJob({
      bids: bids.slice(0, 2),
      clock,
      deadlineFor: () => 300,
      attempt: async (b, s) => { if (b.peerId === 'a') return await work(clock, 10_000, 'x', s); throw new Error('no gpu') }
    })
    const check = assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof DispatchError)
      assert.equal(err.name, 'DispatchError')
      assert.equal(err.jobId, 'job-1')
      assert.deepEqual(err.attempts, [
        { peerId: 'a', outcome: 'timeout', reason: 'no result within 300 ms', startedAt: 1000, endedAt: 1300, hedge: false },
        { peerId: 'b', outcome: 'error', reason: 'no gpu', startedAt: 1300, endedAt: 1300, hedge: false }
      ])
      assert.match(err.message, /all 2 bids failed: a: timeout .*; b: error \(no gpu\)/)
      return true
    })
    await clock.advanceAsync(300)
    await check
  })

  it('stops after maxAttempts', async () => {
    let calls = 0
    await assert.rejects(dispatchJob({
      bids,
      clock: new FakeClock(),
      maxAttempts: 2,
      deadlineFor: () => 1000,
      attempt: async () => { calls++; throw new Error('nope') }
    }), (err: unknown) => err instanceof DispatchError && err.attempts.length === 2 && /2 allowed attempts/.test(err.message))
    assert.equal(calls, 2)
  })

  it('throws DispatchError when there are no bids', async () => {
    await assert.rejects(dispatchJob({ bids: [], clock: new FakeClock(), deadlineFor: () => 1, attempt: async () => 1 }),
      (err: unknown) => err instanceof DispatchError && err.attempts.length === 0 && /no bids/.test(err.message))
  })

  it('an external abort stops the running attempt and rejects with DispatchAbortedError', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    let attemptSignal: AbortSignal | undefined
    const outcomes: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 1000,
      signal: controller.signal,
      attempt: async (_b, s) => { attemptSignal = s; return await work(clock, 800, 'x', s) },
      onAttempt: (b, outcome) => outcomes.push(`${b.peerId} ${outcome}`)
    })
    await clock.advanceAsync(100)
    controller.abort(new Error('stream stopped'))
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof DispatchAbortedError)
      assert.ok(err instanceof DispatchError)
      assert.equal((err.cause as Error).message, 'stream stopped')
      assert.equal(err.attempts.length, 1)
      assert.match(err.attempts[0]?.reason ?? '', /aborted: stream stopped/)
      return true
    })
    assert.equal(attemptSignal?.aborted, true)
    assert.deepEqual(outcomes, ['a error'])
    assert.equal(clock.pendingTimers, 0)
  })

  it('an already aborted signal makes no attempt; an abort from onAttemptStart starts none', async () => {
    let calls = 0
    const attempt = async (): Promise<number> => { calls++; return 1 }
    await assert.rejects(dispatchJob({ bids, clock: new FakeClock(), deadlineFor: () => 1, attempt, signal: AbortSignal.abort() }), DispatchAbortedError)
    const controller = new AbortController()
    await assert.rejects(dispatchJob({
      bids, clock: new FakeClock(), deadlineFor: () => 1, attempt, signal: controller.signal, onAttemptStart: () => controller.abort()
    }), DispatchAbortedError)
    assert.equal(calls, 0)
  })

  it('a non-finite deadline sets no timer', async () => {
    const clock = new FakeClock()
    const run = dispatchJob({ bids, clock, deadlineFor: () => Infinity, attempt: async (_b, s) => await work(clock, 1e9, 'x', s) })
    await clock.advanceAsync(0)
    assert.equal(clock.pendingTimers, 1) // just the work
    await clock.advanceAsync(1e9)
    assert.equal((await run).result, 'x')
  })

  it('drives a JobLedger through its hooks', async () => {
    const clock = new FakeClock()
    const ledger = new JobLedger({ clock })
    ledger.create({ jobId: 'job-1', streamId: 's', seq: 0 })
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 100,
      attempt: async (b: Bid, s) => await work(clock, b.peerId === 'a' ? 500 : 50, b.peerId, s),
      onAttemptStart: b => ledger.startAttempt(b.jobId, b.peerId),
      onAttempt: (b, outcome, reason) => ledger.endAttempt(b.jobId, outcome, reason)
    })
    await clock.advanceAsync(150)
    await run
    ledger.complete('job-1')
    const job = ledger.get('job-1')
    assert.deepEqual([job?.state, job?.worker, job?.attempts, job?.durationMs], ['done', 'b', 2, 150])
    assert.deepEqual(job?.history.map(h => [h.worker, h.outcome, h.startedAt, h.endedAt]), [['a', 'timeout', 0, 100], ['b', 'ok', 100, 150]])
  })

  it('hedges a late attempt: the duplicate wins, the late one is aborted as cancelled', async () => {
    const clock = new FakeClock()
    const signals = new Map<string, AbortSignal>()
    const events: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 5000,
      hedgeAfter: b => b.estimateMs / 2,
      attempt: async (b, s) => { signals.set(b.peerId, s); return await work(clock, b.peerId === 'a' ? 4000 : 300, b.peerId, s) },
      onAttemptStart: (b, n, hedge) => events.push(`start ${b.peerId} #${n}${hedge ? ' hedge' : ''} @${clock.now()}`),
      onAttempt: (b, outcome) => events.push(`${outcome} ${b.peerId} @${clock.now()}`)
    })
    await clock.advanceAsync(800)
    const out = await run
    assert.deepEqual([out.result, out.attempts, out.hedged], ['b', 2, true])
    assert.deepEqual(events, ['start a #1 @0', 'start b #2 hedge @500', 'ok b @800', 'cancelled a @800'])
    assert.ok(signals.get('a')?.reason instanceof AttemptCancelledError)
    assert.equal(clock.pendingTimers, 0)
  })

  it('a late attempt that finishes first still wins; its hedge is cancelled', async () => {
    const clock = new FakeClock()
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 5000,
      hedgeAfter: () => 100,
      attempt: async (b, s) => await work(clock, b.peerId === 'a' ? 150 : 1000, b.peerId, s)
    })
    await clock.advanceAsync(150)
    const out = await run
    assert.deepEqual([out.result, out.attempts, out.hedged], ['a', 2, false])
  })

  it('hedges at most once per attempt and never runs more than two at once', async () => {
    const clock = new FakeClock()
    let concurrent = 0
    let peak = 0
    const run = dispatchJob({
      bids: [bid('a'), bid('b'), bid('c'), bid('d')],
      clock,
      deadlineFor: () => 1000,
      hedgeAfter: () => 100,
      attempt: async (b, s) => await work(clock, b.peerId === 'd' ? 10 : 10_000, b.peerId, s),
      onAttemptStart: () => { concurrent++; peak = Math.max(peak, concurrent) },
      onAttempt: () => { concurrent-- }
    })
    // a starts @0, hedge b @100; a times out @1000 → c @1000; b times out @1100, c's hedge d @1100 → d wins @1110
    await clock.advanceAsync(1110)
    const out = await run
    assert.equal(out.result, 'd')
    assert.equal(peak, 2)
  })

  it('verification failures are reported as invalid and the next bidder is tried', async () => {
    const clock = new FakeClock()
    const outcomes: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      deadlineFor: () => 1000,
      attempt: async (b) => { if (b.peerId === 'a') throw new AttemptInvalidError('360p is 640x360'); return b.peerId },
      onAttempt: (b, outcome, reason) => outcomes.push(`${b.peerId} ${outcome} ${reason ?? ''}`.trim())
    })
    const out = await run
    assert.equal(out.result, 'b')
    assert.deepEqual(outcomes, ['a invalid 360p is 640x360', 'b ok'])
  })

  it('asks for fresh bids when the ones in hand are used up, skipping bidders already tried', async () => {
    const clock = new FakeClock()
    const asked: string[][] = []
    const run = dispatchJob({
      bids: [bid('a')],
      clock,
      maxAttempts: 3,
      deadlineFor: () => 1000,
      rebid: async (tried) => { asked.push([...tried]); return [bid('a'), bid('z')] },
      attempt: async (b) => { if (b.peerId === 'a') throw new Error('ffmpeg died'); return b.peerId }
    })
    const out = await run
    assert.deepEqual([out.result, out.attempts], ['z', 2])
    assert.deepEqual(asked, [['a']])
  })

  it('gives up when re-bidding finds nobody new', async () => {
    const clock = new FakeClock()
    const run = dispatchJob({
      bids: [bid('a')],
      clock,
      maxAttempts: 3,
      deadlineFor: () => 1000,
      rebid: async () => [bid('a')],
      attempt: async () => { throw new Error('nope') }
    })
    await assert.rejects(run, (err: DispatchError) => err.attempts.length === 1 && /all 1 bids failed/.test(err.message))
  })

  it('counts hedges against maxAttempts', async () => {
    const clock = new FakeClock()
    const started: string[] = []
    const run = dispatchJob({
      bids,
      clock,
      maxAttempts: 2,
      deadlineFor: () => 1000,
      hedgeAfter: () => 100,
      attempt: async (b, s) => { started.push(b.peerId); return await work(clock, 10_000, b.peerId, s) }
    })
    const rejected = assert.rejects(run, (err: DispatchError) => /all 2 allowed attempts failed/.test(err.message) && err.attempts.every(a => a.outcome === 'timeout'))
    await clock.advanceAsync(1100)
    await rejected
    assert.deepEqual(started, ['a', 'b'])
  })

  it('a worker that declines (busy) does not use up an attempt', async () => {
    const clock = new FakeClock()
    const run = dispatchJob({
      bids: [bid('busy1'), bid('busy2'), bid('bad'), bid('good')],
      clock,
      maxAttempts: 2,
      deadlineFor: () => 1000,
      attempt: async (b) => {
        if (b.peerId.startsWith('busy')) throw new AttemptRejectedError('at capacity')
        if (b.peerId === 'bad') throw new Error('ffmpeg died')
        return b.peerId
      }
    })
    const out = await run
    assert.deepEqual([out.result, out.attempts], ['good', 4])
  })

  it('a worker that declined (busy) is offered the job again when it re-bids, a bounded number of times', async () => {
    const clock = new FakeClock()
    const asked: string[][] = []
    let calls = 0
    const run = dispatchJob({
      bids: [bid('w')],
      clock,
      maxAttempts: 2,
      deadlineFor: () => 1000,
      // The only worker re-bids each round (it is free again); it declines three times, then works.
      rebid: async (tried) => { asked.push([...tried]); return [bid('w')] },
      attempt: async (b) => {
        calls++
        if (calls <= 2) throw new AttemptRejectedError('at capacity')
        return b.peerId
      }
    })
    const out = await run
    assert.equal(out.result, 'w')
    assert.deepEqual(asked, [[], []], 'the busy worker was not excluded from the re-bids')
    const stubborn = dispatchJob({
      bids: [bid('w')],
      clock,
      maxAttempts: 2,
      deadlineFor: () => 1000,
      rebid: async () => [bid('w')],
      attempt: async () => { throw new AttemptRejectedError('at capacity') }
    })
    await assert.rejects(stubborn, (err: DispatchError) => err.attempts.length === MAX_DECLINES_PER_WORKER && err.attempts.every(a => a.outcome === 'rejected'))
  })
})
