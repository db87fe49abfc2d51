/**
 * Thumbnails (issue 16): `GET /live/:id/thumbnail.jpg` on an edge. Made here,
 * from the smallest rendition of the newest segment the edge holds (already
 * verified against the ingest's sha256), by one pinned ffmpeg run that decodes
 * one keyframe (`makeThumbnail`, ~0.1 s); not by workers, whose JPEG would
 * cost a run per segment whether anyone looks or not, and would need its own
 * verification on the wire. Per stream: one run at a time (single-flight),
 * the JPEG kept for {@link THUMBNAIL_MAX_AGE_S} (a VOD's or ended stream's
 * poster longer), and a run only when the source segment changed. Over every
 * stream: at most {@link MAX_THUMBNAIL_RUNS} ffmpeg at once (more: 503), and
 * at most {@link MAX_THUMBNAIL_STREAMS} JPEGs kept.
 */
import { createHash } from 'node:crypto'
import { SingleFlight, systemClock } from '@diststream/util'
import { HttpError } from './errors.js'
import type { ThumbnailSource } from '@diststream/edge'
import type { Clock } from '@diststream/util'

/** How long a live stream's thumbnail is served (and may be cached by a CDN) before it is made again: a few seconds, about a segment. */
export const THUMBNAIL_MAX_AGE_S = 5
/** A VOD's poster, or an ended stream's last picture, does not change: cached this long. */
export const POSTER_MAX_AGE_S = 300
/** ffmpeg thumbnail runs at once over every stream: each is ~0.1 s of a core; viewers choose which streams they ask for. */
export const MAX_THUMBNAIL_RUNS = 2
/** Streams whose JPEG is kept (a few KB each); the least recently asked goes first. */
export const MAX_THUMBNAIL_STREAMS = 256

export interface Thumbnail {
  jpeg: Buffer
  /** Strong: the JPEG's own hash. */
  etag: string
  maxAgeS: number
  madeAt: number
  /** The source segment's ETag: the same segment is not decoded again. */
  sourceEtag: string
}

export interface ThumbnailsInit {
  source: (streamId: string) => Promise<ThumbnailSource>
  make: (src: ThumbnailSource) => Promise<Buffer>
  clock?: Pick<Clock, 'now'>
  maxRuns?: number
  maxStreams?: number
  /** Counts each outcome: cached, remade (a new picture), unchanged (same segment), busy (over maxRuns), failed. */
  onOutcome?: (outcome: 'cached' | 'made' | 'unchanged' | 'busy' | 'failed') => void
}

export class Thumbnails {
  readonly #init: ThumbnailsInit
  readonly #clock: Pick<Clock, 'now'>
  readonly #kept = new Map<string, Thumbnail>()
  readonly #flights = new SingleFlight<Thumbnail>()
  #running = 0

  constructor (init: ThumbnailsInit) {
    this.#init = init
    this.#clock = init.clock ?? systemClock
  }

  get kept (): number { return this.#kept.size }

  /** The stream's thumbnail: kept while fresh, else made again (once, however many ask). */
  async get (streamId: string): Promise<Thumbnail> {
    const kept = this.#kept.get(streamId)
    if (kept != null && this.#clock.now() - kept.madeAt < kept.maxAgeS * 1000) {
      this.#init.onOutcome?.('cached')
      this.#keep(streamId, kept)
      return kept
    }
    return await this.#flights.do(streamId, async () => await this.#refresh(streamId, kept))
  }

  async #refresh (streamId: string, old: Thumbnail | undefined): Promise<Thumbnail> {
    const src = await this.#init.source(streamId)
    const maxAgeS = src.vod || src.ended ? POSTER_MAX_AGE_S : THUMBNAIL_MAX_AGE_S
    const sourceEtag = `${src.rendition}:${src.etag}`
    if (old != null && old.sourceEtag === sourceEtag) {
      this.#init.onOutcome?.('unchanged')
      return this.#keep(streamId, { ...old, madeAt: this.#clock.now(), maxAgeS })
    }
    if (this.#running >= (this.#init.maxRuns ?? MAX_THUMBNAIL_RUNS)) {
      this.#init.onOutcome?.('busy')
      throw new HttpError(503, 'too many thumbnails being made at once; retry shortly')
    }
    this.#running++
    let jpeg: Buffer
    try {
      jpeg = await this.#init.make(src)
    } catch (err) {
      this.#init.onOutcome?.('failed')
      throw err
    } finally {
      this.#running--
    }
    this.#init.onOutcome?.('made')
    const etag = `"${createHash('sha256').update(jpeg).digest('hex').slice(0, 32)}"`
    return this.#keep(streamId, { jpeg, etag, maxAgeS, madeAt: this.#clock.now(), sourceEtag })
  }

  /** Keeps `t` as the most recently asked (bounded: the least recently asked stream goes). */
  #keep (streamId: string, t: Thumbnail): Thumbnail {
    this.#kept.delete(streamId)
    this.#kept.set(streamId, t)
    if (this.#kept.size > (this.#init.maxStreams ?? MAX_THUMBNAIL_STREAMS)) this.#kept.delete(this.#kept.keys().next().value!)
    return t
  }
}
