/**
 * The dashboard's server side without a browser: per-worker figures folded
 * from real JobLedger events, the viewer counter, and the clear 503 when the
 * web assets were not built.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FakeClock, JobLedger } from '@diststream/scheduler'
import Fastify from 'fastify'
import { pino } from 'pino'
import { dashboardDir, registerDashboard } from '../src/http/dashboard.js'
import { ViewerCounter } from '../src/http/viewers.js'
import { WorkerStats } from '../src/http/worker-stats.js'

describe('WorkerStats', () => {
  it('counts bids, attempts, done and failed per worker from ledger events, once each', () => {
    const clock = new FakeClock(1000)
    const ledger = new JobLedger({ clock })
    const stats = new WorkerStats()
    ledger.on('change', e => { stats.record(e) })

    ledger.create({ jobId: 'j1', streamId: 's', seq: 0 })
    ledger.addBid('j1', { peerId: 'A', estimateMs: 800 })
    ledger.addBid('j1', { peerId: 'B', estimateMs: 900 })
    ledger.startAttempt('j1', 'A')
    clock.advance(500)
    ledger.endAttempt('j1', 'timeout', 'deadline')
    ledger.startAttempt('j1', 'B')
    clock.advance(300)
    ledger.endAttempt('j1', 'ok')
    ledger.complete('j1')

    ledger.create({ jobId: 'j2', streamId: 's', seq: 1 })
    ledger.addBid('j2', { peerId: 'B', estimateMs: 700 })
    ledger.startAttempt('j2', 'B')
    clock.advance(100)
    ledger.endAttempt('j2', 'ok')
    ledger.complete('j2')
    // A repeated state event changes nothing.
    ledger.setState('j2', 'done')

    const byId = new Map(stats.list().map(s => [s.peerId, s]))
    assert.deepEqual(stats.list().map(s => s.peerId), ['B', 'A'], 'most jobs done first')
    const a = byId.get('A')!
    const b = byId.get('B')!
    assert.deepEqual([a.bids, a.attempts, a.done, a.failed, a.successRate], [1, 1, 0, 1, 0])
    assert.deepEqual([b.bids, b.attempts, b.done, b.failed, b.successRate], [2, 2, 2, 0, 1])
    assert.equal(b.meanTranscodeMs, 200)
    assert.equal(a.meanTranscodeMs, null)
  })

  it('starts from a ledger it joins late, and bounds the workers it tracks', () => {
    const ledger = new JobLedger()
    ledger.create({ jobId: 'j', streamId: 's', seq: 0 })
    ledger.startAttempt('j', 'W')
    ledger.endAttempt('j', 'ok')
    ledger.complete('j')
    const stats = new WorkerStats(1)
    for (const job of ledger.list()) stats.record({ kind: 'state', job })
    ledger.create({ jobId: 'k', streamId: 's', seq: 1 })
    ledger.on('change', e => { stats.record(e) })
    ledger.startAttempt('k', 'other')
    assert.deepEqual(stats.list().map(s => [s.peerId, s.done]), [['W', 1]])
  })
})

describe('ViewerCounter', () => {
  it('counts distinct clients per stream within the window', () => {
    let now = 0
    const v = new ViewerCounter(30_000, 10, 10, () => now)
    v.seen('s1', 'a')
    v.seen('s1', 'a')
    v.seen('s1', 'b')
    v.seen('s2', 'a')
    assert.equal(v.count('s1'), 2)
    assert.equal(v.total(), 3)
    assert.deepEqual(v.streams(), [{ id: 's1', viewers: 2 }, { id: 's2', viewers: 1 }])
    now = 20_000
    v.seen('s1', 'b')
    now = 40_000
    assert.equal(v.count('s1'), 1, 'a left the window, b is still watching')
    assert.equal(v.count('s2'), 0)
    assert.equal(v.count('nope'), 0)
  })
})

describe('dashboard assets', () => {
  it('finds the built web app', () => {
    assert.match(dashboardDir() ?? '', /web[/\\]dist$/)
  })

  it('answers 503 with what to do when the assets are missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'ds-web-'))
    const app = Fastify()
    try {
      await registerDashboard(app, pino({ level: 'silent' }), empty)
      for (const url of ['/', '/streams/abc']) {
        const res = await app.inject({ url })
        assert.equal(res.statusCode, 503)
        assert.match(res.body, /pnpm build/)
      }
    } finally {
      await app.close()
      await rm(empty, { recursive: true, force: true })
    }
  })

  it('serves index.html for client-side routes and the hashed assets', async () => {
    const app = Fastify()
    try {
      await registerDashboard(app, pino({ level: 'silent' }))
      const index = await app.inject({ url: '/streams/abc' })
      assert.equal(index.statusCode, 200)
      assert.match(index.headers['content-type'] as string, /text\/html/)
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.body)?.[1]
      assert.ok(asset != null, 'index.html references a script under /assets/')
      const js = await app.inject({ url: asset })
      assert.equal(js.statusCode, 200)
      assert.match(js.headers['cache-control'] as string, /immutable/)
      assert.equal((await app.inject({ url: '/assets/nope.js' })).statusCode, 404)
    } finally {
      await app.close()
    }
  })
})
