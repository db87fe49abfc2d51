import { PlaylistValidationError } from './errors.js'
import { checkQuoted, checkUri } from './format.js'

/** One rendition of a master (multivariant) playlist. */
export interface Variant {
  /** URI of the variant's media playlist. */
  uri: string
  /** Peak bits per second (`BANDWIDTH`). Non-integers are rounded up. */
  bandwidth: number
  /** Average bits per second (`AVERAGE-BANDWIDTH`), optional. */
  averageBandwidth?: number
  /** Pixels; 0 (and `height` 0) for an audio-only variant, which gets no `RESOLUTION`. */
  width: number
  height: number
  /** RFC 6381 codecs string, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string
  /** Maximum frame rate (`FRAME-RATE`, three decimals), optional. */
  frameRate?: number
  /** Human-readable rendition name (`NAME`, e.g. `720p`). */
  name: string
  /** `AUDIO` group id: the variant plays with that group's `#EXT-X-MEDIA` audio rendition (demuxed, e.g. CMAF). */
  audio?: string
}

/** An alternative audio rendition (`#EXT-X-MEDIA:TYPE=AUDIO`), referenced by variants' `audio` group. */
export interface AudioMedia {
  groupId: string
  name: string
  /** URI of its media playlist. */
  uri: string
}

function positive (n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new PlaylistValidationError(`${what} must be a positive number, got ${String(n)}`)
  }
  return n
}

function validateVariant (v: Variant, i: number): void {
  const at = `variant ${i} (${JSON.stringify(v?.name)})`
  if (v === null || typeof v !== 'object') throw new PlaylistValidationError(`variant ${i}: not an object`)
  checkUri(v.uri, at)
  positive(v.bandwidth, `${at}: bandwidth`)
  if (v.averageBandwidth !== undefined) positive(v.averageBandwidth, `${at}: averageBandwidth`)
  // 0x0: an audio-only variant (no RESOLUTION).
  const audioOnly = v.width === 0 && v.height === 0
  if (!audioOnly && (!Number.isSafeInteger(v.width) || v.width <= 0 || !Number.isSafeInteger(v.height) || v.height <= 0)) {
    throw new PlaylistValidationError(`${at}: width and height must be positive integers (or both 0: audio only), got ${v.width}x${v.height}`)
  }
  checkQuoted(v.codecs, `${at}: codecs`)
  if (v.codecs.length === 0) throw new PlaylistValidationError(`${at}: codecs must not be empty`)
  if (v.frameRate !== undefined) positive(v.frameRate, `${at}: frameRate`)
  checkQuoted(v.name, `${at}: name`)
  if (v.audio !== undefined) checkQuoted(v.audio, `${at}: audio`)
}

/**
 * Renders a master (multivariant) playlist with one `#EXT-X-STREAM-INF` per
 * variant, highest `bandwidth` first (ties keep their input order);
 * `#EXT-X-VERSION` when `opts.version` is given (7 for fMP4 renditions).
 *
 * Attribute order: `BANDWIDTH`, `AVERAGE-BANDWIDTH`, `RESOLUTION`, `CODECS`,
 * `FRAME-RATE`, `NAME`. (`NAME` is not defined for STREAM-INF by RFC 8216;
 * players ignore unknown attributes, and it labels renditions for humans and
 * for {@link parseMasterPlaylist}.)
 */
export function renderMasterPlaylist (variants: readonly Variant[], opts: { version?: number, audio?: readonly AudioMedia[] } = {}): string {
  if (!Array.isArray(variants) || variants.length === 0) {
    throw new PlaylistValidationError('a master playlist needs at least one variant')
  }
  if (opts.version !== undefined && (!Number.isInteger(opts.version) || opts.version < 1)) {
    throw new PlaylistValidationError(`version must be a positive integer, got ${opts.version}`)
  }
  variants.forEach(validateVariant)
  const audio = opts.audio ?? []
  audio.forEach((a, i) => {
    checkQuoted(a.groupId, `audio ${i}: groupId`)
    checkQuoted(a.name, `audio ${i}: name`)
    checkUri(a.uri, `audio ${i}`)
    checkQuoted(a.uri, `audio ${i}: uri`)
  })
  for (const v of variants) {
    if (v.audio !== undefined && !audio.some(a => a.groupId === v.audio)) throw new PlaylistValidationError(`variant ${JSON.stringify(v.name)}: no audio group ${JSON.stringify(v.audio)}`)
  }
  const sorted = [...variants].sort((a, b) => b.bandwidth - a.bandwidth)
  const lines = ['#EXTM3U', ...(opts.version !== undefined ? [`#EXT-X-VERSION:${opts.version}`] : []), '#EXT-X-INDEPENDENT-SEGMENTS']
  // The first audio rendition of each group is its default.
  audio.forEach((a, i) => {
    const first = audio.findIndex(x => x.groupId === a.groupId) === i
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${a.groupId}",NAME="${a.name}",DEFAULT=${first ? 'YES' : 'NO'},AUTOSELECT=YES,URI="${a.uri}"`)
  })
  for (const v of sorted) {
    const attrs = [`BANDWIDTH=${Math.ceil(v.bandwidth)}`]
    if (v.averageBandwidth !== undefined) attrs.push(`AVERAGE-BANDWIDTH=${Math.ceil(v.averageBandwidth)}`)
    if (v.width > 0) attrs.push(`RESOLUTION=${v.width}x${v.height}`)
    attrs.push(`CODECS="${v.codecs}"`)
    if (v.frameRate !== undefined) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`)
    if (v.audio !== undefined) attrs.push(`AUDIO="${v.audio}"`)
    attrs.push(`NAME="${v.name}"`)
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri)
  }
  return lines.join('\n') + '\n'
}
