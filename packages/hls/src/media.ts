import { PlaylistValidationError } from './errors.js'
import {
  checkQuoted, checkUri, formatDuration, formatProgramDateTime, isNonNegativeInt, targetDurationFor
} from './format.js'

/** One media segment of a media playlist. */
export interface PlaylistSegment {
  /** Media sequence number. Consecutive segments have consecutive numbers. */
  seq: number
  /** Duration in seconds (written as `#EXTINF` with three decimals). */
  durationSec: number
  /** Segment URI, relative to the playlist or absolute. */
  uri: string
  /** Wall-clock time of the first sample, epoch milliseconds (`#EXT-X-PROGRAM-DATE-TIME`). */
  pdtMs?: number
  /** Emit `#EXT-X-DISCONTINUITY` before this segment. */
  discontinuity?: boolean
  /** The segment is unavailable (`#EXT-X-GAP`); clients must not load its URI. */
  gap?: boolean
  /**
   * URI of the segment's media initialization section (fMP4/CMAF): `#EXT-X-MAP:URI="..."` is
   * written before the first segment that has one and again wherever it changes (needs
   * `version` >= 6; fMP4 playlists use 7).
   */
  map?: string
}

export interface MediaPlaylistOptions {
  /** Contiguous (in `seq`) segments, oldest first. May be empty. */
  segments: readonly PlaylistSegment[]
  /** Append `#EXT-X-ENDLIST` (the stream is over). */
  ended: boolean
  /**
   * Lower bound of `#EXT-X-TARGETDURATION`. The written value is
   * `max(targetDurationSec, ceil(max EXTINF))`. Pass the configured segment
   * length so the value stays stable as the window slides (RFC 8216 forbids
   * changing it). Default 1 when there are no segments.
   */
  targetDurationSec?: number
  /** `#EXT-X-DISCONTINUITY-SEQUENCE`, written only when nonzero. Default 0. */
  discontinuitySequence?: number
  /** `#EXT-X-VERSION`, at least 3 (float EXTINF). Default 3. */
  version?: number
  /**
   * `#EXT-X-MEDIA-SEQUENCE` for an empty playlist (default 0). When segments
   * are given it must equal the first seq (or be omitted).
   */
  mediaSequence?: number
  /**
   * `#EXT-X-PLAYLIST-TYPE`. `'VOD'` needs `ended` (a VOD playlist never
   * changes) and a playlist that starts at the first segment of the stream
   * (no sliding window); `'EVENT'` is a playlist that only grows.
   */
  playlistType?: 'VOD' | 'EVENT'
  /**
   * `#EXT-X-SERVER-CONTROL` (RFC 8216bis §4.4.3.8), for a server that
   * answers blocking playlist reloads (`_HLS_msn`). `HOLD-BACK` is written as
   * `max(holdBackSec, 3 × the written TARGETDURATION)`: the spec requires at
   * least three target durations, and the written target can exceed the
   * configured one when a segment ran long.
   */
  serverControl?: ServerControl
}

/** What `#EXT-X-SERVER-CONTROL` advertises. */
export interface ServerControl {
  /** `CAN-BLOCK-RELOAD=YES`: the server holds `_HLS_msn` requests until that segment is listed. */
  canBlockReload: boolean
  /** Suggested distance from the live edge to start playback (s); raised to 3 × target duration. */
  holdBackSec?: number
}

/** The `#EXT-X-SERVER-CONTROL` line for a playlist whose written target duration is `targetSec`. */
export function renderServerControl (sc: ServerControl, targetSec: number): string {
  if (sc.holdBackSec !== undefined && !(Number.isFinite(sc.holdBackSec) && sc.holdBackSec >= 0)) {
    throw new PlaylistValidationError(`serverControl.holdBackSec must be a non-negative number, got ${sc.holdBackSec}`)
  }
  const holdBack = Math.max(sc.holdBackSec ?? 0, 3 * targetSec)
  const attrs = [...(sc.canBlockReload ? ['CAN-BLOCK-RELOAD=YES'] : []), `HOLD-BACK=${formatDuration(holdBack)}`]
  return `#EXT-X-SERVER-CONTROL:${attrs.join(',')}`
}

