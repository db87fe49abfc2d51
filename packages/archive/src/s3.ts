import { createReadStream } from 'node:fs'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { ArchiveTarget } from './target.js'
import type { AttemptOutcome } from './backoff-queue.js'

/** Multipart part size (lib-storage): files over it go up in parts, 2 at a time. */
export const PART_SIZE = 8 * 1024 * 1024
/** Largest object read back for the edge (a segment is at most 48 MiB). */
export const MAX_GET_BYTES = 64 * 1024 * 1024

/** S3 error names a retry will not fix: credentials, permissions, a missing bucket. */
const FATAL = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'NoSuchBucket', 'InvalidBucketName', 'AuthorizationHeaderMalformed', 'InvalidToken', 'ExpiredToken', 'CredentialsProviderError'])

/** Whether an upload error is worth a retry (`retry`) or final (`fatal`), with a short reason for the log. */
export function classifyS3Error (err: unknown): { outcome: AttemptOutcome, reason: string } {
  const e = err as { name?: string, message?: string, $metadata?: { httpStatusCode?: number } }
  const status = e?.$metadata?.httpStatusCode
  const name = e?.name ?? 'Error'
  const fatal = FATAL.has(name) || status === 401 || status === 403
  return { outcome: fatal ? 'fatal' : 'retry', reason: `${name}${status != null ? ` (HTTP ${status})` : ''}: ${String(e?.message ?? err).slice(0, 200)}` }
}

/**
 * The S3 client, configured the AWS SDK way: region, credentials and
 * endpoint from the environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, …,
 * `AWS_ENDPOINT_URL_S3`) and the shared config files (`AWS_PROFILE`).
 * With a custom endpoint (an S3-compatible server) addressing is path-style.
 * No SDK retries: the queue retries with its own backoff. Checksums only
 * where S3 requires them, which every S3-compatible server understands.
 */
export function createS3Client (env: NodeJS.ProcessEnv = process.env): S3Client {
  const custom = (env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? '') !== ''
  return new S3Client({
    forcePathStyle: custom || env.AWS_S3_FORCE_PATH_STYLE === 'true',
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED'
  })
}

/** Uploads `file` to `key` (multipart past {@link PART_SIZE}); aborts after `timeoutMs`. */
export async function uploadFile (client: S3Client, t: ArchiveTarget, key: string, file: string, contentType: string, timeoutMs: number): Promise<void> {
  const body = createReadStream(file)
  const upload = new Upload({ client, params: { Bucket: t.bucket, Key: key, Body: body, ContentType: contentType }, partSize: PART_SIZE, queueSize: 2, leavePartsOnError: false })
  const timer = setTimeout(() => { void upload.abort() }, timeoutMs)
  try {
    await upload.done()
  } finally {
    clearTimeout(timer)
    body.destroy()
  }
}

/** An archived object's bytes, or undefined when there is none (404); at most {@link MAX_GET_BYTES}. */
export async function getObject (client: S3Client, t: ArchiveTarget, key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }), { abortSignal: signal })
    if ((res.ContentLength ?? 0) > MAX_GET_BYTES) throw new Error(`archived object ${key} is larger than ${MAX_GET_BYTES} bytes`)
    return await res.Body?.transformToByteArray()
  } catch (err) {
    const e = err as { name?: string, $metadata?: { httpStatusCode?: number } }
    if (e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404) return undefined
    throw err
  }
}
