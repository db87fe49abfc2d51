/**
 * Streams created in a broadcaster's channel (issue 17): `POST /api/streams`
 * with `"channel": name`. With the API token, any existing channel (the
 * stream is its owner's); with a session, only the user's own channel, and
 * only an RTMP stream (pulled sources and VODs make the node fetch URLs: the
 * operator's token only).
 */
import { HttpError } from './errors.js'
import { isApiTokenRequest, sessionUser } from './session-auth.js'
import type { StreamOwnerRecord } from '../accounts/account-store.js'
import type { HttpContext } from './context.js'
import type { FastifyRequest } from 'fastify'

export type StreamClaim = Omit<StreamOwnerRecord, 'streamId'>

/** Who will own the stream about to be created, or undefined (a token request without a channel); throws the refusal. */
export async function claimChannel (ctx: Pick<HttpContext, 'accounts' | 'apiToken' | 'ingest'>, req: FastifyRequest, channel: string | undefined, pulled: boolean): Promise<StreamClaim | undefined> {
  const token = isApiTokenRequest(req, ctx)
  if (channel == null) {
    if (token) return undefined
    throw new HttpError(400, 'body/channel is required when logged in: the stream belongs to one of your channels')
  }
  if (ctx.accounts == null) throw new HttpError(404, 'this node has no accounts')
  const c = await ctx.accounts.getChannel(channel)
  if (c == null) throw new HttpError(404, `no channel ${channel}`)
  if (!token) {
    if (c.owner !== sessionUser(req)) throw new HttpError(403, `channel ${channel} is not yours`)
    if (pulled) throw new HttpError(403, 'source_url and vod need the API token')
  }
  const ingest = ctx.ingest
  if (!await ctx.accounts.channelHasRoom(channel, async (id) => await ingest?.getStream(id) != null)) throw new HttpError(409, `channel ${channel} has its limit of streams; delete one first`)
  return { owner: c.owner, channel }
}

/** Records the new stream's owner (after the ingest created it). */
export async function recordStreamOwner (ctx: Pick<HttpContext, 'accounts'>, streamId: string, claim: StreamClaim | undefined): Promise<void> {
  if (claim != null) await ctx.accounts?.setStreamOwner({ streamId, ...claim })
}
