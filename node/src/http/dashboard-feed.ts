/**
 * The dashboard's live data: the snapshot (this node, its peers with ping
 * latency, its streams with viewers, the streams this edge serves now,
 * per-worker stats) and the clients of `/api/events`, to whom it pushes a
 * snapshot every {@link SNAPSHOT_MS} and every change of the job ledger.
 * One timer and one ledger listener serve every client; both stop when the
 * last client leaves, so an unwatched node does no dashboard work.
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { ffmpegVersion } from '@diststream/media'
import { peerIdFromString } from '@libp2p/peer-id'
import { dashboardStreamView, peerViews } from './render-views.js'
import { ViewerCounter } from './viewers.js'
import { WorkerStats } from './worker-stats.js'
import type { HttpContext } from './context.js'
import type { DashboardSnapshot, DashboardStreamView, JobEventView, NodeView } from './views.js'
import type { LedgerEvent } from '@diststream/scheduler'
import type { FastifyReply } from 'fastify'
import { Counter } from 'prom-client'

/** How often watchers get a snapshot. */
export const SNAPSHOT_MS = 2000
/** How often connected peers are pinged for the latency column (while watched). */
const PING_EVERY_MS = 10_000
/** A ping slower than this is no answer: the peer keeps its last figure until it goes away. */
const PING_TIMEOUT_MS = 3000
/** Peers pinged per round: the dashboard shows a sample, not a census. */
const MAX_PINGED = 32
/** Open event streams at most: each holds a socket and gets every broadcast. */
export const MAX_CLIENTS = 64
/**
 * Open event streams from one IP address (security review H7: one client could take all
 * {@link MAX_CLIENTS}); a person has a dashboard tab or two open, an office behind NAT a few.
 */
export const MAX_CLIENTS_PER_IP = 4
/**
 * Bytes queued for one event stream before it is dropped (review H7: a client that stops
 * reading made every broadcast pile up in memory). A snapshot is a few KiB: 1 MiB is
 * minutes of events behind, far past what a reading browser ever queues.
 */
export const MAX_CLIENT_QUEUE_BYTES = 1024 * 1024
/** Peers in one snapshot at most (review H7 and M1: a presence flood must not bloat every frame). */
export const MAX_SNAPSHOT_PEERS = 256
/** A comment line this often keeps proxies from closing an idle event stream. */
const KEEPALIVE_MS = 15_000
/** Jobs sent with a client's first snapshot. */
const FIRST_JOBS = 100

interface Client { reply: FastifyReply, ip: string }

export type EventsRefusal = 'full' | 'per_ip'

export class DashboardFeed {
  /** Viewers of this edge: distinct clients fetching a stream's HLS recently. */
  readonly viewers: ViewerCounter
  readonly #clients = new Set<Client>()
  readonly #rtt = new Map<string, number>()
  readonly #workers = new WorkerStats()
  readonly #shutdown = new AbortController()
  readonly #onLedger = (e: LedgerEvent): void => { this.#workers.record(e) }
  readonly #onJob = (e: LedgerEvent): void => { this.#broadcast('job', { kind: e.kind, job: e.job } satisfies JobEventView) }
  readonly #perIp = new Map<string, number>()
  readonly #dropped: Counter<'why'>
  #ffmpegInfo?: { path: string, source: string, version: string, encoder: string }
  #cpuPrev = { usage: process.cpuUsage(), at: performance.now() }
  #snapTimer?: NodeJS.Timeout
  #pingTimer?: NodeJS.Timeout

