import { stat } from 'node:fs/promises'
import { isAbsolute, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Longest `source_url` accepted (characters). */
export const MAX_SOURCE_URL_LENGTH = 2048
/** URL schemes an ingest pulls from (anything else is refused). */
export const SOURCE_SCHEMES = ['rtmp', 'rtmps', 'rtsp', 'http', 'https', 'file'] as const

export class SourceUrlError extends Error {
  static readonly NAME = 'SourceUrlError'
  override name = SourceUrlError.NAME
  readonly statusCode = 400
}

/** A source the ingest's segmenter reads, as ffmpeg will be given it. */
export interface PullSource {
  /** What ffmpeg gets after `-i`: the URL, or `file:<absolute path>` for a local file. */
  input: string
  /** A local file (its existence is checked by {@link checkPullSource}). */
  file?: string
  /**
   * The source is not live by itself (a file, or an HTTP URL that is not a
   * playlist): read it at its native rate (`-re`) so it plays as a live stream.
   */
  realtime: boolean
}

/**
 * Parses a `source_url` (pure: no I/O). Accepted: `rtmp://`, `rtmps://`,
 * `rtsp://`, `http://`, `https://`, `file://` URLs and absolute paths. Throws
 * {@link SourceUrlError} with a message fit for an HTTP 400 otherwise.
 */
export function parseSourceUrl (raw: unknown): PullSource {
  if (typeof raw !== 'string' || raw.length === 0) throw new SourceUrlError('source_url must be a non-empty string')
  if (raw.length > MAX_SOURCE_URL_LENGTH) throw new SourceUrlError(`source_url is longer than ${MAX_SOURCE_URL_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw) || !raw.isWellFormed()) throw new SourceUrlError('source_url must not contain control characters')
  if (raw.startsWith('/')) return fileSource(raw)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new SourceUrlError(`source_url is neither a URL nor an absolute path: use one of ${SOURCE_SCHEMES.join(', ')} or /path/to/file`)
  }
  const scheme = url.protocol.replace(/:$/, '')
  if (!(SOURCE_SCHEMES as readonly string[]).includes(scheme)) throw new SourceUrlError(`source_url scheme "${scheme}" is not allowed (allowed: ${SOURCE_SCHEMES.join(', ')}, or an absolute path)`)
  if (scheme === 'file') {
    if (url.host !== '' && url.host !== 'localhost') throw new SourceUrlError('a file: source_url must be on this host (file:///path)')
    return fileSource(fileURLToPath(url))
  }
  if (url.hostname === '') throw new SourceUrlError('source_url has no host')
  const playlist = /\.m3u8$/i.test(url.pathname)
  return { input: url.href, realtime: (scheme === 'http' || scheme === 'https') && !playlist }
}

function fileSource (path: string): PullSource {
  if (!isAbsolute(path)) throw new SourceUrlError('a file source must be an absolute path')
  const file = normalize(path)
  // `file:` keeps ffmpeg from reading "a:b" in a path as a protocol.
  return { input: `file:${file}`, file, realtime: true }
}

/** Checks what parsing cannot: a file source exists and is a regular file. */
export async function checkPullSource (src: PullSource): Promise<void> {
  if (src.file == null) return
  const st = await stat(src.file).catch(() => undefined)
  if (st == null) throw new SourceUrlError(`source file ${src.file} does not exist`)
  if (!st.isFile()) throw new SourceUrlError(`source ${src.file} is not a regular file`)
}

/** A URL without credentials, query or fragment (for logs and errors a viewer may see). */
export function redactSourceUrl (raw: string): string {
  if (raw.startsWith('/') || raw.startsWith('file:')) return raw
  try {
    const u = new URL(raw)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '<source>'
  }
}

/** `text` with every appearance of the source URL (as given, and as ffmpeg got it) redacted. */
export function redactSourceText (text: string, raw: string, src: PullSource): string {
  const safe = redactSourceUrl(raw)
  return text.replaceAll(raw, safe).replaceAll(src.input, safe)
}
