import { ID_PATTERN } from '@diststream/protocol'
import { CONTENT_TYPES, playlistCacheControl } from '@diststream/edge'
import { edgeOf } from './role-guards.js'
import { replySegment } from './segment-reply.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** Segment file names under /live/:id/:rendition/: MPEG-TS `<seq>.ts`, fMP4 `<seq>.m4s` and `init-<8 hex>.mp4`. */
export const SEGMENT_FILE = '^([0-9]{1,12}\\.(ts|m4s)|init-[0-9a-f]{8}\\.mp4)$'

/**
 * CMAF out: `GET /live/:id/manifest.mpd` (the live DASH manifest), and the
 * fMP4 files the HLS v7 playlists and the manifest point at, with the same
 * CDN semantics as MPEG-TS segments (immutable, strong ETag, 304, Range/206,
 * CORS and HEAD from live-routes.ts's hooks).
 */
export function registerCmafRoutes (app: FastifyInstance, ctx: HttpContext): void {
  const retentionSec = ctx.config.dvrRetentionSeconds
  app.get<{ Params: { id: string } }>('/live/:id/manifest.mpd', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN.source } } } } }, async (req, reply) => {
    const edge = edgeOf(ctx)
    try {
      const view = await edge.dashManifest(req.params.id)
      edge.recordRequest('manifest', 200)
      void reply.type(CONTENT_TYPES.mpd).header('cache-control', playlistCacheControl({ ended: view.ended, targetDurationSec: view.targetDurationSec, retentionSec }))
      return view.body
    } catch (err) {
      edge.recordRequest('manifest', 404)
      throw err
    }
  })
}

/** Serves `<seq>.m4s` or `init-<hash>.mp4` (the segment route of live-routes.ts hands these over). */
export async function serveCmafFile (req: FastifyRequest<{ Params: { id: string, rendition: string, seg: string } }>, reply: FastifyReply, ctx: HttpContext): Promise<Buffer | string> {
  const edge = edgeOf(ctx)
  const { id, rendition, seg } = req.params
  return seg.endsWith('.m4s')
    ? await replySegment(req, reply, edge, 'segment', CONTENT_TYPES.m4s, async () => await edge.mediaSegment(id, rendition, Number.parseInt(seg, 10)))
    : await replySegment(req, reply, edge, 'init', CONTENT_TYPES.mp4, async () => await edge.initSegment(id, rendition, seg))
}