  constructor (private readonly ctx: HttpContext) {
    this.viewers = ctx.viewers ?? new ViewerCounter()
    const name = 'diststream_dashboard_clients_refused_total'
    this.#dropped = (ctx.registry.getSingleMetric(name) as Counter<'why'> | undefined) ?? new Counter({ name, help: 'Dashboard event-stream clients refused or dropped: full (MAX_CLIENTS), per_ip (MAX_CLIENTS_PER_IP), stalled (stopped reading: over MAX_CLIENT_QUEUE_BYTES queued)', labelNames: ['why'], registers: [ctx.registry] })
    const f = ctx.ffmpeg
    if (f != null) {
      const info = { path: f.ffmpeg, source: f.source, version: '', encoder: 'libx264 (CPU)' }
      this.#ffmpegInfo = info
      ffmpegVersion(f.ffmpeg).then(v => { info.version = v.split('\n')[0] ?? v }, err => { ctx.logger.debug({ err }, 'dashboard: ffmpeg version unknown') })
    }
    // Per-worker figures come from every job the ledger sees, watched or not.
    if (ctx.ingest != null) {
      for (const job of ctx.ingest.ledger.list().reverse()) this.#workers.record({ kind: 'state', job })
      ctx.ingest.ledger.on('change', this.#onLedger)
    }
  }

  /** No room for another event stream. */
  get full (): boolean { return this.#clients.size >= MAX_CLIENTS }

  /** Why a new event stream from `ip` is refused (counted), or undefined if it may attach. */
  refuse (ip: string): EventsRefusal | undefined {
    const why = this.full ? 'full' : (this.#perIp.get(ip) ?? 0) >= MAX_CLIENTS_PER_IP ? 'per_ip' : undefined
    if (why != null) this.#dropped.inc({ why })
    return why
  }

  async snapshot (): Promise<DashboardSnapshot> {
    const edge = this.ctx.edge
    return {
      at: Date.now(),
      node: this.#nodeView(),
      peers: peerViews(this.ctx, this.#rtt).slice(0, MAX_SNAPSHOT_PEERS),
      streams: await this.#streams(),
      workers: this.#workers.list(),
      edgeViewers: edge != null ? this.viewers.total() : null,
      // Private streams stay off the dashboard (its feed is anonymous): their ids would be a way in.
      edgeStreams: edge != null ? this.viewers.streams().filter(v => !edge.isPrivate(v.id)).slice(0, 50).map(s => ({ ...s, networkViewers: this.#network(s.id) })) : []
    }
  }

  /** Serves one `/api/events` client on a hijacked reply until it goes away (or {@link close}). */
  async attach (reply: FastifyReply, ip: string): Promise<void> {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    // Retry after 2 s if the connection drops; then the current state at once.
    reply.raw.write('retry: 2000\n\n')
    const client: Client = { reply, ip }
    if (this.#clients.size === 0) this.#startWatching()
    this.#clients.add(client)
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1)
    const keepAlive = setInterval(() => { this.#send(client, ': ka\n\n') }, KEEPALIVE_MS)
    const close = (): void => {
      clearInterval(keepAlive)
      if (!this.#clients.delete(client)) return
      const n = (this.#perIp.get(ip) ?? 1) - 1
      if (n > 0) this.#perIp.set(ip, n)
      else this.#perIp.delete(ip)
      if (this.#clients.size === 0) this.#stopWatching()
    }
    // The response closes when the browser goes away (or the server stops).
    reply.raw.on('close', close)
    reply.raw.on('error', close)
    try {
      const jobs = this.ctx.ingest?.ledger.list(FIRST_JOBS) ?? []
      reply.raw.write(`event: snapshot\ndata: ${JSON.stringify({ ...(await this.snapshot()), jobs } satisfies DashboardSnapshot)}\n\n`)
    } catch (err) {
      this.ctx.logger.warn({ err }, 'dashboard snapshot failed')
      reply.raw.end()
    }
  }

  /** Ends every event stream and stops the timers and listeners (before the server closes: open streams would keep it open). */
  close (): void {
    this.#shutdown.abort()
    for (const c of this.#clients) c.reply.raw.end()
    this.#clients.clear()
    this.#stopWatching()
    this.ctx.ingest?.ledger.off('change', this.#onLedger)
  }

  #nodeView (): NodeView {
    const { ctx } = this
    const usage = process.cpuUsage()
    const at = performance.now()
    const prev = this.#cpuPrev
    const cpuMs = (usage.user - prev.usage.user + usage.system - prev.usage.system) / 1000
    const cpuPercent = at > prev.at ? Math.round(1000 * cpuMs / (at - prev.at)) / 10 : 0
    this.#cpuPrev = { usage, at }
    const mem = process.memoryUsage()
    return {
      peerId: ctx.libp2p.peerId.toString(),
      version: ctx.version,
      roles: ctx.config.roles,
      multiaddrs: ctx.libp2p.getMultiaddrs().map(String),
      httpUrl: ctx.httpUrl(),
      rtmpPort: ctx.ingest != null ? ctx.config.rtmpPort : null,
      uptimeSec: Math.round((Date.now() - ctx.startedAt) / 1000),
      cpu: { processPercent: cpuPercent, cores: cpus().length, load1: Math.round(loadavg()[0]! * 100) / 100 },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, totalBytes: totalmem() },
      ffmpeg: this.#ffmpegInfo ?? null,
      worker: ctx.worker != null ? { activeJobs: ctx.worker.activeJobs, maxJobs: ctx.worker.maxJobs } : null
    }
  }

  async #streams (): Promise<DashboardStreamView[]> {
    if (this.ctx.ingest == null) return []
    return (await this.ctx.ingest.listStreams()).filter(s => s.private !== true).map(s => dashboardStreamView(this.ctx, s, this.viewers.count(s.id), this.#network(s.id)))
  }

  #broadcast (event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
    for (const c of this.#clients) this.#send(c, frame)
  }

  /** Writes to one client, or drops it (counted) once it has more than {@link MAX_CLIENT_QUEUE_BYTES} unread. */
  #send (c: Client, frame: string): void {
    const raw = c.reply.raw
    if (raw.writableLength + frame.length > MAX_CLIENT_QUEUE_BYTES) {
      this.#dropped.inc({ why: 'stalled' })
      this.ctx.logger.info({ ip: c.ip, queued: raw.writableLength }, 'dashboard: dropped an event stream that stopped reading')
      raw.destroy() // its 'close' removes the client
      return
    }
    raw.write(frame)
  }

  async #pingAll (): Promise<void> {
    const peers = this.ctx.libp2p.getPeers().slice(0, MAX_PINGED)
    const alive = new Set(peers.map(String))
    for (const id of this.#rtt.keys()) if (!alive.has(id)) this.#rtt.delete(id)
    const results = await Promise.allSettled(peers.map(async p => {
      const ms = await this.ctx.libp2p.services.ping.ping(peerIdFromString(p.toString()), { signal: AbortSignal.any([this.#shutdown.signal, AbortSignal.timeout(PING_TIMEOUT_MS)]) })
      this.#rtt.set(p.toString(), Math.round(ms * 10) / 10)
    }))
    const failed = results.filter(r => r.status === 'rejected').length
    if (failed > 0) this.ctx.logger.debug({ failed, pinged: peers.length }, 'dashboard: some pings failed')
  }

  #ping (): void {
    this.#pingAll().catch(err => { this.ctx.logger.debug({ err }, 'dashboard: ping round failed') })
  }

  #startWatching (): void {
    this.ctx.ingest?.ledger.on('change', this.#onJob)
    this.#ping()
    this.#pingTimer = setInterval(() => { this.#ping() }, PING_EVERY_MS)
    this.#snapTimer = setInterval(() => {
      this.snapshot().then(d => { this.#broadcast('snapshot', d) }, err => { this.ctx.logger.debug({ err }, 'dashboard snapshot failed') })
    }, SNAPSHOT_MS)
  }

  #stopWatching (): void {
    this.ctx.ingest?.ledger.off('change', this.#onJob)
    clearInterval(this.#pingTimer)
    clearInterval(this.#snapTimer)
  }

  /** A stream's viewers over the network (this node's own where no network figure is kept). */
  #network (id: string): number {
    return this.ctx.networkViewers?.count(id) ?? this.viewers.count(id)
  }
}
