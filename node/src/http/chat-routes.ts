/**
 * Live chat over HTTP (docs/http-api.md "Chat"; PROTOCOL.md §10):
 *
 * - `GET /chat/:id/events` (edge): server-sent events: `hello` (the last
 *   messages and the moderation state), then `msg`, `removed`, `moderation`;
 * - `POST /chat/:id` (edge): a viewer's signed message; no API token (the
 *   signature is the viewer's identity), outside /api for that reason;
 * - `POST /api/streams/:id/chat/moderation` (ingest, API token): the owner's
 *   delete, ban and slow mode.
 */
import { ID_PATTERN, MAX_CHAT_POST_BYTES } from '@diststream/protocol'
import { CHAT_KEEPALIVE_MS, MAX_CHAT_CLIENT_QUEUE_BYTES, MAX_CHAT_CLIENTS, MAX_CHAT_CLIENTS_PER_IP } from '@diststream/chat'
import { HttpError } from './errors.js'
import { withAuth } from './session-auth.js'
import { SseClients } from './sse-clients.js'
import type { HttpContext } from './context.js'
import type { SseClient } from './sse-clients.js'
import type { ChatJoin, ChatModerator, ChatRelay, ModerationAction } from '@diststream/chat'
import type { ChatRefusalReason } from '@diststream/protocol'
import type { FastifyInstance } from 'fastify'

/** The HTTP status of each chat refusal. */
const STATUS: Record<ChatRefusalReason, number> = {
  too_large: 413,
  malformed: 400,
  bad_signature: 400,
  wrong_stream: 400,
  stale: 400,
  future: 400,
  duplicate: 409,
  banned: 403,
  slow_mode: 429,
  rate_key: 429,
  rate_edge: 429,
  rate_peer: 429,
  unknown_stream: 404,
  not_owner: 403,
  no_room: 503,
  old_moderation: 409
}

function chatError (err: unknown): unknown {
  const reason = (err as { chatReason?: ChatRefusalReason }).chatReason
  if (reason == null) return err
  const e = new HttpError(STATUS[reason], (err as Error).message)
  Object.assign(e, { reason })
  return e
}

const idParams = { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN.source } }, required: ['id'] }

const moderationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string', enum: ['delete', 'ban', 'slow'] },
    id: { type: 'string', maxLength: 64 },
    key: { type: 'string', maxLength: 64 },
    unban: { type: 'boolean' },
    seconds: { type: 'integer' }
  }
}

export function registerChatRoutes (app: FastifyInstance, ctx: HttpContext): void {
  const clients = new SseClients(
    { max: MAX_CHAT_CLIENTS, maxPerIp: MAX_CHAT_CLIENTS_PER_IP, maxQueueBytes: MAX_CHAT_CLIENT_QUEUE_BYTES, keepAliveMs: CHAT_KEEPALIVE_MS },
    (why) => { relayOf(ctx).metrics.refused.inc({ reason: why }) }
  )

  app.get<{ Params: { id: string } }>('/chat/:id/events', { schema: { params: idParams } }, async (req, reply) => {
    const relay = relayOf(ctx)
    const refused = clients.refuse(req.ip)
    if (refused != null) {
      relay.metrics.refused.inc({ reason: `clients_${refused}` })
      throw new HttpError(refused === 'full' ? 503 : 429, refused === 'full' ? `too many chat clients (${MAX_CHAT_CLIENTS})` : `too many chat clients from your address (${MAX_CHAT_CLIENTS_PER_IP})`)
    }
    // join and attach run in one turn (no await between), so no event can come before the client exists.
    const to: { client?: SseClient } = {}
    let joined: ChatJoin
    try {
      joined = relay.join(req.params.id, (e) => { to.client?.send(e.type, e) })
    } catch (err) {
      throw chatError(err)
    }
    reply.hijack()
    to.client = clients.attach(reply, req.ip, joined.leave)
    to.client.send('hello', { recent: joined.recent, moderation: joined.moderation })
  })

  app.post<{ Params: { id: string } }>('/chat/:id', { schema: { params: idParams }, bodyLimit: MAX_CHAT_POST_BYTES }, async (req, reply) => {
    try {
      const m = await relayOf(ctx).post(req.params.id, req.body)
      void reply.code(201)
      return { id: m.id }
    } catch (err) {
      throw chatError(err)
    }
  })

  // The owner's moderation: the node's API token or the session of the user who owns the stream.
  app.post<{ Params: { id: string }, Body: ModerationAction }>('/api/streams/:id/chat/moderation', { config: withAuth('apiTokenOrOwner'), schema: { params: idParams, body: moderationBody } }, async (req) => {
    return await moderatorOf(ctx).moderate(req.params.id, req.body)
  })

  app.addHook('preClose', async () => { clients.close() })
}

function relayOf (ctx: HttpContext): ChatRelay {
  if (ctx.chat == null) throw new HttpError(404, 'this node has no edge role')
  return ctx.chat
}

function moderatorOf (ctx: HttpContext): ChatModerator {
  if (ctx.moderator == null) throw new HttpError(404, 'this node has no ingest role')
  return ctx.moderator
}
