import { HttpError } from './server.js'
import type { DistNode } from '../node.js'
import type { Ingest } from '@diststream/ingest'
import type { StreamRecord } from '@diststream/store'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/** As MAX_SOURCE_URL_LENGTH in @diststream/ingest (not imported: only ingest nodes load that package). */
const MAX_SOURCE_URL_LENGTH = 2048
const SOURCE_URL_ERROR = 'SourceUrlError'

const ID = { type: 'string', pattern: '^[a-z0-9]{1,64}$' } as const

/**
 * A source URL as the (public) GET API shows it: no credentials, query or
 * fragment (RTSP passwords, signed-URL tokens), and an upload's path inside
 * the data dir hidden.
 */
export function publicSourceUrl (node: Pick<DistNode, 'config'>, raw: string): string {
  if (raw.startsWith('/')) return raw.startsWith(node.config.dataDir + '/') ? 'upload' : raw
  try {
    const u = new URL(raw)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return ''
  }
}

function hostOf (req: FastifyRequest): string {
  const h = req.hostname.replace(/:\d+$/, '')
  return /^[A-Za-z0-9.\-[\]:]{1,255}$/.test(h) ? h : '127.0.0.1'
}

export function view (node: DistNode, req: FastifyRequest, s: StreamRecord, withKey = false): Record<string, unknown> {
  const host = hostOf(req)
  const port = node.http.server.address()
  const httpPort = typeof port === 'object' && port != null ? port.port : node.config.httpPort
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeq: s.lastSeq ?? null,
    renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs })),
    source: s.source ?? null,
    ...(s.sourceUrl != null ? { sourceUrl: publicSourceUrl(node, s.sourceUrl) } : {}),
    ...(s.vod === true ? { vod: true, progress: s.progress ?? null } : {}),
    ...(s.error != null ? { error: s.error } : {}),
    ...(withKey ? { key: s.key, rtmpUrl: `rtmp://${host}:${node.config.rtmpPort}/live/${s.key}` } : {}),
    playbackUrl: `http://${host}:${httpPort}/live/${s.id}/index.m3u8`
  }
}

export function ingestOf (node: DistNode): Ingest {
  if (node.ingest == null) throw new HttpError(404, 'this node has no ingest role')
  return node.ingest
}

export function registerStreamRoutes (app: FastifyInstance, node: DistNode): void {
  app.post<{ Body: { name: string, source_url?: string, vod?: boolean } }>('/api/streams', {
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
          vod: { type: 'boolean' }
        }
      }
    }
  }, async (req, reply) => {
    if (!req.body.name.isWellFormed()) throw new HttpError(400, 'body/name must be well-formed Unicode')
    const name = req.body.name.trim() === '' ? 'untitled' : req.body.name.trim()
    const { source_url: sourceUrl, vod } = req.body
    if (vod === true && sourceUrl == null) throw new HttpError(400, 'body/vod needs body/source_url (or use POST /api/uploads)')
    if (sourceUrl != null) {
      const ingest = ingestOf(node)
      let s: StreamRecord
      try {
        s = vod === true ? await ingest.createVod(name, sourceUrl) : await ingest.createPullStream(name, sourceUrl)
      } catch (err: any) {
        if (err?.name === SOURCE_URL_ERROR) throw new HttpError(400, `body/source_url: ${String(err.message)}`)
        throw err
      }
      void reply.code(201)
      return view(node, req, s)
    }
    const s = await ingestOf(node).createStream(name)
    void reply.code(201)
    return view(node, req, s, true)
  })

  app.get('/api/streams', async (req) => {
    return (await ingestOf(node).listStreams()).map(s => view(node, req, s))
  })

  app.get<{ Params: { id: string } }>('/api/streams/:id', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    const s = await ingestOf(node).getStream(req.params.id)
    if (s == null) throw new HttpError(404, `no stream ${req.params.id}`)
    return view(node, req, s)
  })

  app.delete<{ Params: { id: string } }>('/api/streams/:id', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    const ingest = ingestOf(node)
    if (await ingest.getStream(req.params.id) == null) throw new HttpError(404, `no stream ${req.params.id}`)
    return view(node, req, await ingest.deleteStream(req.params.id))
  })

  // Keeps a stream from being ended as stale (no segment for --stale-stream-seconds); 409 once it has ended.
  app.post<{ Params: { id: string } }>('/api/streams/:id/heartbeat', { schema: { params: { type: 'object', properties: { id: ID } } } }, async (req) => {
    const s = await ingestOf(node).heartbeat(req.params.id)
    return { ...view(node, req, s), heartbeatAt: new Date(s.heartbeatAt ?? Date.now()).toISOString() }
  })

  app.get<{ Querystring: { limit?: string } }>('/api/jobs', {
    schema: { querystring: { type: 'object', properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } } } }
  }, async (req) => {
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 100)))
    return ingestOf(node).ledger.list(limit)
  })

  // Worker reputation as this ingest sees it: best first, with suspension state.
  app.get('/api/workers', async () => ingestOf(node).workers.list())
}
