/**
 * Which segment a thumbnail is made from (pure): the smallest video
 * rendition (cheapest to fetch and decode; a thumbnail is 320 px wide
 * anyway) of the newest segment this edge holds it for, or, for a VOD, a
 * poster frame a tenth of the way in (the first frame is often black).
 * Candidates come in order of preference: when one cannot be had, the
 * caller tries the next.
 */
import { MAX_THUMBNAIL_CANDIDATES, VOD_POSTER_POSITION } from './constants.js'

export interface ThumbnailCandidate {
  seq: number
  rendition: string
  width: number
  height: number
}

interface VideoRendition { name: string, width: number, height: number }

export function thumbnailCandidates (
  held: Iterable<[number, { renditions: ReadonlySet<string> }]>,
  renditions: Iterable<VideoRendition>,
  opts: { vod: boolean }
): ThumbnailCandidate[] {
  // Audio renditions have no picture (width 0).
  const video = [...renditions].filter(r => r.width > 0 && r.height > 0).sort((a, b) => a.width * a.height - b.width * b.height)
  if (video.length === 0) return []
  const seqs = [...held].sort((a, b) => a[0] - b[0])
  // Live (and DVR): newest first. VOD: from the poster position on, then what lies before it.
  const at = opts.vod ? Math.floor(seqs.length * VOD_POSTER_POSITION) : 0
  const ordered = opts.vod ? [...seqs.slice(at), ...seqs.slice(0, at).reverse()] : seqs.reverse()
  const out: ThumbnailCandidate[] = []
  for (const [seq, h] of ordered) {
    const r = video.find(v => h.renditions.has(v.name))
    if (r == null) continue
    out.push({ seq, rendition: r.name, width: r.width, height: r.height })
    if (out.length >= MAX_THUMBNAIL_CANDIDATES) break
  }
  return out
}
