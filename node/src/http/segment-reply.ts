/**
 * The one segment handler behind `/live/:id/:rendition/<seq>.ts`, `<seq>.m4s`
 * and `init-<hash>.mp4`: load through the edge, answer with CDN semantics
 * (strong ETag, 304, Range/206, HEAD without a body) and count the request.
 */
import { segmentResponse } from '@diststream/edge'
import { httpStatusOf } from './errors.js'
import { header } from './role-guards.js'
import type { Edge, ServedSegment } from '@diststream/edge'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The request kinds the edge counts (`diststream_edge_requests_total`'s label). */
export type SegmentKind = 'segment' | 'init'

export async function replySegment (req: FastifyRequest, reply: FastifyReply, edge: Edge, kind: SegmentKind, contentType: string, load: () => Promise<ServedSegment>): Promise<Buffer | string> {
  let served: ServedSegment
  try {
    served = await load()
  } catch (err) {
    // An error without a status is counted as a miss, as the edge answers unknown segments.
    edge.recordRequest(kind, httpStatusOf(err, 404))
    throw err
  }
  const res = segmentResponse(served.entry, contentType, {
    ifNoneMatch: header(req.headers['if-none-match']),
    range: header(req.headers.range),
    ifRange: header(req.headers['if-range'])
  })
  edge.recordRequest(kind, res.status, req.method === 'HEAD' ? 0 : res.body?.byteLength ?? 0)
  void reply.code(res.status).headers(res.headers)
  return res.body ?? ''
}
