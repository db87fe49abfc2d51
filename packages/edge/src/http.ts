import rangeParser from 'range-parser'
import type { CachedSegment } from './cache.js'

/** Segments never change once published: any cache may keep them for a year. */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=31536000, immutable'

export const CONTENT_TYPES = {
  m3u8: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  ts: 'video/mp2t',
  m4s: 'video/mp4',
  mp4: 'video/mp4'
} as const

/** Content-Type of an HLS/DASH resource by its extension; undefined for anything else. */
export function contentTypeFor (uri: string): string | undefined {
  const ext = uri.slice(uri.lastIndexOf('.') + 1).toLowerCase()
  return (CONTENT_TYPES as Record<string, string>)[ext]
}

/** CORS for players on other origins (GET/HEAD only; nothing here takes credentials). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range, If-None-Match, If-Range',
  'access-control-expose-headers': 'Content-Length, Content-Range, ETag, Accept-Ranges, Cache-Control',
  'access-control-max-age': '86400'
}

/**
 * `Cache-Control` for a media playlist: live playlists change every segment,
 * so caches may keep them about half a segment; an ended (ENDLIST) playlist
 * never changes again and may be kept as long as the node keeps the stream.
 */
export function playlistCacheControl (o: { ended: boolean, targetDurationSec: number, retentionSec: number }): string {
  if (o.ended) return `public, max-age=${Math.max(1, Math.min(31_536_000, Math.floor(o.retentionSec)))}`
  return `public, max-age=${Math.max(1, Math.floor(o.targetDurationSec / 2))}`
}

export interface SegmentRequest {
  /** The `If-None-Match` header. */
  ifNoneMatch?: string
  /** The `Range` header. */
  range?: string
  /** The `If-Range` header. */
  ifRange?: string
}

export interface SegmentResponse {
  status: 200 | 206 | 304 | 416
  headers: Record<string, string>
  /** The bytes to send (a view, no copy); absent for 304 and 416. */
  body?: Buffer
}

/** Does an `If-None-Match` list match `etag`? (weak comparison, as RFC 9110 §13.1.2 asks) */
export function etagMatches (ifNoneMatch: string, etag: string): boolean {
  const bare = (t: string): string => t.trim().replace(/^W\//, '')
  if (ifNoneMatch.trim() === '*') return true
  return ifNoneMatch.split(',').some(t => bare(t) === bare(etag))
}

/**
 * HTTP semantics of serving one immutable segment (pure): conditional
 * requests (`If-None-Match` → 304), byte ranges (`Range` → 206, or 416 when
 * unsatisfiable; a malformed or multi-range header is ignored and the whole
 * segment sent, which RFC 9110 allows), `If-Range` with the strong ETag.
 */
export function segmentResponse (seg: CachedSegment, contentType: string, req: SegmentRequest): SegmentResponse {
  const size = seg.data.byteLength
  const headers: Record<string, string> = {
    'content-type': contentType,
    'cache-control': SEGMENT_CACHE_CONTROL,
    etag: seg.etag,
    'accept-ranges': 'bytes'
  }
  if (req.ifNoneMatch != null && etagMatches(req.ifNoneMatch, seg.etag)) return { status: 304, headers }
  const rangeApplies = req.range != null && (req.ifRange == null || req.ifRange.trim() === seg.etag)
  if (rangeApplies) {
    const ranges = rangeParser(size, req.range!, { combine: true })
    if (ranges === -1) return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` } }
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
      const { start, end } = ranges[0]!
      return { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` }, body: seg.data.subarray(start, end + 1) }
    }
  }
  return { status: 200, headers, body: seg.data }
}
