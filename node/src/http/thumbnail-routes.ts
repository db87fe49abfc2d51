/**
 * `GET /live/:id/thumbnail.jpg` (edge role): a small JPEG of the stream's
 * latest keyframe, or a VOD's poster (thumbnails.ts). 404 for a stream the
 * network does not know, 503 + Retry-After while it has no picture yet or
 * too many thumbnails are being made; ETag and 304; CDN caching for a few
 * seconds. HEAD is answered from the GET handler (fastify).
 */
import { ID_PATTERN } from '@diststream/protocol'
import { makeThumbnail, resolveFfmpeg } from '@diststream/media'
import { Counter } from 'prom-client'
import { HttpError } from './errors.js'
import { edgeOf, header } from './role-guards.js'
import { Thumbnails } from './thumbnails.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance } from 'fastify'

/** Whether an If-None-Match header matches `etag` (weak comparison, as RFC 9110 says for If-None-Match). */
export function etagMatches (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch == null) return false
  const bare = (t: string): string => t.trim().replace(/^W\//, '')
  return ifNoneMatch.split(',').some(t => t.trim() === '*' || bare(t) === bare(etag))
}

export function registerThumbnailRoutes (app: FastifyInstance, ctx: HttpContext): void {
  if (ctx.edge == null) return // no /live on a node without the edge role (the catch-all 404 answers)
  const edge = edgeOf(ctx)
  let ffmpeg: string | undefined = ctx.ffmpeg?.ffmpeg
  const name = 'diststream_thumbnails_total'
  const outcomes = (ctx.registry.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
    new Counter({ name, help: 'Thumbnail requests by outcome: cached, made (one ffmpeg run), unchanged (same segment as before), busy (refused: MAX_THUMBNAIL_RUNS), failed', labelNames: ['outcome'], registers: [ctx.registry] })
  const thumbnails = new Thumbnails({
    source: async (id) => await edge.thumbnailSource(id),
    make: async (src) => {
      // An edge-only node has not looked for ffmpeg at start: once, at the first thumbnail.
      ffmpeg ??= (() => {
        try { return resolveFfmpeg().ffmpeg } catch (err: any) { throw new HttpError(503, `no ffmpeg on this edge for thumbnails: ${String(err?.message)}`) }
      })()
      return await makeThumbnail(ffmpeg, src.data, { width: src.width, height: src.height })
    },
    onOutcome: (o) => { outcomes.inc({ outcome: o }) }
  })

  app.get<{ Params: { id: string } }>('/live/:id/thumbnail.jpg', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN.source } } } } }, async (req, reply) => {
    const t = await thumbnails.get(req.params.id)
    void reply.header('etag', t.etag).header('cache-control', `public, max-age=${t.maxAgeS}`)
    if (etagMatches(header(req.headers['if-none-match']), t.etag)) {
      void reply.code(304)
      return ''
    }
    void reply.type('image/jpeg').header('content-length', t.jpeg.byteLength)
    return t.jpeg
  })
}
