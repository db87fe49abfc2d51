/**
 * Restream output URLs (pure): which may be given, and how one is shown to
 * someone without the API token (the stream key redacted).
 */

/** Schemes an output may use: RTMP(S) platforms (YouTube, Twitch, …) and SRT. */
export const OUTPUT_SCHEMES = ['rtmp:', 'rtmps:', 'srt:'] as const
/** Longest output URL accepted (a platform URL with its key is ~150 characters). */
export const MAX_OUTPUT_URL_LENGTH = 2048
/** What a redacted secret reads as. */
export const REDACTED = '***'

export class OutputUrlError extends Error {
  static readonly NAME = 'OutputUrlError'
  override name = OutputUrlError.NAME
  readonly statusCode = 400
}

/** The container ffmpeg writes to an output: FLV over RTMP(S), MPEG-TS over SRT. */
export function outputFormat (url: string): 'flv' | 'mpegts' {
  return url.startsWith('srt:') ? 'mpegts' : 'flv'
}

/**
 * Checks an output URL: one of {@link OUTPUT_SCHEMES}, a host, no
 * credentials in the authority, no whitespace or control characters, at most
 * {@link MAX_OUTPUT_URL_LENGTH}. Returns it normalised; throws
 * {@link OutputUrlError} (a 400) with the reason.
 */
export function parseOutputUrl (raw: string): string {
  if (raw.length > MAX_OUTPUT_URL_LENGTH) throw new OutputUrlError(`longer than ${MAX_OUTPUT_URL_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw new OutputUrlError('must not contain whitespace or control characters')
  let u: URL
  try { u = new URL(raw) } catch { throw new OutputUrlError('not a URL') }
  if (!(OUTPUT_SCHEMES as readonly string[]).includes(u.protocol)) throw new OutputUrlError(`scheme must be one of ${OUTPUT_SCHEMES.map(s => s.slice(0, -1)).join(', ')}`)
  if (u.hostname === '') throw new OutputUrlError('needs a host')
  if (u.username !== '' || u.password !== '') throw new OutputUrlError('must not carry credentials before the host')
  if (u.protocol !== 'srt:' && (u.pathname === '' || u.pathname === '/')) throw new OutputUrlError('needs a path: rtmp://host/app/<key>')
  return raw
}

/** Query parameters that carry secrets (SRT's `streamid` and `passphrase`, tokens some platforms add). */
const SECRET_PARAMS = /^(streamid|passphrase|key|token|auth|secret|pass(word)?)$/i

/**
 * The URL as shown without the API token: the last path segment (the
 * stream key on every RTMP platform) and secret query parameters replaced by
 * {@link REDACTED}. The host and app stay, so one can still tell outputs apart.
 */
export function redactOutputUrl (url: string): string {
  let u: URL
  try { u = new URL(url) } catch { return REDACTED }
  const parts = u.pathname.split('/')
  const last = parts.length - 1
  if (last >= 1 && parts[last] !== '') parts[last] = REDACTED
  else if (last >= 2 && parts[last - 1] !== '') parts[last - 1] = REDACTED
  const path = parts.join('/')
  const query = [...u.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${SECRET_PARAMS.test(k) ? REDACTED : encodeURIComponent(v)}`).join('&')
  return `${u.protocol}//${u.host}${path}${query === '' ? '' : `?${query}`}`
}

/** `text` (an ffmpeg error line, say) with every occurrence of `url` and of its key redacted. */
export function redactIn (text: string, url: string): string {
  let out = text.split(url).join(redactOutputUrl(url))
  let key = ''
  try { key = new URL(url).pathname.split('/').filter(p => p !== '').at(-1) ?? '' } catch { /* not a URL: nothing more to hide */ }
  if (key.length >= 4) out = out.split(key).join(REDACTED)
  return out
}
