import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Counter } from 'prom-client'
import { systemClock } from '@diststream/util'
import { UploadQueue } from './backoff-queue.js'
import { loadQueue, saveQueue } from './persist.js'
import { classifyS3Error, createS3Client, getObject, uploadFile } from './s3.js'
import { segmentKey } from './target.js'
import type { S3Client } from '@aws-sdk/client-s3'
import type { AttemptOutcome, UploadJob } from './backoff-queue.js'
import type { ArchiveTarget } from './target.js'
import type { Clock } from '@diststream/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** The archive's bounds, with their reasons. */
export const ARCHIVE_LIMITS = {
  /** Files waiting to upload: ~5.5 hours of a 6-rendition stream with 2 s segments; past it new files are dropped (counted), never the live path blocked. */
  maxPending: 10_000,
  /** Uploads at once: the node's upload link is shared with the network. */
  concurrency: 2,
  /** Failed attempts before a file is given up (with the backoff capped at 60 s: over 40 minutes of outage). */
  maxAttempts: 50,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  /** One upload's longest run (a 48 MiB segment over a slow link). */
  uploadTimeoutMs: 120_000,
  /** At most one "denied" error line per this long (a wrong credential fails every upload). */
  deniedLogEveryMs: 10_000
} as const

/** The persisted queue, in the data dir: a restarted node resumes what was pending. */
export const QUEUE_FILE = 'archive-queue.json'

export interface ArchiverInit {
  target: ArchiveTarget
  dataDir: string
  logger: Logger
  registry: Registry
  client?: S3Client
  clock?: Clock
}

const CONTENT_TYPES: Record<string, string> = { ts: 'video/mp2t', m4s: 'video/iso.segment', mp4: 'video/mp4', m3u8: 'application/vnd.apple.mpegurl', json: 'application/json' }

/**
 * Archive to object storage (`--archive s3://bucket/prefix`): files handed
 * over as they complete go to the bucket from a bounded, persisted queue
 * with retries and backoff; reads back archived objects for an edge.
 */
export class Archiver {
  readonly target: ArchiveTarget
  readonly #init: ArchiverInit
  readonly #client: S3Client
  readonly #log: Logger
  readonly #queue: UploadQueue
  readonly #uploads: Counter<'result'>
  #lastDeniedLog = -Infinity
  #saving?: Promise<void>
  #dirty = false

  constructor (init: ArchiverInit) {
    this.#init = init
    this.target = init.target
    this.#client = init.client ?? createS3Client()
    this.#log = init.logger.child({ component: 'archive' })
    const clock = init.clock ?? systemClock
    const name = 'diststream_archive_uploads_total'
    this.#uploads = (init.registry.getSingleMetric(name) as Counter<'result'> | undefined) ??
      new Counter({ name, help: 'Archive uploads by result: ok, retry (an attempt failed; retried after a backoff), failed (gave up), denied (credentials or permissions refused), dropped (queue full)', labelNames: ['result'], registers: [init.registry] })
    this.#queue = new UploadQueue({
      clock,
      maxPending: ARCHIVE_LIMITS.maxPending,
      concurrency: ARCHIVE_LIMITS.concurrency,
      maxAttempts: ARCHIVE_LIMITS.maxAttempts,
      backoffMs: (n) => Math.min(ARCHIVE_LIMITS.backoffMaxMs, ARCHIVE_LIMITS.backoffBaseMs * 2 ** (n - 1)),
      attempt: async (job) => await this.#attempt(job, clock),
      onResult: (result, job) => {
        this.#uploads.inc({ result })
        if (result === 'failed') this.#log.error({ key: job.key, attempts: job.attempts }, 'archive upload given up')
        else if (result === 'dropped') this.#log.warn({ key: job.key }, 'archive queue full: file not archived')
        else if (result === 'ok') this.#log.debug({ key: job.key }, 'archived')
      },
      onChange: () => { this.#save() }
    })
  }

  async #attempt (job: UploadJob, clock: Clock): Promise<AttemptOutcome> {
    const ext = job.key.split('.').at(-1) ?? ''
    try {
      await uploadFile(this.#client, this.target, job.key, job.file, CONTENT_TYPES[ext] ?? 'application/octet-stream', ARCHIVE_LIMITS.uploadTimeoutMs)
      return 'ok'
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return 'fatal' // the file is gone (the stream was deleted): nothing to upload
      const { outcome, reason } = classifyS3Error(err)
      if (outcome === 'fatal') {
        if (clock.now() - this.#lastDeniedLog >= ARCHIVE_LIMITS.deniedLogEveryMs) {
          this.#lastDeniedLog = clock.now()
          this.#log.error({ bucket: this.target.bucket, key: job.key, reason }, 'archive upload refused: check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket; the stream goes on unarchived')
        }
      } else {
        this.#uploads.inc({ result: 'retry' })
        this.#log.warn({ key: job.key, attempt: job.attempts + 1, reason }, 'archive upload failed; will retry')
      }
      return outcome
    }
  }

  get #queueFile (): string { return join(this.#init.dataDir, QUEUE_FILE) }

  /** Persists the pending jobs (one write at a time, the latest state last). */
  #save (): void {
    this.#dirty = true
    if (this.#saving != null) return
    this.#saving = (async () => {
      while (this.#dirty) {
        this.#dirty = false
        await saveQueue(this.#queueFile, this.#queue.pending()).catch(err => { this.#log.warn({ err }, 'could not persist the archive queue') })
      }
      this.#saving = undefined
    })()
  }

  /** Resumes the uploads a previous run left pending. */
  async start (): Promise<void> {
    const jobs = await loadQueue(this.#queueFile)
    let resumed = 0
    for (const j of jobs) {
      if (await stat(j.file).then(() => true, () => false)) resumed += this.#queue.enqueue(j.file, j.key, j.attempts) ? 1 : 0
    }
    if (resumed > 0) this.#log.info({ resumed }, 'resuming archive uploads')
  }

  /** Stops starting uploads; what is pending stays persisted for the next start. */
  async stop (): Promise<void> {
    this.#queue.stop()
    this.#save()
    await this.#saving
  }

  /** Queues a segment file (never waits); false if the queue is full (counted `dropped`). */
  archiveSegment (streamId: string, rendition: string, seq: number, file: string): boolean {
    const ext = file.split('.').at(-1) ?? 'ts'
    return this.#queue.enqueue(file, segmentKey(this.target, streamId, rendition, seq, ext))
  }

  /** Queues any file under `key` (a playlist, a VOD's file). */
  archiveFile (file: string, key: string): boolean { return this.#queue.enqueue(file, key) }

  /** Files waiting or uploading. */
  get pending (): number { return this.#queue.size }

  /** An archived segment's bytes (undefined if the bucket has none). */
  async getSegment (streamId: string, rendition: string, seq: number, ext: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return await getObject(this.#client, this.target, segmentKey(this.target, streamId, rendition, seq, ext), signal)
  }
}
