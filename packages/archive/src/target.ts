/** `--archive s3://bucket/prefix` (pure): where archived objects go, and their keys. */

export interface ArchiveTarget {
  bucket: string
  /** Key prefix, without leading or trailing `/` ('' for the bucket's root). */
  prefix: string
}

export class ArchiveUrlError extends Error {
  static readonly NAME = 'ArchiveUrlError'
  override name = ArchiveUrlError.NAME
}

/** Bucket names as S3 allows them (3–63 lowercase letters, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
/** Prefix path segments: no `.`/`..`, no control characters; at most this long in all. */
const MAX_PREFIX_LENGTH = 512

export function parseArchiveUrl (raw: string): ArchiveTarget {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(raw)
  if (m == null) throw new ArchiveUrlError(`--archive must look like s3://bucket/prefix, not ${JSON.stringify(raw)}`)
  const bucket = m[1]!
  if (!BUCKET.test(bucket)) throw new ArchiveUrlError(`--archive: ${JSON.stringify(bucket)} is not a valid bucket name`)
  const parts = (m[2] ?? '').split('/').filter(p => p !== '')
  // eslint-disable-next-line no-control-regex
  if (parts.some(p => p === '.' || p === '..' || /[\u0000-\u001f\u007f\\]/.test(p))) throw new ArchiveUrlError('--archive: the prefix must not hold ".", ".." or control characters')
  const prefix = parts.join('/')
  if (prefix.length > MAX_PREFIX_LENGTH) throw new ArchiveUrlError(`--archive: the prefix is longer than ${MAX_PREFIX_LENGTH} characters`)
  return { bucket, prefix }
}

/** The object key of a segment file: `<prefix>/<stream>/<rendition>/<seq>.<ext>`, as the edge looks it up. */
export function segmentKey (t: ArchiveTarget, streamId: string, rendition: string, seq: number, ext: string): string {
  return join(t.prefix, streamId, rendition, `${seq}.${ext}`)
}

/** The object key of a rendition-level file (its playlist): `<prefix>/<stream>/<rendition>/<name>`. */
export function renditionKey (t: ArchiveTarget, streamId: string, rendition: string, name: string): string {
  return join(t.prefix, streamId, rendition, name)
}

/** The object key of a stream-level file (a playlist, a VOD index): `<prefix>/<stream>/<name>`. */
export function streamKey (t: ArchiveTarget, streamId: string, name: string): string {
  return join(t.prefix, streamId, name)
}

const join = (...parts: string[]): string => parts.filter(p => p !== '').join('/')
