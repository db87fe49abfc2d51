import { ID_PATTERN } from '@diststream/protocol'
import { BlockingReloadUnavailableError, CONTENT_TYPES, CORS_HEADERS, parseDeliveryDirectives, playlistCacheControl, segmentResponse } from '@diststream/edge'
import { HttpError } from './server.js'
import { registerCmafRoutes, SEGMENT_FILE, serveCmafFile } from './cmaf-routes.js'
import type { DistNode } from '../node.js'
import type { Edge } from '@diststream/edge'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Stream ids and rendition names, as the wire protocol allows them. */
const NAME = ID_PATTERN.source

function edgeOf (node: DistNode): Edge {
  if (node.edge == null) throw new HttpError(404, 'this node has no edge role')
  return node.edge
}

function cors (reply: FastifyReply): FastifyReply {
  return reply.headers(CORS_HEADERS)
}

const header = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v.join(', ') : v

/**
 * HLS out: master and media playlists, and segments, under /live/:streamId/,
 * with CDN-grade HTTP: immutable caching, strong ETags (the segment's
 * sha256), conditional requests, byte ranges, CORS, HEAD (fastify answers
 * HEAD from the GET handlers, with the same headers and no body).
 */
export function registerLiveRoutes (app: FastifyInstance, node: DistNode): void {
  const params = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    params: { type: 'object', properties: { id: { type: 'string', pattern: NAME }, rendition: { type: 'string', pattern: NAME }, ...extra } }
  })
  const retentionSec = node.config.dvrRetentionSeconds

  // Every response under /live, errors included, carries CORS, so a player on another origin can read it.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.url.startsWith('/live/')) cors(reply)
    done()
  })

  app.options('/live/*', async (_req, reply) => { void cors(reply).code(204) })

  app.get<{ Params: { id: string } }>('/live/:id/index.m3u8', { schema: params() }, async (req, reply) => {
    const edge = edgeOf(node)
    try {
      const body = await edge.masterPlaylist(req.params.id)
      edge.recordRequest('master', 200)
      void reply.type(CONTENT_TYPES.m3u8).header('cache-control', 'public, max-age=1')
      return body
    } catch (err) {
      edge.recordRequest('master', 404)
      throw err
    }
  })

  app.get<{ Params: { id: string, rendition: string } }>('/live/:id/:rendition/index.m3u8', { schema: params() }, async (req, reply) => {
    const edge = edgeOf(node)
    // Blocking playlist reload (LL-HLS): _HLS_msn holds the answer until that segment is listed.
    const directives = parseDeliveryDirectives(req.query)
    const blocking = directives.msn !== undefined
    const gone = new AbortController()
    const onClose = (): void => { gone.abort() }
    if (blocking) reply.raw.once('close', onClose)
    try {
      const view = await edge.mediaPlaylist(req.params.id, req.params.rendition, { ...directives, signal: gone.signal })
      edge.recordRequest('playlist', 200)
      // A blocking reload's answer is for this request only (the spec's advice: no-cache); others, half a segment.
      void reply.type(CONTENT_TYPES.m3u8).header('cache-control', blocking ? 'no-cache' : playlistCacheControl({ ended: view.ended, targetDurationSec: view.targetDurationSec, retentionSec }))
      return view.body
    } catch (err: any) {
      const status: number = err?.statusCode ?? 404
      edge.recordRequest('playlist', status)
      if (err?.name === BlockingReloadUnavailableError.NAME) {
        void reply.code(503).header('cache-control', 'no-cache').header('retry-after', '1')
        return { error: err.message }
      }
      throw err
    } finally {
      reply.raw.off('close', onClose)
    }
  })

  registerCmafRoutes(app, node)

  app.get<{ Params: { id: string, rendition: string, seg: string } }>('/live/:id/:rendition/:seg', { schema: params({ seg: { type: 'string', pattern: SEGMENT_FILE } }) }, async (req, reply) => {
    // fMP4: <seq>.m4s and init-<hash>.mp4 (cmaf-routes.ts)
    if (!req.params.seg.endsWith('.ts')) return await serveCmafFile(req, reply, node)
    const edge = edgeOf(node)
    if (edge.isCmaf(req.params.id)) throw new HttpError(404, 'this stream is fMP4 (CMAF): its segments are <seq>.m4s')
    const seq = Number.parseInt(req.params.seg, 10)
    let served
    try {
      served = await edge.segment(req.params.id, req.params.rendition, seq)
    } catch (err: any) {
      edge.recordRequest('segment', err?.statusCode ?? 404)
      throw err
    }
    const res = segmentResponse(served.entry, CONTENT_TYPES.ts, {
      ifNoneMatch: header(req.headers['if-none-match']),
      range: header(req.headers.range),
      ifRange: header(req.headers['if-range'])
    })
    edge.recordRequest('segment', res.status, req.method === 'HEAD' ? 0 : res.body?.byteLength ?? 0)
    void reply.code(res.status).headers(res.headers)
    return res.body ?? ''
  })
}
