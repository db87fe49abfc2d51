/**
 * Live data for the dashboard: `GET /api/events` (server-sent events) and
 * `GET /api/dashboard` (the same snapshot, once).
 *
 * Events (each `data:` is one JSON object):
 *   - `snapshot` every 2 s (and once on connect): this node, its peers with
 *     ping latency, its streams (ingest) with viewers (edge), the streams
 *     this edge serves to viewers now, per-worker stats;
 *   - `job` as the ingest's job ledger changes: `{ kind, job }`
 *     (created | state | bid | attempt-start | attempt-end | evicted).
 * One timer and one ledger listener serve every client; both stop when the
 * last client leaves, so an unwatched node does no dashboard work.
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { ffmpegVersion } from '@diststream/media'
import { peerIdFromString } from '@libp2p/peer-id'
import { WorkerStats } from './worker-stats.js'
import { ViewerCounter } from './viewers.js'
import type { DistNode } from '../node.js'
import type { LedgerEvent } from '@diststream/scheduler'
import type { FastifyInstance, FastifyReply } from 'fastify'

const SNAPSHOT_MS = 2000
const PING_EVERY_MS = 10_000
const PING_TIMEOUT_MS = 3000
const MAX_PINGED = 32
const MAX_CLIENTS = 64

interface Client { reply: FastifyReply }

export function registerEventRoutes (app: FastifyInstance, node: DistNode, version: string): void {
  const clients = new Set<Client>()
  const rtt = new Map<string, number>()
  const workers = new WorkerStats()
  const viewers = new ViewerCounter()
  let ffmpegInfo: { path: string, source: string, version: string, encoder: string } | undefined
  if (node.ffmpeg != null) {
    const f = node.ffmpeg
    ffmpegInfo = { path: f.ffmpeg, source: f.source, version: '', encoder: 'libx264 (CPU)' }
    void ffmpegVersion(f.ffmpeg).then(v => { ffmpegInfo!.version = v.split('\n')[0] ?? v }).catch(() => {})
  }
  // Per-worker figures come from every job the ledger sees, watched or not.
  if (node.ingest != null) {
    for (const job of node.ingest.ledger.list().reverse()) workers.record({ kind: 'state', job })
    node.ingest.ledger.on('change', e => { workers.record(e) })
  }

  // Viewers of this edge: distinct clients fetching a stream's HLS recently.
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode !== 200 || !req.url.startsWith('/live/')) return
    const id = req.url.split('/')[2]
    if (id != null) viewers.seen(id, `${req.ip} ${req.headers['user-agent'] ?? ''}`)
  })

  let cpuPrev = { usage: process.cpuUsage(), at: performance.now() }
  const nodeView = (): Record<string, unknown> => {
    const usage = process.cpuUsage()
    const at = performance.now()
    const cpuMs = (usage.user - cpuPrev.usage.user + usage.system - cpuPrev.usage.system) / 1000
    const cpuPercent = at > cpuPrev.at ? Math.round(1000 * cpuMs / (at - cpuPrev.at)) / 10 : 0
    cpuPrev = { usage, at }
    const mem = process.memoryUsage()
    return {
      peerId: node.libp2p.peerId.toString(),
      version,
      roles: node.config.roles,
      multiaddrs: node.libp2p.getMultiaddrs().map(String),
      httpUrl: node.httpUrl,
      rtmpPort: node.ingest != null ? node.config.rtmpPort : null,
      uptimeSec: Math.round((Date.now() - node.startedAt) / 1000),
      cpu: { processPercent: cpuPercent, cores: cpus().length, load1: Math.round(loadavg()[0]! * 100) / 100 },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, totalBytes: totalmem() },
      ffmpeg: ffmpegInfo ?? null,
      worker: node.worker != null ? { activeJobs: node.worker.activeJobs, maxJobs: node.worker.maxJobs } : null
    }
  }

  const peersView = (): Array<Record<string, unknown>> => {
    const connected = new Set(node.libp2p.getPeers().map(String))
    const out = new Map<string, Record<string, unknown>>()
    for (const p of node.presence.peers()) {
      out.set(p.peerId, { peerId: p.peerId, roles: p.roles, connected: connected.has(p.peerId), httpUrl: p.httpUrl, activeJobs: p.activeJobs, maxJobs: p.maxJobs, hwKind: p.hwKind, agent: p.agent, lastSeen: p.lastSeen, rttMs: rtt.get(p.peerId) ?? null })
    }
    for (const id of connected) {
      if (!out.has(id)) out.set(id, { peerId: id, roles: [], connected: true, httpUrl: '', activeJobs: 0, maxJobs: 0, hwKind: '', agent: '', lastSeen: 0, rttMs: rtt.get(id) ?? null })
    }
    return [...out.values()]
  }

  const streamsView = async (): Promise<Array<Record<string, unknown>>> => {
    if (node.ingest == null) return []
    const list = await node.ingest.listStreams()
    return list.map(s => ({
      id: s.id,
      name: s.name,
      state: s.state,
      createdAt: new Date(s.createdAt).toISOString(),
      lastSeq: s.lastSeq ?? null,
      renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth })),
      viewers: viewers.count(s.id),
      playbackUrl: `/live/${s.id}/index.m3u8`
    }))
  }

  const dashboard = async (): Promise<Record<string, unknown>> => ({
    at: Date.now(),
    node: nodeView(),
    peers: peersView(),
    streams: await streamsView(),
    workers: workers.list(),
    edgeViewers: node.edge != null ? viewers.total() : null,
    edgeStreams: node.edge != null ? viewers.streams().slice(0, 50) : []
  })

  app.get('/api/dashboard', async () => await dashboard())

  // Shared timers, running only while someone watches.
  let snapTimer: NodeJS.Timeout | undefined
  let pingTimer: NodeJS.Timeout | undefined
  const onJob = (e: LedgerEvent): void => { broadcast('job', e) }
  const broadcast = (event: string, data: unknown): void => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
    for (const c of clients) c.reply.raw.write(frame)
  }
  const pingAll = async (): Promise<void> => {
    const peers = node.libp2p.getPeers().slice(0, MAX_PINGED)
    const alive = new Set(peers.map(String))
    for (const id of rtt.keys()) if (!alive.has(id)) rtt.delete(id)
    await Promise.allSettled(peers.map(async p => {
      const ms = await node.libp2p.services.ping.ping(peerIdFromString(p.toString()), { signal: AbortSignal.timeout(PING_TIMEOUT_MS) })
      rtt.set(p.toString(), Math.round(ms * 10) / 10)
    }))
  }
  const startWatching = (): void => {
    node.ingest?.ledger.on('change', onJob)
    void pingAll().catch(() => {})
    pingTimer = setInterval(() => { void pingAll().catch(() => {}) }, PING_EVERY_MS)
    snapTimer = setInterval(() => {
      void dashboard().then(d => { broadcast('snapshot', d) }, err => { node.logger.debug({ err }, 'dashboard snapshot failed') })
    }, SNAPSHOT_MS)
  }
  const stopWatching = (): void => {
    node.ingest?.ledger.off('change', onJob)
    clearInterval(pingTimer)
    clearInterval(snapTimer)
  }

  app.get('/api/events', async (_req, reply) => {
    if (clients.size >= MAX_CLIENTS) {
      void reply.code(503)
      return { error: `too many dashboard clients (${MAX_CLIENTS})` }
    }
    reply.hijack()
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    // Retry after 2 s if the connection drops; then the current state at once.
    reply.raw.write('retry: 2000\n\n')
    const client: Client = { reply }
    if (clients.size === 0) startWatching()
    clients.add(client)
    const keepAlive = setInterval(() => { reply.raw.write(': ka\n\n') }, 15_000)
    const close = (): void => {
      clearInterval(keepAlive)
      if (!clients.delete(client)) return
      if (clients.size === 0) stopWatching()
    }
    // The response closes when the browser goes away (or the server stops).
    reply.raw.on('close', close)
    reply.raw.on('error', close)
    try {
      const jobs = node.ingest?.ledger.list(100) ?? []
      reply.raw.write(`event: snapshot\ndata: ${JSON.stringify({ ...(await dashboard()), jobs })}\n\n`)
    } catch (err) {
      node.logger.warn({ err }, 'dashboard snapshot failed')
      reply.raw.end()
    }
  })

  // Before the server closes: open event streams would otherwise keep it open.
  app.addHook('preClose', async () => {
    for (const c of clients) c.reply.raw.end()
    clients.clear()
    stopWatching()
  })
}
