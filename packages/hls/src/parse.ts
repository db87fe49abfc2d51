import { PlaylistParseError } from './errors.js'
import { parseAttributeList } from './format.js'
import type { PlaylistSegment } from './media.js'
import type { Variant } from './master.js'

/** Result of {@link parseMediaPlaylist}. */
export interface ParsedMediaPlaylist {
  version: number | undefined
  /** `#EXT-X-TARGETDURATION` (required). */
  targetDuration: number
  /** `#EXT-X-MEDIA-SEQUENCE`, 0 when absent. */
  mediaSequence: number
  /** `#EXT-X-DISCONTINUITY-SEQUENCE`, 0 when absent. */
  discontinuitySequence: number
  /** `#EXT-X-ENDLIST` present. */
  ended: boolean
  independentSegments: boolean
  /** Segments with `seq` = media sequence + index; optional flags only when set. */
  segments: PlaylistSegment[]
}

/** Result of {@link parseMasterPlaylist}. */
export interface ParsedMasterPlaylist {
  independentSegments: boolean
  /** Variants in document order. */
  variants: Variant[]
}

function splitLines (text: string): string[] {
  if (typeof text !== 'string') throw new PlaylistParseError('playlist must be a string')
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map(l => l.trim())
  if (lines[0] !== '#EXTM3U') throw new PlaylistParseError('not an HLS playlist: missing #EXTM3U header', 1)
  return lines
}

function tagValue (line: string, tag: string): string | undefined {
  return line.startsWith(tag + ':') ? line.slice(tag.length + 1) : undefined
}

function int (value: string, what: string, line: number): number {
  if (!/^\d+$/.test(value)) throw new PlaylistParseError(`${what}: expected a decimal integer, got ${JSON.stringify(value)}`, line)
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new PlaylistParseError(`${what}: integer too large`, line)
  return n
}

function float (value: string, what: string, line: number): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new PlaylistParseError(`${what}: expected a decimal number, got ${JSON.stringify(value)}`, line)
  return Number(value)
}

/**
 * Minimal media playlist parser: enough to read what
 * {@link renderMediaPlaylist} writes (and typical live playlists). Unknown
 * tags are ignored. Throws {@link PlaylistParseError} for non-playlists,
 * master playlists, a missing target duration or malformed values.
 */
export function parseMediaPlaylist (text: string): ParsedMediaPlaylist {
  const lines = splitLines(text)
  const out: ParsedMediaPlaylist = {
    version: undefined,
    targetDuration: NaN,
    mediaSequence: 0,
    discontinuitySequence: 0,
    ended: false,
    independentSegments: false,
    segments: []
  }
  let pending: { durationSec?: number, pdtMs?: number, discontinuity?: boolean, gap?: boolean } = {}
  let v: string | undefined
  let map: string | undefined
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const n = i + 1
    if (line === '') continue
    if (line.startsWith('#EXT-X-STREAM-INF')) throw new PlaylistParseError('this is a master playlist, not a media playlist', n)
    if ((v = tagValue(line, '#EXT-X-VERSION')) !== undefined) out.version = int(v, 'EXT-X-VERSION', n)
    else if ((v = tagValue(line, '#EXT-X-TARGETDURATION')) !== undefined) out.targetDuration = int(v, 'EXT-X-TARGETDURATION', n)
    else if ((v = tagValue(line, '#EXT-X-MEDIA-SEQUENCE')) !== undefined) {
      if (out.segments.length > 0) throw new PlaylistParseError('EXT-X-MEDIA-SEQUENCE after the first segment', n)
      out.mediaSequence = int(v, 'EXT-X-MEDIA-SEQUENCE', n)
    } else if ((v = tagValue(line, '#EXT-X-DISCONTINUITY-SEQUENCE')) !== undefined) {
      out.discontinuitySequence = int(v, 'EXT-X-DISCONTINUITY-SEQUENCE', n)
    } else if ((v = tagValue(line, '#EXTINF')) !== undefined) {
      pending.durationSec = float(v.split(',')[0]?.trim() ?? '', 'EXTINF', n)
    } else if ((v = tagValue(line, '#EXT-X-PROGRAM-DATE-TIME')) !== undefined) {
      const ms = Date.parse(v)
      if (Number.isNaN(ms)) throw new PlaylistParseError(`EXT-X-PROGRAM-DATE-TIME: invalid date ${JSON.stringify(v)}`, n)
      pending.pdtMs = ms
    } else if ((v = tagValue(line, '#EXT-X-MAP')) !== undefined) {
      map = parseAttributeList(v).get('URI')
      if (map === undefined || map === '') throw new PlaylistParseError('EXT-X-MAP without URI', n)
    } else if (line === '#EXT-X-DISCONTINUITY') pending.discontinuity = true
    else if (line === '#EXT-X-GAP') pending.gap = true
    else if (line === '#EXT-X-ENDLIST') out.ended = true
    else if (line === '#EXT-X-INDEPENDENT-SEGMENTS') out.independentSegments = true
    else if (line.startsWith('#')) continue
    else {
      if (pending.durationSec === undefined) throw new PlaylistParseError(`segment URI ${JSON.stringify(line)} without #EXTINF`, n)
      const seg: PlaylistSegment = { seq: out.mediaSequence + out.segments.length, durationSec: pending.durationSec, uri: line }
      if (pending.pdtMs !== undefined) seg.pdtMs = pending.pdtMs
      if (pending.discontinuity === true) seg.discontinuity = true
      if (pending.gap === true) seg.gap = true
      if (map !== undefined) seg.map = map
      out.segments.push(seg)
      pending = {}
    }
  }
  if (Number.isNaN(out.targetDuration)) throw new PlaylistParseError('not a media playlist: missing #EXT-X-TARGETDURATION')
  return out
}

