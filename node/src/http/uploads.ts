/**
 * Upload files under `<data-dir>/uploads/`: bodies streamed to disk with a
 * byte limit, the resumable (tus-style) record next to its bytes, and the
 * sweep of abandoned uploads. The routes are in upload-routes.ts.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpError } from './errors.js'
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'

/** An upload not touched for this long is removed (a resumable one can no longer be resumed). */
export const UPLOAD_TTL_MS = 24 * 3_600_000
/** How often abandoned uploads are looked for. */
const SWEEP_EVERY_MS = 3_600_000

/** More bytes than allowed arrived; the route answers 413. */
export class UploadTooLargeError extends Error {
  static readonly NAME = 'UploadTooLargeError'
  override name = UploadTooLargeError.NAME
  readonly statusCode = 413
}

/** Removes files in `dir` not modified for `ttlMs`. */
export async function sweepUploads (dir: string, ttlMs: number, now = Date.now()): Promise<number> {
  let removed = 0
  // No directory yet: nothing was ever uploaded, so nothing to sweep.
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    // Gone since the listing (finished or swept meanwhile): nothing to do.
    const st = await stat(join(dir, f)).catch(() => undefined)
    if (st != null && now - st.mtimeMs > ttlMs) {
      await rm(join(dir, f), { force: true })
      removed++
    }
  }
  return removed
}

/** A resumable upload's record, next to its bytes (`<id>.upload`; the offset is that file's size). */
export interface ResumableUpload { length: number, name: string, createdAt: number, private?: true }

export class UploadStore {
  /** Resumable uploads with a PATCH in progress (one at a time each). */
  readonly busy = new Set<string>()
  #sweep?: NodeJS.Timeout

  constructor (readonly dir: string, private readonly logger: Logger) {}

  /** Sweeps now and every hour: abandoned uploads (a resumable one never finished, a file left by a crash) expire after a day. */
  startSweeping (): void {
    this.#sweepOnce()
    this.#sweep = setInterval(() => { this.#sweepOnce() }, SWEEP_EVERY_MS)
    this.#sweep.unref()
  }

  stop (): void {
    clearInterval(this.#sweep)
  }

  /** A fresh file for a one-shot upload. */
  async newFile (): Promise<string> {
    await mkdir(this.dir, { recursive: true })
    return join(this.dir, `${Date.now()}-${randomBytes(6).toString('hex')}.upload`)
  }

  /** Pipes `body` into `file` (appending when `flags` is 'a'), at most `max` bytes; returns the bytes written. */
  async receive (body: Readable, file: string, flags: 'wx' | 'a', max: number): Promise<number> {
    let size = 0
    const counter = new Transform({
      transform (chunk: Buffer, _enc, cb) {
        size += chunk.byteLength
        if (size > max) cb(new UploadTooLargeError(`more than ${max} bytes`))
        else cb(null, chunk)
      }
    })
    try {
      await pipeline(body, counter, createWriteStream(file, { flags, mode: 0o600 }))
    } catch (err) {
      if (err instanceof UploadTooLargeError) throw err
      throw new HttpError(400, 'upload interrupted')
    }
    return size
  }

  /** Creates an empty resumable upload of `length` bytes; returns its id. */
  async createResumable (length: number, name: string, opts: { private?: boolean } = {}): Promise<string> {
    await mkdir(this.dir, { recursive: true })
    const uploadId = randomBytes(16).toString('hex')
    const meta: ResumableUpload = { length, name, createdAt: Date.now(), ...(opts.private === true ? { private: true } : {}) }
    await writeFile(join(this.dir, `${uploadId}.upload`), '', { flag: 'wx', mode: 0o600 })
    await writeFile(join(this.dir, `${uploadId}.json`), JSON.stringify(meta), { flag: 'wx', mode: 0o600 })
    return uploadId
  }

  /** A resumable upload's record, bytes so far and file; 404 when there is none. */
  async read (id: string): Promise<{ meta: ResumableUpload, offset: number, file: string }> {
    const file = join(this.dir, `${id}.upload`)
    try {
      const meta = JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as ResumableUpload
      const offset = (await stat(file)).size
      return { meta, offset, file }
    } catch {
      // Missing or unreadable record: to the client, no such upload.
      throw new HttpError(404, `no upload ${id}`)
    }
  }

  /** The bytes a resumable upload holds now. */
  async offset (file: string): Promise<number> {
    return (await stat(file)).size
  }

  /** Marks a resumable upload as still alive, so the sweep keeps it. */
  async touch (id: string): Promise<void> {
    const t = new Date()
    await utimes(join(this.dir, `${id}.json`), t, t).catch(err => {
      // Only lets the sweep expire it a day after its last successful touch.
      this.logger.debug({ err, uploadId: id }, 'could not touch upload record')
    })
  }

  /** Drops a finished resumable upload's record (its bytes now belong to the VOD). */
  async finish (id: string): Promise<void> {
    await rm(join(this.dir, `${id}.json`), { force: true })
  }

  #sweepOnce (): void {
    sweepUploads(this.dir, UPLOAD_TTL_MS).then(removed => {
      if (removed > 0) this.logger.info({ removed }, 'removed abandoned uploads')
    }, err => { this.logger.warn({ err, dir: this.dir }, 'upload sweep failed') })
  }
}
