import { ID_PATTERN } from '@diststream/protocol'
import { HttpError } from './server.js'
import type { DistNode } from '../node.js'
import type { Edge } from '@diststream/edge'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Stream ids and rendition names, as the wire protocol allows them. */
const NAME = ID_PATTERN.source
const PLAYLIST = 'application/vnd.apple.mpegurl'

function edgeOf (node: DistNode): Edge {
  if (node.edge == null) throw new HttpError(404, 'this node has no edge role')
  return node.edge
}

function cors (reply: FastifyReply): void {
  void reply.header('access-control-allow-origin', '*')
}

/** HLS out: master and media playlists, and segments, under /live/:streamId/. */
export function registerLiveRoutes (app: FastifyInstance, node: DistNode): void {
  const params = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    params: { type: 'object', properties: { id: { type: 'string', pattern: NAME }, rendition: { type: 'string', pattern: NAME }, ...extra } }
  })

  app.get<{ Params: { id: string } }>('/live/:id/index.m3u8', { schema: params() }, async (req, reply) => {
    const edge = edgeOf(node)
    try {
      const body = await edge.masterPlaylist(req.params.id)
      edge.recordRequest('master', 200)
      cors(reply)
      void reply.type(PLAYLIST).header('cache-control', 'max-age=1')
      return body
    } catch (err) {
      edge.recordRequest('master', 404)
      throw err
    }
  })

  app.get<{ Params: { id: string, rendition: string } }>('/live/:id/:rendition/index.m3u8', { schema: params() }, async (req, reply) => {
    const edge = edgeOf(node)
    try {
      const body = await edge.mediaPlaylist(req.params.id, req.params.rendition)
      edge.recordRequest('playlist', 200)
      cors(reply)
      void reply.type(PLAYLIST).header('cache-control', `max-age=${Math.max(1, Math.floor(node.config.segmentSeconds / 2))}`)
      return body
    } catch (err) {
      edge.recordRequest('playlist', 404)
      throw err
    }
  })

  app.get<{ Params: { id: string, rendition: string, seg: string } }>('/live/:id/:rendition/:seg', { schema: params({ seg: { type: 'string', pattern: '^[0-9]{1,12}\\.ts$' } }) }, async (req, reply) => {
    const edge = edgeOf(node)
    const seq = Number.parseInt(req.params.seg, 10)
    try {
      const { data } = await edge.segment(req.params.id, req.params.rendition, seq)
      edge.recordRequest('segment', 200, data.byteLength)
      cors(reply)
      void reply.type('video/mp2t').header('cache-control', 'public, max-age=31536000, immutable')
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    } catch (err) {
      edge.recordRequest('segment', 404)
      throw err
    }
  })
}
