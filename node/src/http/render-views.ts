/**
 * Builds the API's JSON views (types in `views.ts`) from the node's records.
 * Pure but for the clock in `nodeInfoView`; one builder per view, shared by
 * the routes and the dashboard feed.
 */
import { HttpError } from './errors.js'
import type { HttpContext } from './context.js'
import type { DashboardStreamView, EdgeStreamView, JobView, NodeInfoView, PeerView, RungView, StreamView, WorkerInfoView } from './views.js'
import type { JobRecord } from '@diststream/scheduler'
import type { StreamRecord } from '@diststream/store'
import type { Worker } from '@diststream/worker'
import type { FastifyRequest } from 'fastify'

/** Compile-time check that the ledger's records are what `JobView` promises the dashboard. */
export const jobView = (j: JobRecord): JobView => j

/**
 * A source URL as the (public) GET API shows it: the scheme and host only
 * (security review M4: a path can hold an upstream stream key, as in
 * `rtmp://up/live/<key>`, and the query and credentials tokens and
 * passwords); a local file as `file`, an upload as `upload`.
 */
export function publicSourceUrl (ctx: Pick<HttpContext, 'config'>, raw: string): string {
  if (raw.startsWith('/')) return raw.startsWith(ctx.config.dataDir + '/') ? 'upload' : 'file'
  if (raw.startsWith('file:')) return 'file'
  try {
    const u = new URL(raw)
    return `${u.protocol}//${u.host}`
  } catch {
    return '' // not a URL (a malformed record): show nothing rather than the raw text
  }
}

/** The host the client asked for (for URLs it can use), or loopback when the Host header is odd. */
function hostOf (req: FastifyRequest): string {
  const h = req.hostname.replace(/:\d+$/, '')
  return /^[A-Za-z0-9.\-[\]:]{1,255}$/.test(h) ? h : '127.0.0.1'
}

/**
 * A stream for `/api/streams`; `withKey` adds its publish key and RTMP URL:
 * only the answer that created the stream (or rotated its key) has the key.
 */
export function streamView (ctx: Pick<HttpContext, 'config' | 'httpPort' | 'ingest' | 'networkViewers'>, req: FastifyRequest, s: StreamRecord & { key?: string }, withKey = false): StreamView {
  const host = hostOf(req)
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeq: s.lastSeq ?? null,
    renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs })),
    source: s.source ?? null,
    ...(s.sourceUrl != null ? { sourceUrl: publicSourceUrl(ctx, s.sourceUrl) } : {}),
    ...(s.vod === true ? { vod: true, progress: s.progress ?? null } : {}),
    ...(s.private === true ? { private: true } : {}),
    ...(s.error != null ? { error: s.error } : {}),
    ...(withKey && s.key != null ? { key: s.key, rtmpUrl: `rtmp://${host}:${ctx.config.rtmpPort}/live/${s.key}` } : {}),
    ...(withKey && s.key != null && ctx.ingest?.srtPort != null ? { srtUrl: `srt://${host}:${ctx.ingest.srtPort}?streamid=publish:${s.key}` } : {}),
    playbackUrl: `http://${host}:${ctx.httpPort()}/live/${s.id}/index.m3u8`,
    thumbnailUrl: `http://${host}:${ctx.httpPort()}/live/${s.id}/thumbnail.jpg`,
    viewers: ctx.networkViewers?.count(s.id) ?? 0,
    ...rungsOf(ctx, s)
  }
}

/** `{ rungs }` of a live stream published on this node (which are transcoded now, which shed), else nothing. */
function rungsOf (ctx: Pick<HttpContext, 'ingest'>, s: StreamRecord): { rungs?: RungView[] } {
  const rungs = ctx.ingest?.rungState(s.id)
  return rungs != null ? { rungs: rungs.map(r => ({ name: r.name, live: r.live })) } : {}
}

/**
 * A stream as an edge without the ingest role knows it (`GET /api/streams/:id`
 * there): one it follows now, with the network's viewers; 404 otherwise.
 */
