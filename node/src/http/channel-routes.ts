/**
 * Channels (issue 17): a name, a title, an avatar URL, owned by a user, with
 * the streams created in it. Creating one needs a session (the owner); the
 * list and a channel are public, its streams listed only once announced
 * (as `GET /api/streams`), except to the owner and the API token.
 */
import { MAX_AVATAR_URL_LENGTH, MAX_CHANNEL_TITLE_LENGTH, MAX_CHANNELS_LISTED } from '../accounts/constants.js'
import { channelProblem } from '../accounts/validate.js'
import { HttpError } from './errors.js'
import { isApiTokenRequest, sessionUser, withAuth } from './session-auth.js'
import { isAnnounced } from './stream-routes.js'
import type { AccountStore, ChannelRecord } from '../accounts/account-store.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'

const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const

export interface ChannelView { name: string, title: string, avatarUrl: string | null, owner: string, createdAt: string }

export const channelView = (c: ChannelRecord): ChannelView =>
  ({ name: c.name, title: c.title, avatarUrl: c.avatarUrl ?? null, owner: c.owner, createdAt: new Date(c.createdAt).toISOString() })

export function registerChannelRoutes (app: FastifyInstance, ctx: HttpContext, accounts: AccountStore): void {
  app.post<{ Body: { name: string, title: string, avatarUrl?: string } }>('/api/channels', {
    config: withAuth('session'),
    schema: {
      body: {
        type: 'object',
        required: ['name', 'title'],
        additionalProperties: false,
        properties: {
          name: NAME,
          title: { type: 'string', maxLength: MAX_CHANNEL_TITLE_LENGTH * 2 },
          avatarUrl: { type: 'string', maxLength: MAX_AVATAR_URL_LENGTH }
        }
      }
    }
  }, async (req, reply) => {
    const owner = sessionUser(req)
    if (owner == null) throw new HttpError(403, 'a channel is created by its owner: log in (the API token owns no channel)')
    const problem = channelProblem(req.body)
    if (problem != null) throw new HttpError(400, problem)
    const c = await accounts.createChannel(owner, req.body)
    void reply.code(201)
    return channelView(c)
  })

  app.get('/api/channels', async () => (await accounts.listChannels(MAX_CHANNELS_LISTED)).map(channelView))

  app.get<{ Params: { name: string } }>('/api/channels/:name', { schema: { params: { type: 'object', properties: { name: NAME } } } }, async (req) => {
    const c = await accounts.getChannel(req.params.name)
    if (c == null) throw new HttpError(404, `no channel ${req.params.name}`)
    return { ...channelView(c), streams: await streamsOf(ctx, req, c) }
  })
}

/** The channel's streams this requester may see: all for the owner and the token, else the announced ones. */
async function streamsOf (ctx: HttpContext, req: FastifyRequest, c: ChannelRecord): Promise<Array<{ id: string, name: string, state: string }>> {
  const all = sessionUser(req) === c.owner || isApiTokenRequest(req, ctx)
  const out: Array<{ id: string, name: string, state: string }> = []
  for (const id of c.streams ?? []) {
    const s = await ctx.ingest?.getStream(id)
    if (s != null && (all || isAnnounced(s))) out.push({ id: s.id, name: s.name, state: s.state })
  }
  return out
}