/** Throws {@link PlaylistValidationError} unless `s` is a well-formed segment. */
export function validateSegment (s: PlaylistSegment, what = 'segment'): void {
  if (s === null || typeof s !== 'object') throw new PlaylistValidationError(`${what}: not an object`)
  if (!isNonNegativeInt(s.seq)) throw new PlaylistValidationError(`${what}: seq must be a non-negative integer, got ${s.seq}`)
  const at = `${what} seq ${s.seq}`
  if (typeof s.durationSec !== 'number' || !Number.isFinite(s.durationSec) || s.durationSec <= 0) {
    throw new PlaylistValidationError(`${at}: durationSec must be a positive number, got ${s.durationSec}`)
  }
  checkUri(s.uri, at)
  if (s.map !== undefined) {
    checkUri(s.map, `${at} map`)
    checkQuoted(s.map, `${at} map`)
  }
  if (s.pdtMs !== undefined) formatProgramDateTime(s.pdtMs)
}

/**
 * Renders a live (or ended) media playlist, RFC 8216.
 *
 * Segments must be contiguous in `seq`: a hole is rejected with
 * {@link PlaylistValidationError}, never renumbered or silently skipped. A
 * segment that will never exist must be passed explicitly with `gap: true`
 * ({@link LiveWindow} does this for you).
 */
export function renderMediaPlaylist (opts: MediaPlaylistOptions): string {
  const { segments, ended } = opts
  const version = opts.version ?? 3
  const discontinuitySequence = opts.discontinuitySequence ?? 0
  if (!Number.isInteger(version) || version < 3) throw new PlaylistValidationError(`version must be an integer >= 3, got ${version}`)
  if (!isNonNegativeInt(discontinuitySequence)) {
    throw new PlaylistValidationError(`discontinuitySequence must be a non-negative integer, got ${discontinuitySequence}`)
  }
  if (opts.targetDurationSec !== undefined && !(Number.isFinite(opts.targetDurationSec) && opts.targetDurationSec > 0)) {
    throw new PlaylistValidationError(`targetDurationSec must be a positive number, got ${opts.targetDurationSec}`)
  }
  if (opts.mediaSequence !== undefined && !isNonNegativeInt(opts.mediaSequence)) {
    throw new PlaylistValidationError(`mediaSequence must be a non-negative integer, got ${opts.mediaSequence}`)
  }

  if (opts.playlistType !== undefined && opts.playlistType !== 'VOD' && opts.playlistType !== 'EVENT') {
    throw new PlaylistValidationError(`playlistType must be 'VOD' or 'EVENT', got ${String(opts.playlistType)}`)
  }
  if (opts.playlistType === 'VOD' && !ended) throw new PlaylistValidationError('a VOD playlist must be ended')

  let target = opts.targetDurationSec === undefined ? 0 : Math.ceil(opts.targetDurationSec)
  segments.forEach((s, i) => {
    validateSegment(s)
    const prev = segments[i - 1]
    if (prev !== undefined && s.seq !== prev.seq + 1) {
      throw new PlaylistValidationError(
        `segments must be contiguous: expected seq ${prev.seq + 1} after ${prev.seq}, got ${s.seq} ` +
        '(pass missing segments explicitly with gap: true)')
    }
    target = Math.max(target, targetDurationFor(s.durationSec))
  })
  if (version < 6 && segments.some(s => s.map !== undefined)) throw new PlaylistValidationError(`EXT-X-MAP (segments with map) needs version >= 6, got ${version}`)
  const first = segments[0]
  if (first !== undefined && opts.mediaSequence !== undefined && opts.mediaSequence !== first.seq) {
    throw new PlaylistValidationError(`mediaSequence ${opts.mediaSequence} does not match first segment seq ${first.seq}`)
  }

  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${version}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-TARGETDURATION:${Math.max(target, 1)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first?.seq ?? opts.mediaSequence ?? 0}`
  ]
  if (opts.serverControl !== undefined) lines.push(renderServerControl(opts.serverControl, Math.max(target, 1)))
  if (discontinuitySequence !== 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`)
  if (opts.playlistType !== undefined) lines.push(`#EXT-X-PLAYLIST-TYPE:${opts.playlistType}`)
  let map: string | undefined
  for (const s of segments) {
    if (s.discontinuity === true) lines.push('#EXT-X-DISCONTINUITY')
    if (s.map !== undefined && s.map !== map) {
      map = s.map
      lines.push(`#EXT-X-MAP:URI="${map}"`)
    }
    if (s.pdtMs !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${formatProgramDateTime(s.pdtMs)}`)
    lines.push(`#EXTINF:${formatDuration(s.durationSec)},`)
    if (s.gap === true) lines.push('#EXT-X-GAP')
    lines.push(s.uri)
  }
  if (ended) lines.push('#EXT-X-ENDLIST')
  return lines.join('\n') + '\n'
}