export function edgeStreamView (ctx: Pick<HttpContext, 'edge' | 'httpPort' | 'networkViewers'>, req: FastifyRequest, id: string): EdgeStreamView {
  if (ctx.edge?.activeStreams().includes(id) !== true) throw new HttpError(404, `no stream ${id} on this edge (it serves streams being watched here)`)
  const base = `http://${hostOf(req)}:${ctx.httpPort()}/live/${id}`
  return { id, viewers: ctx.networkViewers?.count(id) ?? 0, playbackUrl: `${base}/index.m3u8`, thumbnailUrl: `${base}/thumbnail.jpg` }
}

/** A stream for the dashboard, with its viewers on this node. */
export function dashboardStreamView (ctx: Pick<HttpContext, 'ingest'>, s: StreamRecord, viewers: number, networkViewers = viewers): DashboardStreamView {
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeq: s.lastSeq ?? null,
    renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth })),
    viewers,
    networkViewers,
    playbackUrl: `/live/${s.id}/index.m3u8`,
    thumbnailUrl: `/live/${s.id}/thumbnail.jpg`,
    ...rungsOf(ctx, s)
  }
}

/** Every peer presence knows of, then every connected one it does not (roles unknown yet); `rtt` adds ping times. */
export function peerViews (ctx: Pick<HttpContext, 'libp2p' | 'presence'>, rtt: ReadonlyMap<string, number> = new Map()): PeerView[] {
  const connected = new Set(ctx.libp2p.getPeers().map(String))
  const out = new Map<string, PeerView>()
  for (const p of ctx.presence.peers()) {
    out.set(p.peerId, { peerId: p.peerId, roles: p.roles, connected: connected.has(p.peerId), multiaddrs: p.multiaddrs, httpUrl: p.httpUrl, activeJobs: p.activeJobs, maxJobs: p.maxJobs, gpu: p.gpu, hwKind: p.hwKind, agent: p.agent, lastSeen: p.lastSeen, rttMs: rtt.get(p.peerId) ?? null })
  }
  for (const id of connected) {
    if (!out.has(id)) out.set(id, { peerId: id, roles: [], connected: true, multiaddrs: [], httpUrl: '', activeJobs: 0, maxJobs: 0, gpu: false, hwKind: '', agent: '', lastSeen: 0, rttMs: rtt.get(id) ?? null })
  }
  return [...out.values()]
}

/** The worker's market state: encoder, capacity, price and calibration. */
export function workerInfo (w: Worker): WorkerInfoView {
  const c = w.calibration
  return {
    activeJobs: w.activeJobs,
    maxJobs: w.maxJobs,
    encoder: w.encoder,
    gpu: w.gpu,
    hwKind: w.hwKind,
    price: w.price,
    calibration: c != null
      ? { encoder: c.encoder, fixedMs: c.fixedMs, msPerMediaSec: c.msPerMediaSec, source: c.source, ladder: c.ladder.map(r => r.name), runs: c.runs, measuredAt: c.measuredAt }
      : null
  }
}

/** `GET /api/node`: this node, its roles and the peers it knows. */
export function nodeInfoView (ctx: HttpContext, now = Date.now()): NodeInfoView {
  return {
    peerId: ctx.libp2p.peerId.toString(),
    version: ctx.version,
    roles: ctx.config.roles,
    multiaddrs: ctx.libp2p.getMultiaddrs().map(m => m.toString()),
    httpUrl: ctx.httpUrl(),
    ...(ctx.ingest != null ? { rtmpPort: ctx.config.rtmpPort } : {}),
    uptimeSec: Math.round((now - ctx.startedAt) / 1000),
    ...(ctx.ffmpeg != null ? { ffmpeg: { path: ctx.ffmpeg.ffmpeg, source: ctx.ffmpeg.source, encoder: ctx.worker?.encoder ?? 'libx264' } } : {}),
    ...(ctx.worker != null ? { worker: workerInfo(ctx.worker) } : {}),
    peers: peerViews(ctx)
  }
}
