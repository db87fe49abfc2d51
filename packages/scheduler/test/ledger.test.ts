import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, JobLedger, type LedgerEvent } from '../src/index.js'

describe('JobLedger', () => {
  it('records a job through bidding, a failed attempt and a successful one', () => {
    const ledger = new JobLedger()
    ledger.create({ jobId: 'j', streamId: 's', seq: 4, createdAt: 1000 })
    assert.equal(ledger.get('j')?.state, 'announced')
    ledger.addBid('j', { peerId: 'peerA', estimateMs: 700 }, 1050)
    ledger.addBid('j')
    assert.equal(ledger.get('j')?.state, 'bidding')
    ledger.startAttempt('j', 'peerA', 1100)
    ledger.endAttempt('j', 'timeout', 'no result within 500 ms', 1600)
    ledger.startAttempt('j', 'peerB', 1600)
    assert.equal(ledger.get('j')?.state, 'assigned')
    ledger.endAttempt('j', 'ok', undefined, 1900)
    ledger.complete('j', 1950)
    assert.deepEqual(ledger.get('j'), {
      jobId: 'j',
      streamId: 's',
      seq: 4,
      state: 'done',
      worker: 'peerB',
      attempts: 2,
      bids: 2,
      bidders: [{ peerId: 'peerA', estimateMs: 700, at: 1050 }],
      durationMs: 950,
      createdAt: 1000,
      finishedAt: 1950,
      reason: null,
      history: [
        { worker: 'peerA', outcome: 'timeout', reason: 'no result within 500 ms', startedAt: 1100, endedAt: 1600 },
        { worker: 'peerB', outcome: 'ok', reason: null, startedAt: 1600, endedAt: 1900 }
      ]
    })
  })

  it('fail(), setState() to terminal states, and the clock default for `at`', () => {
    const clock = new FakeClock(5000)
    const ledger = new JobLedger({ clock })
    ledger.create({ jobId: 'a', streamId: 's', seq: 0 })
    ledger.create({ jobId: 'b', streamId: 's', seq: 1 })
    ledger.create({ jobId: 'c', streamId: 's', seq: 2 })
    clock.advance(250)
    ledger.startAttempt('a', 'w')
    ledger.endAttempt('a', 'error', 'ffmpeg exited 1')
    ledger.fail('a', 'all bids failed')
    ledger.setState('b', 'passthrough')
    ledger.setState('c', 'bidding')
    const [c, b, a] = ledger.list()
    assert.deepEqual([a?.state, a?.durationMs, a?.reason], ['failed', 250, 'all bids failed'])
    assert.deepEqual(a?.history[0], { worker: 'w', outcome: 'error', reason: 'ffmpeg exited 1', startedAt: 5250, endedAt: 5250 })
    assert.deepEqual([b?.state, b?.durationMs], ['passthrough', 250])
    assert.deepEqual([c?.state, c?.durationMs, c?.finishedAt], ['bidding', null, null])
  })

  it('endAttempt without a running attempt still records it', () => {
    const ledger = new JobLedger()
    ledger.create({ jobId: 'j', streamId: 's', seq: 0, createdAt: 0 })
    ledger.endAttempt('j', 'rejected', 'busy', 10)
    assert.deepEqual(ledger.get('j')?.history, [{ worker: '', outcome: 'rejected', reason: 'busy', startedAt: 10, endedAt: 10 }])
  })

  it('is bounded, lists newest first, and ignores unknown jobs', () => {
    const ledger = new JobLedger({ maxJobs: 3 })
    for (let i = 0; i < 5; i++) assert.equal(ledger.create({ jobId: `j${i}`, streamId: 's', seq: i, createdAt: i }), true)
    assert.equal(ledger.size, 3)
    assert.deepEqual(ledger.list().map(j => j.jobId), ['j4', 'j3', 'j2'])
    assert.deepEqual(ledger.list(2).map(j => j.jobId), ['j4', 'j3'])
    assert.equal(ledger.get('j0'), undefined)
    assert.equal(ledger.startAttempt('j0', 'w', 1), false)
    assert.equal(ledger.complete('nope', 1), false)
    assert.equal(ledger.create({ jobId: 'j4', streamId: 's', seq: 9, createdAt: 9 }), false)
    assert.equal(new JobLedger().maxJobs, 500)
    assert.throws(() => new JobLedger({ maxJobs: 0 }), RangeError)
  })

  it('returns snapshots, not live records', () => {
    const ledger = new JobLedger()
    ledger.create({ jobId: 'j', streamId: 's', seq: 0, createdAt: 0 })
    const snap = ledger.list()[0]!
    snap.state = 'done'
    snap.history.push({ worker: 'x', outcome: 'ok', reason: null, startedAt: 0, endedAt: 0 })
    assert.equal(ledger.get('j')?.state, 'announced')
    assert.equal(ledger.get('j')?.history.length, 0)
  })

  it('emits a change event with a snapshot for every change, including eviction', () => {
    const ledger = new JobLedger({ maxJobs: 1 })
    const events: LedgerEvent[] = []
    ledger.on('change', e => events.push(e))
    ledger.create({ jobId: 'a', streamId: 's', seq: 0, createdAt: 0 })
    ledger.addBid('a')
    ledger.startAttempt('a', 'w', 1)
    ledger.endAttempt('a', 'ok', undefined, 2)
    ledger.complete('a', 3)
    ledger.create({ jobId: 'b', streamId: 's', seq: 1, createdAt: 4 })
    ledger.addBid('missing')
    assert.deepEqual(events.map(e => `${e.kind}:${e.job.jobId}:${e.job.state}`), [
      'created:a:announced', 'bid:a:bidding', 'attempt-start:a:assigned', 'attempt-end:a:assigned',
      'state:a:done', 'created:b:announced', 'evicted:a:done'
    ])
    assert.equal(events[1]?.job.bids, 1)
    events[0]!.job.state = 'failed' // snapshots are independent
    assert.equal(events[1]?.job.state, 'bidding')
  })

  it('restores persisted jobs, skipping malformed ones and known ids, within maxJobs', () => {
    const a = new JobLedger({ clock: new FakeClock() })
    a.create({ jobId: 'x', streamId: 's', seq: 1, createdAt: 5 })
    a.complete('x', 9)
    const b = new JobLedger({ maxJobs: 2 })
    b.create({ jobId: 'live', streamId: 's', seq: 9 })
    const n = b.restore([{ bogus: true }, a.get('x'), { ...a.get('x')!, jobId: 'live' }, { ...a.get('x')!, jobId: 'y' }])
    assert.equal(n, 2)
    assert.equal(b.size, 2)
    assert.deepEqual(b.get('y')?.durationMs, 4)
  })
})
