import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, lifecycleActions, LifecycleSweeper } from '../src/index.js'
import type { LifecycleAction, LifecycleRecord } from '../src/index.js'

const policy = { staleMs: 30_000, retentionMs: 3_600_000 }

describe('lifecycleActions', () => {
  it('ends a stream with no segment or heartbeat for staleMs, not before', () => {
    const live: LifecycleRecord = { id: 'a', ended: false, lastActivityAt: 1000 }
    assert.deepEqual(lifecycleActions([live], 1000 + 29_999, policy), [])
    assert.deepEqual(lifecycleActions([live], 1000 + 30_000, policy), [{ id: 'a', action: 'end', reason: 'stale' }])
  })

  it('a heartbeat (newer activity) keeps a stream alive', () => {
    const beating: LifecycleRecord = { id: 'a', ended: false, lastActivityAt: 50_000 }
    assert.deepEqual(lifecycleActions([beating], 60_000, policy), [])
  })

  it('keeps an ended stream for the retention, counted from when it ended, then removes it', () => {
    const ended: LifecycleRecord = { id: 'b', ended: true, lastActivityAt: 0, endedAt: 10_000 }
    assert.deepEqual(lifecycleActions([ended], 10_000 + 3_599_999, policy), [])
    assert.deepEqual(lifecycleActions([ended], 10_000 + 3_600_000, policy), [{ id: 'b', action: 'remove', reason: 'retention' }])
  })

  it('never ends and removes a stream in the same sweep', () => {
    const old: LifecycleRecord = { id: 'c', ended: false, lastActivityAt: 0 }
    assert.deepEqual(lifecycleActions([old], 10 * 3_600_000, policy).map(a => a.action), ['end'])
  })

  it('decides for each record independently', () => {
    const out = lifecycleActions([
      { id: 'live', ended: false, lastActivityAt: 95_000 },
      { id: 'stale', ended: false, lastActivityAt: 0 },
      { id: 'dvr', ended: true, lastActivityAt: 0, endedAt: 90_000 },
      { id: 'gone', ended: true, lastActivityAt: 0 }
    ], 100_000, { staleMs: 30_000, retentionMs: 60_000 })
    assert.deepEqual(out.map(a => `${a.id}:${a.action}`), ['stale:end', 'gone:remove'])
  })
})

describe('LifecycleSweeper', () => {
  it('sweeps on its schedule with a fake clock: ends, then removes after the retention', async () => {
    const clock = new FakeClock(0)
    const rec: LifecycleRecord = { id: 's', ended: false, lastActivityAt: 0 }
    const applied: string[] = []
    const sweeper = new LifecycleSweeper({
      clock,
      everyMs: 1000,
      policy: { staleMs: 5000, retentionMs: 10_000 },
      records: () => [rec],
      apply: async (a: LifecycleAction) => {
        applied.push(`${a.action}@${clock.now()}`)
        if (a.action === 'end') { rec.ended = true; rec.endedAt = clock.now() }
      }
    })
    sweeper.start()
    await clock.advanceAsync(4000)
    assert.deepEqual(applied, [])
    await clock.advanceAsync(1000)
    assert.deepEqual(applied, ['end@5000'])
    await clock.advanceAsync(9000)
    assert.deepEqual(applied, ['end@5000'])
    await clock.advanceAsync(1000)
    assert.deepEqual(applied, ['end@5000', 'remove@15000'])
    await sweeper.stop()
    assert.equal(clock.pendingTimers, 0)
  })

  it('a failing action is reported and does not stop the others', async () => {
    const errors: string[] = []
    const done: string[] = []
    const sweeper = new LifecycleSweeper({
      clock: new FakeClock(100_000),
      everyMs: 1000,
      policy: { staleMs: 1, retentionMs: 1 },
      records: () => [{ id: 'x', ended: false, lastActivityAt: 0 }, { id: 'y', ended: false, lastActivityAt: 0 }],
      apply: async (a) => { if (a.id === 'x') throw new Error('disk full'); done.push(a.id) },
      onError: (err) => { errors.push((err as Error).message) }
    })
    const actions = await sweeper.sweep()
    assert.equal(actions.length, 2)
    assert.deepEqual(done, ['y'])
    assert.deepEqual(errors, ['disk full'])
  })

  it('lets go of a live stream nobody viewed for viewerlessMs, only where viewers are tracked, and never before it is stale-checked', () => {
    const policy = { staleMs: 120_000, retentionMs: 3_600_000, viewerlessMs: 600_000 }
    const now = 1_000_000
    const actions = lifecycleActions([
      { id: 'watched', ended: false, lastActivityAt: now - 1000, lastViewedAt: now - 5000 },
      { id: 'unwatched', ended: false, lastActivityAt: now - 1000, lastViewedAt: now - 600_000 },
      { id: 'untracked', ended: false, lastActivityAt: now - 1000 },
      { id: 'stale', ended: false, lastActivityAt: now - 200_000, lastViewedAt: now - 900_000 },
      { id: 'ended', ended: true, lastActivityAt: now - 1000, endedAt: now - 1000, lastViewedAt: now - 900_000 }
    ], now, policy)
    assert.deepEqual(actions, [
      { id: 'unwatched', action: 'unfollow', reason: 'no_viewers' },
      { id: 'stale', action: 'end', reason: 'stale' }
    ])
    assert.deepEqual(lifecycleActions([{ id: 'unwatched', ended: false, lastActivityAt: now, lastViewedAt: 0 }], now, { staleMs: 1e9, retentionMs: 1 }), [], 'no viewerlessMs: nothing let go')
  })
})
