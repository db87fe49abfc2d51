import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpError } from './server.js'
import { ingestOf, view } from './stream-routes.js'
import type { DistNode } from '../node.js'
import type { FastifyInstance } from 'fastify'
import type { Readable } from 'node:stream'

/** Content types `POST /api/uploads` takes. */
const VIDEO_TYPES = /^(?:application\/octet-stream|video\/[a-z0-9][a-z0-9.+-]{0,100})$/i

class TooLargeError extends Error {}

/**
 * `POST /api/uploads[?name=...]`: the body (a video file, `video/*` or
 * `application/octet-stream`) is piped to `<data-dir>/uploads/` as it
 * arrives, never held in memory, and refused with 413 past `--max-upload-mb`
 * (at once when Content-Length says so). The file becomes a VOD stream
 * transcoded by the network: 201 with the stream (`processing`), then
 * `ready` or `failed` on `GET /api/streams/:id`.
 */
export function registerUploadRoutes (app: FastifyInstance, node: DistNode): void {
  const limit = node.config.maxUploadMb * 1024 * 1024
  void app.register(async (scope) => {
    // Only video bodies here (others: 415), handed over unread.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(VIDEO_TYPES, (_req, payload, done) => { done(null, payload) })

    scope.post<{ Querystring: { name?: string } }>('/api/uploads', {
      bodyLimit: limit,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } }
        }
      }
    }, async (req, reply) => {
      const ingest = ingestOf(node)
      const body = req.body as Readable | undefined
      if (body == null || typeof body.pipe !== 'function') throw new HttpError(415, 'send the video file as the body, with Content-Type video/* or application/octet-stream')
      const declared = Number(req.headers['content-length'] ?? NaN)
      if (declared > limit) {
        void reply.header('connection', 'close')
        throw new HttpError(413, `upload larger than --max-upload-mb ${node.config.maxUploadMb}`)
      }
      const name = req.query.name?.trim()
      if (name != null && !name.isWellFormed()) throw new HttpError(400, 'querystring/name must be well-formed Unicode')
      const dir = join(node.config.dataDir, 'uploads')
      await mkdir(dir, { recursive: true })
      const file = join(dir, `${Date.now()}-${randomBytes(6).toString('hex')}.upload`)
      let size = 0
      const counter = new Transform({
        transform (chunk: Buffer, _enc, cb) {
          size += chunk.byteLength
          if (size > limit) cb(new TooLargeError())
          else cb(null, chunk)
        }
      })
      try {
        await pipeline(body, counter, createWriteStream(file, { flags: 'wx', mode: 0o600 }))
      } catch (err) {
        await rm(file, { force: true })
        if (err instanceof TooLargeError) {
          void reply.header('connection', 'close')
          throw new HttpError(413, `upload larger than --max-upload-mb ${node.config.maxUploadMb}`)
        }
        throw new HttpError(400, 'upload interrupted')
      }
      if (size === 0) {
        await rm(file, { force: true })
        throw new HttpError(400, 'empty upload')
      }
      try {
        const s = await ingest.createVod(name == null || name === '' ? 'upload' : name, file, { deleteAfter: true })
        void reply.code(201)
        return view(node, req, s)
      } catch (err) {
        await rm(file, { force: true })
        throw err
      }
    })
  })
}
