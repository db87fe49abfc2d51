import { ID_PATTERN } from '@diststream/protocol'
import { CONTENT_TYPES, playlistCacheControl, segmentResponse } from '@diststream/edge'
import { HttpError } from './server.js'
import type { DistNode } from '../node.js'
import type { Edge, ServedSegment } from '@diststream/edge'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** Segment file names under /live/:id/:rendition/: MPEG-TS `<seq>.ts`, fMP4 `<seq>.m4s` and `init-<8 hex>.mp4`. */
export const SEGMENT_FILE = '^([0-9]{1,12}\\.(ts|m4s)|init-[0-9a-f]{8}\\.mp4)$'

function edgeOf (node: DistNode): Edge {
  if (node.edge == null) throw new HttpError(404, 'this node has no edge role')
  return node.edge
}

const header = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v.join(', ') : v

/**
 * CMAF out: `GET /live/:id/manifest.mpd` (the live DASH manifest), and the
 * fMP4 files the HLS v7 playlists and the manifest point at, with the same
 * CDN semantics as MPEG-TS segments (immutable, strong ETag, 304, Range/206,
 * CORS and HEAD from live-routes.ts's hooks).
 */
export function registerCmafRoutes (app: FastifyInstance, node: DistNode): void {
  const retentionSec = node.config.dvrRetentionSeconds
  app.get<{ Params: { id: string } }>('/live/:id/manifest.mpd', { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN.source } } } } }, async (req, reply) => {
    const edge = edgeOf(node)
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
export async function serveCmafFile (req: FastifyRequest<{ Params: { id: string, rendition: string, seg: string } }>, reply: FastifyReply, node: DistNode): Promise<Buffer | string> {
  const edge = edgeOf(node)
  const { id, rendition, seg } = req.params
  const type = seg.endsWith('.m4s') ? 'segment' : 'init'
  let served: ServedSegment
  try {
    served = type === 'segment'
      ? await edge.mediaSegment(id, rendition, Number.parseInt(seg, 10))
      : await edge.initSegment(id, rendition, seg)
  } catch (err: any) {
    edge.recordRequest(type, err?.statusCode ?? 404)
    throw err
  }
  const res = segmentResponse(served.entry, type === 'segment' ? CONTENT_TYPES.m4s : CONTENT_TYPES.mp4, {
    ifNoneMatch: header(req.headers['if-none-match']),
    range: header(req.headers.range),
    ifRange: header(req.headers['if-range'])
  })
  edge.recordRequest(type, res.status, req.method === 'HEAD' ? 0 : res.body?.byteLength ?? 0)
  void reply.code(res.status).headers(res.headers)
  return res.body ?? ''
}
