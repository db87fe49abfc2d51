import { bearerMatches } from './auth.js'
import { HttpError, httpStatusOf } from './errors.js'
import { edgeStreamView, streamView } from './render-views.js'
import { ingestOf } from './role-guards.js'
import { withAuth } from './session-auth.js'
import { claimChannel, recordStreamOwner } from './stream-ownership.js'
import type { HttpContext } from './context.js'
import type { StreamRecord } from '@diststream/store'
import type { FastifyInstance } from 'fastify'

/** As MAX_SOURCE_URL_LENGTH in @diststream/ingest (not imported: only ingest nodes load that package). */
const MAX_SOURCE_URL_LENGTH = 2048

const ID = { type: 'string', pattern: '^[a-z0-9]{1,64}$' } as const

/**
 * Whether a stream has been announced to the network (so its id is public
 * anyway): it has a salt (records from before self-certifying ids are never
 * announced) and it was published, pulled or made a VOD. A stream created
 * and not yet published is `idle` with no `startedAt`: listing it would let
 * anyone learn its id before its broadcaster starts.
 */
export function isAnnounced (s: StreamRecord): boolean {
  return s.salt != null && (s.startedAt != null || s.vod === true)
}

export function registerStreamRoutes (app: FastifyInstance, ctx: HttpContext): void {
  // The API token, or a logged-in broadcaster creating a stream in their channel (stream-ownership.ts).
  app.post<{ Body: { name: string, source_url?: string, vod?: boolean, channel?: string, private?: boolean } }>('/api/streams', {
    config: withAuth('session'),
    schema: {
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        // No control characters; lone surrogates are refused in the handler.
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' },
          // A source the ingest pulls (rtmp, rtmps, rtsp, http, https, file URL or absolute path); checked in sources.ts.
          source_url: { type: 'string', minLength: 1, maxLength: MAX_SOURCE_URL_LENGTH },
          // With source_url: cut and transcode it at once as a VOD instead of pulling it live.
          vod: { type: 'boolean' },
          // The channel the stream belongs to (required with a session; its owner owns the stream).
          channel: { type: 'string', minLength: 1, maxLength: 64 },
          // Playback needs a token (POST /api/streams/:id/tokens) at every edge; not listed to anonymous callers.
          private: { type: 'boolean' }
        }
      }
    }
  }, async (req, reply) => {
    if (!req.body.name.isWellFormed()) throw new HttpError(400, 'body/name must be well-formed Unicode')
    const name = req.body.name.trim() === '' ? 'untitled' : req.body.name.trim()
    const { source_url: sourceUrl, vod } = req.body
    const privacy = { private: req.body.private === true }
    if (vod === true && sourceUrl == null) throw new HttpError(400, 'body/vod needs body/source_url (or use POST /api/uploads)')
    const claim = await claimChannel(ctx, req, req.body.channel, sourceUrl != null)
    if (sourceUrl != null) {
      const ingest = ingestOf(ctx)
      let s: StreamRecord
      try {
        s = vod === true ? await ingest.createVod(name, sourceUrl, privacy) : await ingest.createPullStream(name, sourceUrl, privacy)
      } catch (err) {
        // The ingest refused the URL itself (SourceUrlError, 400): say which field.
        if (httpStatusOf(err) === 400) throw new HttpError(400, `body/source_url: ${(err as Error).message}`)
        throw err
      }
      await recordStreamOwner(ctx, s.id, claim)
      void reply.code(201)
      return streamView(ctx, req, s)
    }
    const s = await ingestOf(ctx).createStream(name, privacy)
    await recordStreamOwner(ctx, s.id, claim)
    void reply.code(201)
    return streamView(ctx, req, s, true)
  })

  // Without the API token, only streams the network already knows of: a stream id is public once announced, never before.
  app.get('/api/streams', async (req) => {
    const all = await ingestOf(ctx).listStreams()
    const visible = bearerMatches(req.headers.authorization, ctx.apiToken) ? all : all.filter(s => isAnnounced(s) && s.private !== true)
    return visible.map(s => streamView(ctx, req, s))
  })

  app.get<{ Params: { id: string } }>('/api/streams/:id', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    // An edge without the ingest role: what it knows of a stream it serves (viewers over the network, URLs).
    if (ctx.ingest == null && ctx.edge != null) {
      // A private stream is as unknown as a missing one to anonymous callers, here too.
      if (ctx.edge.isPrivate(req.params.id) && !bearerMatches(req.headers.authorization, ctx.apiToken)) throw new HttpError(404, `no stream ${req.params.id}`)
      return edgeStreamView(ctx, req, req.params.id)
    }
    const s = await ingestOf(ctx).getStream(req.params.id)
    // A private stream is as unknown as a missing one to anonymous callers.
    if (s == null || (s.private === true && !bearerMatches(req.headers.authorization, ctx.apiToken))) throw new HttpError(404, `no stream ${req.params.id}`)
    return streamView(ctx, req, s)
  })

  // These three: the API token or the stream owner's session.
  app.delete<{ Params: { id: string } }>('/api/streams/:id', { config: withAuth('apiTokenOrOwner'), schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    const ingest = ingestOf(ctx)
    if (await ingest.getStream(req.params.id) == null) throw new HttpError(404, `no stream ${req.params.id}`)
    return streamView(ctx, req, await ingest.deleteStream(req.params.id))
  })

  // A new publish key for the stream, shown in this answer only; the old key is refused from now on (a publish under way goes on).
  app.post<{ Params: { id: string } }>('/api/streams/:id/key', { config: withAuth('apiTokenOrOwner'), schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    return streamView(ctx, req, await ingestOf(ctx).rotateKey(req.params.id), true)
  })

  // Keeps a stream from being ended as stale (no segment for --stale-stream-seconds); 409 once it has ended.
  app.post<{ Params: { id: string } }>('/api/streams/:id/heartbeat', { config: withAuth('apiTokenOrOwner'), schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    const s = await ingestOf(ctx).heartbeat(req.params.id)
    return { ...streamView(ctx, req, s), heartbeatAt: new Date(s.heartbeatAt ?? Date.now()).toISOString() }
  })

  app.get<{ Querystring: { limit?: string } }>('/api/jobs', {
    schema: { querystring: { type: 'object', properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } } } }
  }, async (req) => {
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 100)))
    return ingestOf(ctx).ledger.list(limit)
  })

  // Worker reputation as this ingest sees it: best first, with suspension state.
  app.get('/api/workers', async () => ingestOf(ctx).workers.list())
}
