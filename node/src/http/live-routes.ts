import { ID_PATTERN } from '@diststream/protocol'
import { BlockingReloadUnavailableError, CONTENT_TYPES, CORS_HEADERS, parseDeliveryDirectives, playlistCacheControl } from '@diststream/edge'
import { HttpError, httpStatusOf } from './errors.js'
import { registerCmafRoutes, SEGMENT_FILE, serveCmafFile } from './cmaf-routes.js'
import { edgeOf } from './role-guards.js'
import { replySegment } from './segment-reply.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Stream ids and rendition names, as the wire protocol allows them. */
const NAME = ID_PATTERN.source

function cors (reply: FastifyReply): FastifyReply {
  return reply.headers(CORS_HEADERS)
}

/**
 * HLS out: master and media playlists, and segments, under /live/:streamId/,
 * with CDN-grade HTTP: immutable caching, strong ETags (the segment's
 * sha256), conditional requests, byte ranges, CORS, HEAD (fastify answers
 * HEAD from the GET handlers, with the same headers and no body).
 */
export function registerLiveRoutes (app: FastifyInstance, ctx: HttpContext): void {
  const params = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    params: { type: 'object', properties: { id: { type: 'string', pattern: NAME }, rendition: { type: 'string', pattern: NAME }, ...extra } }
  })
  const retentionSec = ctx.config.dvrRetentionSeconds

  // Every response under /live, errors included, carries CORS, so a player on another origin can read it.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.url.startsWith('/live/')) cors(reply)
    done()
  })

  app.options('/live/*', async (_req, reply) => { void cors(reply).code(204) })

  app.get<{ Params: { id: string } }>('/live/:id/index.m3u8', { schema: params() }, async (req, reply) => {
    const edge = edgeOf(ctx)
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
    const edge = edgeOf(ctx)
    // Blocking playlist reload (LL-HLS): _HLS_msn holds the answer until that segment is listed.
    const directives = parseDeliveryDirectives(req.query)
    const blocking = directives.msn !== undefined
    const gone = new AbortController()
    const onClose = (): void => { gone.abort() }
    if (blocking) reply.raw.once('close', onClose)
    try {
      const view = await edge.mediaPlaylist(req.params.id, req.params.rendition, { ...directives, signal: gone.signal, client: req.ip })
      edge.recordRequest('playlist', 200)
      // A blocking reload's answer is for this request only (the spec's advice: no-cache); others, half a segment.
      void reply.type(CONTENT_TYPES.m3u8).header('cache-control', blocking ? 'no-cache' : playlistCacheControl({ ended: view.ended, targetDurationSec: view.targetDurationSec, retentionSec }))
      return view.body
    } catch (err) {
      edge.recordRequest('playlist', httpStatusOf(err, 404))
      // Not ready in time, or too many parked: the player retries in a second.
      if (err instanceof BlockingReloadUnavailableError) {
        void reply.code(httpStatusOf(err)).header('cache-control', 'no-cache').header('retry-after', '1')
        return { error: err.message }
      }
      throw err
    } finally {
      reply.raw.off('close', onClose)
    }
  })

  registerCmafRoutes(app, ctx)

  app.get<{ Params: { id: string, rendition: string, seg: string } }>('/live/:id/:rendition/:seg', { schema: params({ seg: { type: 'string', pattern: SEGMENT_FILE } }) }, async (req, reply) => {
    // fMP4: <seq>.m4s and init-<hash>.mp4 (cmaf-routes.ts)
    if (!req.params.seg.endsWith('.ts')) return await serveCmafFile(req, reply, ctx)
    const edge = edgeOf(ctx)
    if (edge.isCmaf(req.params.id)) throw new HttpError(404, 'this stream is fMP4 (CMAF): its segments are <seq>.m4s')
    const { id, rendition, seg } = req.params
    return await replySegment(req, reply, edge, 'segment', CONTENT_TYPES.ts, async () => await edge.segment(id, rendition, Number.parseInt(seg, 10)))
  })
}
