/**
 * Private streams at the edge (issue 16): every request under
 * `/live/:id/` for a stream its owner announced as private needs
 * `?token=<playback token>` (checked offline by the edge: 401 without, 403
 * for a bad one), and every playlist or manifest answered to it lists URIs
 * that carry the same token, so a player given one URL plays on. Its
 * answers are `Cache-Control: private`: no shared cache or CDN keeps them.
 */
import { dashWithQuery, hlsWithQuery } from '@diststream/hls'
import { CONTENT_TYPES } from '@diststream/edge'
import { header } from './role-guards.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/** The query parameter a player presents the token in. */
export const PLAYBACK_TOKEN_PARAM = 'token'

/** Requests for a private stream that passed, with their token (for the playlists' URIs). */
const granted = new WeakMap<FastifyRequest, string>()

function tokenOf (req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, unknown> | undefined
  const t = q?.[PLAYBACK_TOKEN_PARAM]
  // A repeated parameter is an array: not a token.
  return typeof t === 'string' ? t : (t == null ? undefined : '\u0000')
}

/** Registers the check (preHandler) and the rewriting of answers (onSend) for every /live/:id/… route. */
export function registerPrivatePlayback (app: FastifyInstance, ctx: HttpContext): void {
  app.addHook('preHandler', async (req) => {
    const route = req.routeOptions.url
    if (ctx.edge == null || route == null || !route.startsWith('/live/:id/')) return
    const id = (req.params as { id?: unknown }).id
    if (typeof id !== 'string') return
    const token = tokenOf(req)
    try {
      if ((await ctx.edge.authorizePlayback(id, token)).private) granted.set(req, token ?? '')
    } catch (err) {
      ctx.edge.recordRequest(route.endsWith('.m3u8') || route.endsWith('.mpd') ? 'playlist' : 'segment', (err as { statusCode?: number }).statusCode ?? 500)
      throw err
    }
  })

  app.addHook('onSend', async (req, reply, payload) => {
    const token = granted.get(req)
    if (token == null) return payload
    const cc = reply.getHeader('cache-control')
    if (typeof cc === 'string') reply.header('cache-control', cc.replace(/\bpublic\b/, 'private'))
    else reply.header('cache-control', 'private, no-cache')
    if (typeof payload !== 'string' || reply.statusCode !== 200) return payload
    const type = header(reply.getHeader('content-type') as string | string[] | undefined) ?? ''
    if (type.startsWith(CONTENT_TYPES.m3u8.split(';')[0] ?? '-')) return hlsWithQuery(payload, PLAYBACK_TOKEN_PARAM, token)
    if (type.startsWith(CONTENT_TYPES.mpd.split(';')[0] ?? '-')) return dashWithQuery(payload, PLAYBACK_TOKEN_PARAM, token)
    return payload
  })
}
