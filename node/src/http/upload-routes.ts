import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { HttpError } from './errors.js'
import { streamView } from './render-views.js'
import { ingestOf } from './role-guards.js'
import { UploadStore, UploadTooLargeError } from './uploads.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'

export { sweepUploads, UPLOAD_TTL_MS } from './uploads.js'

/** Content types the upload routes take: video, plain bytes, and tus's `application/offset+octet-stream`. */
const VIDEO_TYPES = /^(?:application\/octet-stream|application\/offset\+octet-stream|video\/[a-z0-9][a-z0-9.+-]{0,100})$/i
const UPLOAD_ID = { type: 'string', pattern: '^[a-f0-9]{32}$' } as const
const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const

/**
 * Video uploads that become VODs (streamed to `<data-dir>/uploads/`, never
 * held in memory, 413 past `--max-upload-mb`):
 *
 * - `POST /api/uploads[?name=]` with the file as the body (`video/*` or
 *   `application/octet-stream`): 201 with the stream (`processing`), then
 *   `ready` or `failed` on `GET /api/streams/:id`.
 * - Resumable, tus-style: `POST /api/uploads` with `Upload-Length: <bytes>`
 *   and no body → 201 `{ uploadId, offset: 0, length }` and `Location`;
 *   `PATCH /api/uploads/:uploadId` with `Upload-Offset: <offset>` appends
 *   its body (409 if the offset is not the current one) → 204 with the new
 *   `Upload-Offset`, or 201 with the stream once the last byte is in;
 *   `HEAD /api/uploads/:uploadId` tells the offset to resume from.
 */
export function registerUploadRoutes (app: FastifyInstance, ctx: HttpContext): void {
  const limit = ctx.config.maxUploadMb * 1024 * 1024
  const store = new UploadStore(join(ctx.config.dataDir, 'uploads'), ctx.logger)
  const tooLarge = (reply: FastifyReply, message = `upload larger than --max-upload-mb ${ctx.config.maxUploadMb}`): HttpError => {
    void reply.header('connection', 'close')
    return new HttpError(413, message)
  }

  /** Stores the request body in `file` (appending when `flags` is 'a'), at most `max` bytes; returns the bytes written. */
  const receive = async (req: FastifyRequest, reply: FastifyReply, file: string, flags: 'wx' | 'a', max: number, tooLargeMessage?: string): Promise<number> => {
    const body = req.body as Readable | undefined
    if (body == null || typeof body.pipe !== 'function') throw new HttpError(415, 'send the video file as the body, with Content-Type video/* or application/octet-stream')
    if (Number(req.headers['content-length'] ?? NaN) > max) throw tooLarge(reply, tooLargeMessage)
    try {
      return await store.receive(body, file, flags, max)
    } catch (err) {
      if (err instanceof UploadTooLargeError) throw tooLarge(reply, tooLargeMessage)
      throw err
    }
  }

  const startVod = async (req: FastifyRequest, reply: FastifyReply, file: string, name: string | undefined, priv = false): Promise<unknown> => {
    try {
      const s = await ingestOf(ctx).createVod(name == null || name === '' ? 'upload' : name, file, { deleteAfter: true, trusted: true, private: priv })
      void reply.code(201)
      return streamView(ctx, req, s)
    } catch (err) {
      await rm(file, { force: true })
      throw err
    }
  }

  store.startSweeping()
  app.addHook('onClose', async () => { store.stop() })

  void app.register(async (scope) => {
    // Only video bodies here (others: 415), handed over unread.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(VIDEO_TYPES, (_req, payload, done) => { done(null, payload) })

    scope.post<{ Querystring: { name?: string, private?: 'true' | 'false' } }>('/api/uploads', {
      bodyLimit: limit,
      // private=true: a private VOD (playback tokens, as POST /api/streams { private: true }).
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { name: NAME, private: { type: 'string', enum: ['true', 'false'] } } } }
    }, async (req, reply) => {
      ingestOf(ctx)
      const name = req.query.name?.trim()
      const priv = req.query.private === 'true'
      if (name != null && !name.isWellFormed()) throw new HttpError(400, 'querystring/name must be well-formed Unicode')
      const declared = req.headers['upload-length']
      if (declared != null) {
        // A resumable upload: created empty, filled by PATCH.
        if (typeof declared !== 'string' || !/^[0-9]{1,15}$/.test(declared) || Number(declared) === 0) throw new HttpError(400, 'Upload-Length must be a positive integer')
        if (Number(declared) > limit) throw tooLarge(reply)
        if (req.body != null || Number(req.headers['content-length'] ?? 0) > 0) throw new HttpError(400, 'send the bytes with PATCH, not with the Upload-Length POST')
        const length = Number(declared)
        const uploadId = await store.createResumable(length, name ?? 'upload', { private: priv })
        void reply.code(201).header('location', `/api/uploads/${uploadId}`).header('upload-offset', '0')
        return { uploadId, offset: 0, length }
      }
      const file = await store.newFile()
      let size: number
      try {
        size = await receive(req, reply, file, 'wx', limit)
      } catch (err) {
        await rm(file, { force: true })
        throw err
      }
      if (size === 0) {
        await rm(file, { force: true })
        throw new HttpError(400, 'empty upload')
      }
      return await startVod(req, reply, file, name, priv)
    })

    scope.patch<{ Params: { uploadId: string } }>('/api/uploads/:uploadId', {
      bodyLimit: limit,
      schema: { params: { type: 'object', properties: { uploadId: UPLOAD_ID } } }
    }, async (req, reply) => {
      ingestOf(ctx)
      const id = req.params.uploadId
      if (store.busy.has(id)) throw new HttpError(409, 'another PATCH to this upload is in progress')
      store.busy.add(id)
      try {
        const { meta, offset, file } = await store.read(id)
        const at = req.headers['upload-offset']
        if (typeof at !== 'string' || !/^[0-9]{1,15}$/.test(at)) throw new HttpError(400, 'Upload-Offset must be a non-negative integer')
        if (Number(at) !== offset) {
          void reply.header('upload-offset', String(offset))
          throw new HttpError(409, `Upload-Offset ${at} is not the upload's offset ${offset}`)
        }
        // An interrupted PATCH keeps what arrived: the client resumes from HEAD's Upload-Offset.
        // (Nothing to read when an earlier PATCH brought the last byte but was refused for more.)
        if (offset < meta.length) {
          await receive(req, reply, file, 'a', meta.length - offset, `more bytes than the declared Upload-Length ${meta.length}`)
        }
        const now = await store.offset(file)
        await store.touch(id)
        void reply.header('upload-offset', String(now))
        if (now < meta.length) {
          void reply.code(204)
          return await reply.send()
        }
        await store.finish(id)
        return await startVod(req, reply, file, meta.name, meta.private === true)
      } finally {
        store.busy.delete(id)
      }
    })

    scope.head<{ Params: { uploadId: string } }>('/api/uploads/:uploadId', {
      schema: { params: { type: 'object', properties: { uploadId: UPLOAD_ID } } }
    }, async (req, reply) => {
      const { meta, offset } = await store.read(req.params.uploadId)
      void reply.code(204).header('upload-offset', String(offset)).header('upload-length', String(meta.length)).header('cache-control', 'no-store')
      return await reply.send()
    })
  })
}
