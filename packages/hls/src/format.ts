import { PlaylistValidationError } from './errors.js'

/** Formats epoch milliseconds as ISO 8601 UTC with milliseconds: `2024-05-01T12:00:00.000Z`. */
export function formatProgramDateTime (ms: number): string {
  if (!Number.isFinite(ms)) throw new PlaylistValidationError(`invalid program date-time: ${ms}`)
  const d = new Date(Math.round(ms))
  if (Number.isNaN(d.getTime())) throw new PlaylistValidationError(`program date-time out of range: ${ms}`)
  return d.toISOString()
}

/** Rounds a duration to the millisecond, the precision `#EXTINF` is written with. */
export function roundDuration (sec: number): number {
  return Math.round(sec * 1000) / 1000
}

/** `#EXTINF` value: seconds with exactly three decimals. */
export function formatDuration (sec: number): string {
  return roundDuration(sec).toFixed(3)
}

/** Target duration needed for a segment: its *rendered* duration rounded up. */
export function targetDurationFor (sec: number): number {
  return Math.ceil(roundDuration(sec))
}

/** Throws unless `uri` can be written as a playlist URI line. */
export function checkUri (uri: unknown, what: string): asserts uri is string {
  if (typeof uri !== 'string' || uri.length === 0 || /[\r\n]/.test(uri) || uri.startsWith('#') || uri.trim() !== uri) {
    throw new PlaylistValidationError(`${what}: invalid URI ${JSON.stringify(uri)}`)
  }
}

/** Throws unless `value` can be written inside an attribute quoted-string. */
export function checkQuoted (value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || /["\r\n]/.test(value)) {
    throw new PlaylistValidationError(`${what}: invalid quoted-string ${JSON.stringify(value)}`)
  }
}

export function isNonNegativeInt (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/**
 * Parses an attribute list (`BANDWIDTH=1,CODECS="a,b",RESOLUTION=1x1`).
 * Quoted values are returned without their quotes.
 */
export function parseAttributeList (text: string): Map<string, string> {
  const out = new Map<string, string>()
  const re = /\s*([A-Z0-9-]+)=("[^"\r\n]*"|[^,]*)\s*(?:,|$)/gy
  let m: RegExpExecArray | null
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    const raw = m[2] ?? ''
    out.set(m[1] ?? '', raw.startsWith('"') ? raw.slice(1, -1) : raw.trim())
    if (m[0].length === 0) break
  }
  return out
}
