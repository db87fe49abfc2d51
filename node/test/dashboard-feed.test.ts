/**
 * DashboardFeed's limits without a server (security review H7): a client that
 * stops reading is dropped once MAX_CLIENT_QUEUE_BYTES are queued for it, and
 * the per-address cap is counted.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { DashboardFeed, MAX_CLIENT_QUEUE_BYTES, MAX_CLIENTS_PER_IP } from '../src/http/dashboard-feed.js'
import type { HttpContext } from '../src/http/context.js'
import type { FastifyReply } from 'fastify'

/** The least of an HttpContext a feed with no roles needs. */
function context (registry: Registry): HttpContext {
  const libp2p = { peerId: 'self', getPeers: () => [], getMultiaddrs: () => [], services: { ping: { ping: async () => 1 } } }
  return { registry, logger: pino({ level: 'silent' }), libp2p, presence: { peers: () => [] }, config: { roles: [] }, httpUrl: () => '', startedAt: Date.now(), version: 'test' } as unknown as HttpContext
}

/** A response that never drains: everything written stays queued. */
function stalledReply (): { reply: FastifyReply, raw: Writable } {
  const raw = new Writable({ highWaterMark: 1, write (_chunk, _enc, _cb) { /* never calls back: a client that stopped reading */ } })
  Object.assign(raw, { writeHead: () => raw })
  return { reply: { raw } as unknown as FastifyReply, raw }
}

describe('DashboardFeed limits (H7)', () => {
  it('drops a client that stops reading, counted; refuses an address past its cap', async () => {
    const registry = new Registry()
    const feed = new DashboardFeed(context(registry))
    const { reply, raw } = stalledReply()
    await feed.attach(reply, '10.0.0.1')
    for (let i = 1; i < MAX_CLIENTS_PER_IP; i++) await feed.attach(stalledReply().reply, '10.0.0.1')
    assert.equal(feed.refuse('10.0.0.1'), 'per_ip')
    assert.equal(feed.refuse('10.0.0.2'), undefined)
    // The client has a full queue: the next snapshot (every SNAPSHOT_MS) drops it instead of queueing more.
    raw.write('y'.repeat(MAX_CLIENT_QUEUE_BYTES))
    await new Promise(resolve => setTimeout(resolve, 2100)) // SNAPSHOT_MS
    assert.equal(raw.destroyed, true, 'the stalled client was dropped')
    const text = await registry.metrics()
    assert.match(text, /diststream_dashboard_clients_refused_total\{why="stalled"\} [1-9]/)
    assert.match(text, /diststream_dashboard_clients_refused_total\{why="per_ip"\} 1/)
    feed.close()
  })
})
