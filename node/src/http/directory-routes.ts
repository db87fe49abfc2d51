/**
 * The viewer side's directory: every stream this edge has heard announced
 * (the network's live directory as this edge sees it, from
 * `/diststream/streams/1.0.0` and DHT lookups), with its title and channel
 * (the owning ingest's peer id).
 *
 * - `GET /api/directory`: the list, once;
 * - `GET /api/directory/events`: server-sent events, `directory` on connect
 *   and whenever a stream appears, changes state or goes (checked every
 *   {@link DIRECTORY_CHECK_MS} while anyone listens).
 */
import { StreamAnnounce } from '@diststream/protocol'
import { HttpError } from './errors.js'
import { SseClients } from './sse-clients.js'
import type { HttpContext } from './context.js'
import type { SseClient } from './sse-clients.js'
import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'

/** How often the directory is compared with what listeners last got: a followed channel's notice is at most this late. */
export const DIRECTORY_CHECK_MS = 500
/** Streams in one directory answer at most (the edge's directory is bounded too, larger). */
export const MAX_DIRECTORY_VIEW = 500
/** Directory event streams at most, and from one address. */
const MAX_CLIENTS = 256
const MAX_CLIENTS_PER_IP = 8
/** Bytes queued for one directory event stream before it is dropped. */
const MAX_QUEUE_BYTES = 1024 * 1024
const KEEPALIVE_MS = 15_000

export interface DirectoryStreamView {
  id: string
  title: string
  /** The channel: the owning ingest's peer id (a stream id commits to it). */
  channel: string
  live: boolean
  vod: boolean
  updatedAtMs: number
  renditions: string[]
  playbackUrl: string
  /** The stream's latest-keyframe picture on this edge (404 until it has one). */
  thumbnailUrl: string
  /** Viewers over the whole network, where this node keeps the count. */
  viewers?: number
}

export function directoryView (ctx: HttpContext): DirectoryStreamView[] {
  const edge = ctx.edge
  if (edge == null) throw new HttpError(404, 'this node has no edge role')
  // Private streams are not listed (their playback needs a token; PROTOCOL.md §11).
  return edge.directory().filter(e => e.announce.private !== true).slice(0, MAX_DIRECTORY_VIEW).map(({ ingest, announce: a }) => ({
    id: a.streamId,
    title: a.name,
    channel: ingest,
    live: a.state === StreamAnnounce.State.LIVE,
    vod: a.vod === true,
    updatedAtMs: a.updatedAtMs,
    renditions: a.renditions.map(r => r.name),
    playbackUrl: `/live/${a.streamId}/index.m3u8`,
    // This edge's thumbnail route (thumbnail-routes.ts) and the network's viewer count (viewer gossip) where the node keeps it.
    thumbnailUrl: `/live/${a.streamId}/thumbnail.jpg`,
    ...(ctx.networkViewers != null ? { viewers: ctx.networkViewers.count(a.streamId) } : {})
  }))
}

/** What a listener must hear about: which streams, their titles, whether they are live, viewer counts (not every keep-alive). */
const signature = (list: DirectoryStreamView[]): string => JSON.stringify(list.map(s => [s.id, s.title, s.live, s.viewers]))

export function registerDirectoryRoutes (app: FastifyInstance, ctx: HttpContext): void {
  const name = 'diststream_directory_clients_refused_total'
  const refused = (ctx.registry.getSingleMetric(name) as Counter<'why'> | undefined) ??
    new Counter({ name, help: 'Directory event-stream clients refused or dropped: full, per_ip, stalled', labelNames: ['why'], registers: [ctx.registry] })
  const clients = new SseClients({ max: MAX_CLIENTS, maxPerIp: MAX_CLIENTS_PER_IP, maxQueueBytes: MAX_QUEUE_BYTES, keepAliveMs: KEEPALIVE_MS }, (why) => { refused.inc({ why }) })
  const listeners = new Set<SseClient>()
  let last = ''
  let timer: NodeJS.Timeout | undefined
  const check = (): void => {
    const list = directoryView(ctx)
    const sig = signature(list)
    if (sig === last) return
    last = sig
    for (const c of listeners) c.send('directory', { streams: list })
  }

  app.get('/api/directory', async () => ({ streams: directoryView(ctx) }))

  app.get('/api/directory/events', async (req, reply) => {
    const list = directoryView(ctx)
    const why = clients.refuse(req.ip)
    if (why != null) {
      refused.inc({ why })
      throw new HttpError(why === 'full' ? 503 : 429, 'too many directory clients')
    }
    reply.hijack()
    const client = clients.attach(reply, req.ip, () => {
      listeners.delete(client)
      if (listeners.size === 0) { clearInterval(timer); timer = undefined }
    })
    listeners.add(client)
    client.send('directory', { streams: list })
    if (timer == null) {
      last = signature(list)
      timer = setInterval(check, DIRECTORY_CHECK_MS)
    }
  })

  app.addHook('preClose', async () => { clearInterval(timer); clients.close() })
}