/**
 * Minimal master playlist parser for what {@link renderMasterPlaylist}
 * writes. Attributes that are absent parse as `0` (width, height) or `''`
 * (codecs, name); `BANDWIDTH` is required. Throws {@link PlaylistParseError}
 * for non-playlists and media playlists.
 */
export function parseMasterPlaylist (text: string): ParsedMasterPlaylist {
  const lines = splitLines(text)
  const out: ParsedMasterPlaylist = { independentSegments: false, variants: [] }
  let attrs: Map<string, string> | undefined
  let attrsLine = 0
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const n = i + 1
    if (line === '') continue
    if (line.startsWith('#EXTINF') || line.startsWith('#EXT-X-TARGETDURATION')) {
      throw new PlaylistParseError('this is a media playlist, not a master playlist', n)
    }
    const v = tagValue(line, '#EXT-X-STREAM-INF')
    if (v !== undefined) {
      attrs = parseAttributeList(v)
      attrsLine = n
    } else if (line === '#EXT-X-INDEPENDENT-SEGMENTS') out.independentSegments = true
    else if (line.startsWith('#')) continue
    else {
      if (attrs === undefined) throw new PlaylistParseError(`URI ${JSON.stringify(line)} without #EXT-X-STREAM-INF`, n)
      const bw = attrs.get('BANDWIDTH')
      if (bw === undefined) throw new PlaylistParseError('EXT-X-STREAM-INF without BANDWIDTH', attrsLine)
      const variant: Variant = {
        uri: line,
        bandwidth: int(bw, 'BANDWIDTH', attrsLine),
        width: 0,
        height: 0,
        codecs: attrs.get('CODECS') ?? '',
        name: attrs.get('NAME') ?? ''
      }
      const avg = attrs.get('AVERAGE-BANDWIDTH')
      if (avg !== undefined) variant.averageBandwidth = int(avg, 'AVERAGE-BANDWIDTH', attrsLine)
      const res = attrs.get('RESOLUTION')
      if (res !== undefined) {
        const m = /^(\d+)x(\d+)$/.exec(res)
        if (m === null) throw new PlaylistParseError(`RESOLUTION: expected WxH, got ${JSON.stringify(res)}`, attrsLine)
        variant.width = Number(m[1])
        variant.height = Number(m[2])
      }
      const fr = attrs.get('FRAME-RATE')
      if (fr !== undefined) variant.frameRate = float(fr, 'FRAME-RATE', attrsLine)
      out.variants.push(variant)
      attrs = undefined
    }
  }
  if (out.variants.length === 0) throw new PlaylistParseError('not a master playlist: no #EXT-X-STREAM-INF variants')
  return out
}
