import { renderMediaPlaylist } from '@diststream/hls'
import { cmafInfo, entryUris } from './cmaf.js'
import { MAX_DVR_SEGMENTS, MAX_INIT_CANDIDATES } from './constants.js'
import type { CmafSegmentInfo, InitInfo } from './cmaf.js'
import type { PlaylistSegment } from '@diststream/hls'
import type { SegmentAnnounce } from '@diststream/protocol'

/** What the edge remembers of one segment for DVR, VOD and DASH. */
export interface HistoryEntry {
  durationSec: number
  pdtMs: number
  discontinuity: boolean
  /** Renditions this edge can serve (a failed fetch removes its rendition). */
  renditions: Set<string>
  cmaf: CmafSegmentInfo
}

export interface DvrHistoryInit {
  /** The stream's renditions are fragmented MP4: gaps are `gap-<seq>.m4s`, else `gap-<seq>.ts`. */
  cmaf: boolean
  /** Segments remembered, and the longest list built. Default {@link MAX_DVR_SEGMENTS}. */
  maxSegments?: number
}

/**
 * Every segment one followed stream's edge heard of (index and gossip), for
 * the DVR playlist once the stream ends, the VOD playlist and the DASH
 * manifest: one list builder for all three. Pure and bounded: it holds at
 * most `maxSegments` entries (the oldest seq goes first), and a list spans
 * at most `maxSegments` seqs ending at the newest, whatever seqs a peer
 * announced (seq 0 and 2^53 do not make a 2^53-entry loop).
 */
export class DvrHistory {
  readonly #entries = new Map<number, HistoryEntry>()
  readonly #cmaf: boolean
  readonly #max: number

  constructor (init: DvrHistoryInit) {
    this.#cmaf = init.cmaf
    this.#max = init.maxSegments ?? MAX_DVR_SEGMENTS
  }

  get size (): number { return this.#entries.size }

  /** Every remembered segment, by seq. */
  entries (): IterableIterator<[number, HistoryEntry]> {
    return this.#entries.entries()
  }

  get (seq: number): HistoryEntry | undefined {
    return this.#entries.get(seq)
  }

  /** Takes in a segment (the first announcement of a seq wins); past the bound, forgets the oldest seq. */
  remember (seg: SegmentAnnounce): void {
    if (this.#entries.has(seg.seq)) return
    this.#entries.set(seg.seq, { durationSec: seg.durationMs / 1000, pdtMs: seg.pdtMs, discontinuity: seg.discontinuity, renditions: new Set(seg.renditions.map(r => r.name)), cmaf: cmafInfo(seg) })
    if (this.#entries.size > this.#max) this.#entries.delete(Math.min(...this.#entries.keys()))
  }

  /** This edge could not get `rendition` of `seq`: lists show it as a gap. */
  dropRendition (seq: number, rendition: string): void {
    this.#entries.get(seq)?.renditions.delete(rendition)
  }

  /**
   * One rendition's list, contiguous from the oldest to the newest seq held
   * (at most `maxSegments` of them, the newest): a seq not heard of, or
   * without this rendition, is a gap `gap-<seq>.<ext>` (the stream's own
   * segment extension), lasting as long as the entry before it, else the
   * stream's target duration.
   */
  segments (rendition: string, opts: { targetDurationSec: number }): PlaylistSegment[] {
    if (this.#entries.size === 0) return []
    let first = Infinity
    let last = -Infinity
    for (const seq of this.#entries.keys()) {
      if (seq < first) first = seq
      if (seq > last) last = seq
    }
    first = Math.max(first, last - this.#max + 1)
    const ext = this.#cmaf ? 'm4s' : 'ts'
    const out: PlaylistSegment[] = []
    for (let seq = first; seq <= last; seq++) {
      const h = this.#entries.get(seq)
      const prev = out.at(-1)
      if (h == null) {
        out.push({ seq, durationSec: prev?.durationSec ?? opts.targetDurationSec, uri: `gap-${seq}.${ext}`, gap: true })
        continue
      }
      const seg: PlaylistSegment = { seq, durationSec: h.durationSec, ...entryUris(seq, h.cmaf.inits.get(rendition), this.#cmaf), pdtMs: h.pdtMs, discontinuity: h.discontinuity, gap: !h.renditions.has(rendition) }
      if (seg.gap === true) seg.uri = `gap-${seq}.${ext}`
      out.push(seg)
    }
    return out
  }

  /**
   * An ended stream's media playlist (DVR), or a VOD's: every segment this
   * edge heard of (not just the live window), those it cannot serve marked
   * `EXT-X-GAP`, then `EXT-X-ENDLIST`.
   */
  playlist (rendition: string, opts: { targetDurationSec: number, vod: boolean }): string {
    // A VOD (a file transcoded at once) says so; an ended live stream (DVR) is just ended.
    return renderMediaPlaylist({ segments: this.segments(rendition, opts), ended: true, targetDurationSec: opts.targetDurationSec, ...(this.#cmaf ? { version: 7 } : {}), ...(opts.vod ? { playlistType: 'VOD' as const } : {}) })
  }

  /** The newest held segments (at most `MAX_INIT_CANDIDATES`) of `rendition` announced with an init whose sha256 starts with `prefix`, newest first. */
  initCandidates (rendition: string, prefix: string): Array<{ seq: number, init: InitInfo }> {
    const out: Array<{ seq: number, init: InitInfo }> = []
    for (const [seq, h] of this.#entries) {
      const init = h.cmaf.inits.get(rendition)
      if (init == null || !init.sha.startsWith(prefix) || !h.renditions.has(rendition)) continue
      out.push({ seq, init })
    }
    return out.sort((a, b) => b.seq - a.seq).slice(0, MAX_INIT_CANDIDATES)
  }
}
