import { bearerMatches } from './auth.js'
import { HttpError } from './errors.js'
import { ingestOf } from './role-guards.js'
import { isAnnounced } from './stream-routes.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance } from 'fastify'

/** As MAX_OUTPUT_URL_LENGTH in @diststream/ingest (not imported: only ingest nodes load that package). */
const MAX_OUTPUT_URL_LENGTH = 2048

const ID = { type: 'string', pattern: '^[a-z0-9]{1,64}$' } as const
const OUTPUT_ID = { type: 'string', pattern: '^[0-9a-f]{16}$' } as const

/**
 * Restream outputs (issue 16): `GET/POST /api/streams/:id/outputs`,
 * `DELETE /api/streams/:id/outputs/:outputId`. POST and DELETE need the API
 * token (as every mutating route); a GET without it shows only announced
 * streams' outputs, with each URL's key redacted.
 */
export function registerRestreamRoutes (app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { id: string } }>('/api/streams/:id/outputs', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    const ingest = ingestOf(ctx)
    const full = bearerMatches(req.headers.authorization, ctx.apiToken)
    const s = await ingest.getStream(req.params.id)
    // Without the token, a stream not yet announced does not exist (its id is not public).
    if (s == null || (!full && !isAnnounced(s))) throw new HttpError(404, `no stream ${req.params.id}`)
    return await ingest.restream.list(s.id, full)
  })

  app.post<{ Params: { id: string }, Body: { url: string } }>('/api/streams/:id/outputs', {
    schema: {
      params: { type: 'object', properties: { id: ID } },
      body: { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', minLength: 1, maxLength: MAX_OUTPUT_URL_LENGTH } } }
    }
  }, async (req, reply) => {
    const ingest = ingestOf(ctx)
    const s = await ingest.getStream(req.params.id)
    if (s == null) throw new HttpError(404, `no stream ${req.params.id}`)
    if (s.state === 'ended' || s.vod === true || s.sourceUrl != null) throw new HttpError(409, `stream ${s.id} takes no restream outputs (only RTMP-published streams that have not ended)`)
    try {
      const out = await ingest.restream.add(s.id, req.body.url)
      void reply.code(201)
      return out
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 400) throw new HttpError(400, `body/url: ${(err as Error).message}`)
      throw err
    }
  })

  app.delete<{ Params: { id: string, outputId: string } }>('/api/streams/:id/outputs/:outputId', {
    schema: { params: { type: 'object', properties: { id: ID, outputId: OUTPUT_ID } } }
  }, async (req, reply) => {
    const ingest = ingestOf(ctx)
    if (await ingest.getStream(req.params.id) == null) throw new HttpError(404, `no stream ${req.params.id}`)
    await ingest.restream.remove(req.params.id, req.params.outputId)
    void reply.code(204)
  })
}
