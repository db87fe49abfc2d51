import { MAX_PLAYBACK_TOKEN_TTL_SECONDS, PLAYBACK_VIEWER_PATTERN, signPlaybackToken } from '@diststream/protocol'
import { HttpError } from './errors.js'
import { PLAYBACK_TOKEN_PARAM } from './private-playback.js'
import { ingestOf } from './role-guards.js'
import { withAuth } from './session-auth.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance } from 'fastify'

/** A playback token's lifetime when the request names none: an hour, a viewing session. */
export const DEFAULT_PLAYBACK_TOKEN_TTL_SECONDS = 3600

/**
 * `POST /api/streams/:id/tokens` (the API token, or the session of the broadcaster who owns the stream):
 * a playback token for one of this ingest's private streams, signed with the
 * node's libp2p key (PROTOCOL.md §11), valid at every edge until `expiresAt`.
 */
export function registerTokenRoutes (app: FastifyInstance, ctx: HttpContext): void {
  app.post<{ Params: { id: string }, Body: { ttl_seconds?: number, viewer?: string } | undefined }>('/api/streams/:id/tokens', {
    config: withAuth('apiTokenOrOwner'),
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9]{1,64}$' } } },
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {
          ttl_seconds: { type: 'integer', minimum: 1, maximum: MAX_PLAYBACK_TOKEN_TTL_SECONDS },
          viewer: { type: 'string', pattern: PLAYBACK_VIEWER_PATTERN.source }
        }
      }
    }
  }, async (req, reply) => {
    const s = await ingestOf(ctx).getStream(req.params.id)
    if (s == null) throw new HttpError(404, `no stream ${req.params.id}`)
    if (s.private !== true) throw new HttpError(409, `stream ${s.id} is public: it plays without a token`)
    if (ctx.signPlayback == null) throw new HttpError(404, 'this node cannot sign playback tokens')
    const iat = Math.floor(Date.now() / 1000)
    const exp = iat + (req.body?.ttl_seconds ?? DEFAULT_PLAYBACK_TOKEN_TTL_SECONDS)
    const viewer = req.body?.viewer
    const token = await signPlaybackToken({ streamId: s.id, iat, exp, ...(viewer != null ? { viewer } : {}) }, ctx.signPlayback)
    void reply.code(201)
    const base = ctx.httpUrl() !== '' ? ctx.httpUrl() : `http://127.0.0.1:${ctx.httpPort()}`
    return { token, expiresAt: new Date(exp * 1000).toISOString(), playbackUrl: `${base}/live/${s.id}/index.m3u8?${PLAYBACK_TOKEN_PARAM}=${token}` }
  })
}
