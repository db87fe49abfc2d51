import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpError } from './server.js'
import { ingestOf, view } from './stream-routes.js'
import type { DistNode } from '../node.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'

/** Content types the upload routes take: video, plain bytes, and tus's `application/offset+octet-stream`. */
const VIDEO_TYPES = /^(?:application\/octet-stream|application\/offset\+octet-stream|video\/[a-z0-9][a-z0-9.+-]{0,100})$/i
const UPLOAD_ID = { type: 'string', pattern: '^[a-f0-9]{32}$' } as const
const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const

class TooLargeError extends Error {}

/** An upload not touched for this long is removed (a resumable one can no longer be resumed). */
export const UPLOAD_TTL_MS = 24 * 3_600_000

/** Removes files in `dir` not modified for `ttlMs`. */
export async function sweepUploads (dir: string, ttlMs: number, now = Date.now()): Promise<number> {
  let removed = 0
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(join(dir, f)).catch(() => undefined)
    if (st != null && now - st.mtimeMs > ttlMs) {
      await rm(join(dir, f), { force: true })
      removed++
    }
  }
  return removed
}

/** A resumable upload's record, next to its bytes (`<id>.upload`; the offset is that file's size). */
interface ResumableUpload { length: number, name: string, createdAt: number }

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
export function registerUploadRoutes (app: FastifyInstance, node: DistNode): void {
  const limit = node.config.maxUploadMb * 1024 * 1024
  const dir = join(node.config.dataDir, 'uploads')
  const busy = new Set<string>()
  const tooLarge = (reply: FastifyReply): HttpError => {
    void reply.header('connection', 'close')
    return new HttpError(413, `upload larger than --max-upload-mb ${node.config.maxUploadMb}`)
  }

  /** Pipes the request body into `file` (appending when `flags` is 'a'), at most `max` bytes; returns the bytes written. */
  const receive = async (req: FastifyRequest, reply: FastifyReply, file: string, flags: 'wx' | 'a', max: number): Promise<number> => {
    const body = req.body as Readable | undefined
    if (body == null || typeof body.pipe !== 'function') throw new HttpError(415, 'send the video file as the body, with Content-Type video/* or application/octet-stream')
    if (Number(req.headers['content-length'] ?? NaN) > max) throw tooLarge(reply)
    let size = 0
    const counter = new Transform({
      transform (chunk: Buffer, _enc, cb) {
        size += chunk.byteLength
        if (size > max) cb(new TooLargeError())
        else cb(null, chunk)
      }
    })
    try {
      await pipeline(body, counter, createWriteStream(file, { flags, mode: 0o600 }))
    } catch (err) {
      if (err instanceof TooLargeError) throw tooLarge(reply)
      throw new HttpError(400, 'upload interrupted')
    }
    return size
  }

  const startVod = async (req: FastifyRequest, reply: FastifyReply, file: string, name: string | undefined): Promise<unknown> => {
    try {
      const s = await ingestOf(node).createVod(name == null || name === '' ? 'upload' : name, file, { deleteAfter: true })
      void reply.code(201)
      return view(node, req, s)
    } catch (err) {
      await rm(file, { force: true })
      throw err
    }
  }

  const readUpload = async (id: string): Promise<{ meta: ResumableUpload, offset: number, file: string }> => {
    const file = join(dir, `${id}.upload`)
    try {
      const meta = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as ResumableUpload
      const offset = (await stat(file)).size
      return { meta, offset, file }
    } catch {
      throw new HttpError(404, `no upload ${id}`)
    }
  }

  // Abandoned uploads (a resumable one never finished, a file left by a crash) expire after a day.
  const sweep = setInterval(() => { void sweepUploads(dir, UPLOAD_TTL_MS) }, 3_600_000)
  sweep.unref()
  app.addHook('onClose', async () => { clearInterval(sweep) })
  void sweepUploads(dir, UPLOAD_TTL_MS)

  void app.register(async (scope) => {
    // Only video bodies here (others: 415), handed over unread.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(VIDEO_TYPES, (_req, payload, done) => { done(null, payload) })

    scope.post<{ Querystring: { name?: string } }>('/api/uploads', {
      bodyLimit: limit,
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { name: NAME } } }
    }, async (req, reply) => {
      ingestOf(node)
      const name = req.query.name?.trim()
      if (name != null && !name.isWellFormed()) throw new HttpError(400, 'querystring/name must be well-formed Unicode')
      await mkdir(dir, { recursive: true })
      const declared = req.headers['upload-length']
      if (declared != null) {
        // A resumable upload: created empty, filled by PATCH.
        if (typeof declared !== 'string' || !/^[0-9]{1,15}$/.test(declared) || Number(declared) === 0) throw new HttpError(400, 'Upload-Length must be a positive integer')
        if (Number(declared) > limit) throw tooLarge(reply)
        if (req.body != null || Number(req.headers['content-length'] ?? 0) > 0) throw new HttpError(400, 'send the bytes with PATCH, not with the Upload-Length POST')
        const uploadId = randomBytes(16).toString('hex')
        const meta: ResumableUpload = { length: Number(declared), name: name ?? 'upload', createdAt: Date.now() }
        await writeFile(join(dir, `${uploadId}.upload`), '', { flag: 'wx', mode: 0o600 })
        await writeFile(join(dir, `${uploadId}.json`), JSON.stringify(meta), { flag: 'wx', mode: 0o600 })
        void reply.code(201).header('location', `/api/uploads/${uploadId}`).header('upload-offset', '0')
        return { uploadId, offset: 0, length: meta.length }
      }
      const file = join(dir, `${Date.now()}-${randomBytes(6).toString('hex')}.upload`)
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
      return await startVod(req, reply, file, name)
    })

    scope.patch<{ Params: { uploadId: string } }>('/api/uploads/:uploadId', {
      bodyLimit: limit,
      schema: { params: { type: 'object', properties: { uploadId: UPLOAD_ID } } }
    }, async (req, reply) => {
      ingestOf(node)
      const id = req.params.uploadId
      if (busy.has(id)) throw new HttpError(409, 'another PATCH to this upload is in progress')
      busy.add(id)
      try {
        const { meta, offset, file } = await readUpload(id)
        const at = req.headers['upload-offset']
        if (typeof at !== 'string' || !/^[0-9]{1,15}$/.test(at)) throw new HttpError(400, 'Upload-Offset must be a non-negative integer')
        if (Number(at) !== offset) {
          void reply.header('upload-offset', String(offset))
          throw new HttpError(409, `Upload-Offset ${at} is not the upload's offset ${offset}`)
        }
        // An interrupted PATCH keeps what arrived: the client resumes from HEAD's Upload-Offset.
        // (Nothing to read when an earlier PATCH brought the last byte but was refused for more.)
        if (offset < meta.length) {
          await receive(req, reply, file, 'a', meta.length - offset).catch(async (err) => {
            if (err instanceof HttpError && err.statusCode === 413) throw new HttpError(413, `more bytes than the declared Upload-Length ${meta.length}`)
            throw err
          })
        }
        const now = (await stat(file)).size
        const t = new Date()
        await utimes(join(dir, `${id}.json`), t, t).catch(() => {}) // still alive: not swept
        void reply.header('upload-offset', String(now))
        if (now < meta.length) {
          void reply.code(204)
          return await reply.send()
        }
        await rm(join(dir, `${id}.json`), { force: true })
        return await startVod(req, reply, file, meta.name)
      } finally {
        busy.delete(id)
      }
    })

    scope.head<{ Params: { uploadId: string } }>('/api/uploads/:uploadId', {
      schema: { params: { type: 'object', properties: { uploadId: UPLOAD_ID } } }
    }, async (req, reply) => {
      const { meta, offset } = await readUpload(req.params.uploadId)
      void reply.code(204).header('upload-offset', String(offset)).header('upload-length', String(meta.length)).header('cache-control', 'no-store')
      return await reply.send()
    })
  })
}
