// Light subpaths: the ingest package itself (werift, node-media-server) loads only on ingest nodes.
import { MAX_WHIP_SDP_BYTES } from '@diststream/ingest/whip-limits'
import { SDP_CONTENT_TYPE, isSdpContentType } from '@diststream/ingest/whip-sdp'
import { HttpError } from './errors.js'
import { header, ingestOf } from './role-guards.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Stream keys as RTMP accepts them (`/live/<key>`). */
const KEY = '^[A-Za-z0-9_-]{1,128}$'
/** Resource ids: base64url of 16 random bytes. */
const RESOURCE = '^[A-Za-z0-9_-]{22}$'

/** What browser WHIP clients on another origin need to POST an offer, read the Location and DELETE it. */
const WHIP_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, if-match',
  'access-control-expose-headers': 'location, etag, link, accept-post',
  'access-control-max-age': '600'
}

const cors = (reply: FastifyReply): FastifyReply => reply.headers(WHIP_CORS)

/**
 * WHIP ingest (RFC 9725), on an ingest node: `POST /whip/<key>` with an SDP
 * offer → 201, the answer, and a `Location` to DELETE. No trickle ICE and no
 * ICE restart (PATCH is 405): the offer carries the client's candidates and
 * the answer the ingest's.
 */
export function registerWhipRoutes (app: FastifyInstance, ctx: HttpContext): void {
  void app.register(async (scope) => {
    // Any body here is read as text, at most MAX_WHIP_SDP_BYTES (past it fastify answers 413 without reading on); the handler checks the type.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_WHIP_SDP_BYTES }, (_req, body, done) => { done(null, body) })
    scope.addHook('onRequest', (_req, reply, done) => { cors(reply); done() })
    scope.addHook('onError', (_req, _reply, err, done) => {
      if ((err as { statusCode?: number }).statusCode === 413) ctx.ingest?.whip.refused('sdp_too_large')
      done()
    })
    const keyParams = { params: { type: 'object', properties: { key: { type: 'string', pattern: KEY } } } }
    const resourceParams = { params: { type: 'object', properties: { key: { type: 'string', pattern: KEY }, resource: { type: 'string', pattern: RESOURCE } } } }

    scope.options('/whip/:key', async (_req, reply) => { void reply.code(204).header('accept-post', SDP_CONTENT_TYPE) })
    scope.options('/whip/:key/:resource', async (_req, reply) => { void reply.code(204) })

    scope.post<{ Params: { key: string } }>('/whip/:key', { schema: keyParams }, async (req, reply) => {
      const ingest = ingestOf(ctx)
      if (!isSdpContentType(header(req.headers['content-type']))) {
        ingest.whip.refused('content_type')
        throw new HttpError(415, `a WHIP offer must be sent as ${SDP_CONTENT_TYPE}`)
      }
      const body = typeof req.body === 'string' ? req.body : ''
      const { resource, answer } = await ingest.whip.offer(req.params.key, body)
      void reply.code(201)
        .header('content-type', SDP_CONTENT_TYPE)
        .header('location', `/whip/${req.params.key}/${resource}`)
        .send(answer)
    })

    scope.delete<{ Params: { key: string, resource: string } }>('/whip/:key/:resource', { schema: resourceParams }, async (req, reply) => {
      if (!await ingestOf(ctx).whip.delete(req.params.key, req.params.resource)) throw new HttpError(404, 'no such WHIP session')
      void reply.code(200).send()
    })

    // Trickle ICE and ICE restarts are not supported (RFC 9725 §4.3: 405).
    scope.patch('/whip/:key/:resource', async (_req, reply) => { void reply.code(405).header('allow', 'DELETE, OPTIONS').send({ error: 'trickle ICE and ICE restarts are not supported' }) })
  })
}
