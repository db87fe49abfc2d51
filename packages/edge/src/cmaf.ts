import { createHash } from 'node:crypto'
import { DashManifest } from '@diststream/hls'
import type { AudioMedia, MpdRepresentation, PlaylistSegment, Variant } from '@diststream/hls'
import type { Rendition, SegmentAnnounce } from '@diststream/protocol'
import type { CachedSegment } from './cache.js'

/**
 * CMAF (fragmented MP4) delivery at the edge. Each stored rendition segment
 * is its canonical init segment followed by its media segment, verified as
 * one piece against the ingest's sha256; the edge serves the two parts as
 * `init-<8 hex of the init's sha256>.mp4` and `<seq>.m4s`. Renditions of
 * consecutive segments share one init (the ingest makes it canonical), so
 * players fetch it once; where it changes, the HLS playlist writes a new
 * `EXT-X-MAP` and the DASH manifest a new Period.
 */

/** An fMP4 rendition's init, as announced: the first `size` bytes, sha256 `sha` (hex). */
export interface InitInfo { size: number, sha: string }

/** What the edge remembers of each segment for CMAF playlists and manifests. */
export interface CmafSegmentInfo {
  /** First video presentation time, 90 kHz. */
  mediaTime?: number
  /** Per rendition. */
  inits: Map<string, InitInfo>
}

export const INIT_NAME = /^init-([0-9a-f]{8})\.mp4$/

/** A CMAF stream's audio track (no picture, an AAC codec): an `#EXT-X-MEDIA` audio rendition and the DASH audio AdaptationSet. */
export function isAudioRendition (r: Pick<Rendition, 'width' | 'height' | 'codecs'>): boolean {
  return r.width === 0 && r.height === 0 && r.codecs.startsWith('mp4a')
}

/** The HLS audio group of CMAF streams. */
export const AUDIO_GROUP = 'audio'

/**
 * Master playlist inputs for a CMAF stream: video variants that play with
 * the audio rendition (BANDWIDTH and CODECS include it), and that rendition.
 */
export function cmafMaster (renditions: Array<Pick<Rendition, 'name' | 'bandwidth' | 'width' | 'height' | 'codecs'>>): { variants: Variant[], audio: AudioMedia[] } {
  const audio = renditions.find(isAudioRendition)
  const video = renditions.filter(r => !isAudioRendition(r))
  // An audio-only stream (radio, podcasts): its audio playlist is the one variant, no group, no ladder.
  if (video.length === 0 && audio != null) return { variants: [{ uri: `${audio.name}/index.m3u8`, name: audio.name, bandwidth: Math.max(1, audio.bandwidth), width: 0, height: 0, codecs: audio.codecs }], audio: [] }
  const variants = video.map(r => ({
    uri: `${r.name}/index.m3u8`,
    name: r.name,
    bandwidth: Math.max(1, r.bandwidth + (audio?.bandwidth ?? 0)),
    width: r.width,
    height: r.height,
    codecs: audio != null ? `${r.codecs},${audio.codecs}` : r.codecs,
    ...(audio != null ? { audio: AUDIO_GROUP } : {})
  }))
  return { variants, audio: audio != null ? [{ groupId: AUDIO_GROUP, name: audio.name, uri: `${audio.name}/index.m3u8` }] : [] }
}

export function initName (shaHex: string): string {
  return `init-${shaHex.slice(0, 8)}.mp4`
}

/** The CMAF facts of a SegmentAnnounce. */
export function cmafInfo (seg: SegmentAnnounce): CmafSegmentInfo {
  const inits = new Map<string, InitInfo>()
  for (const r of seg.renditions) {
    if (r.initSize != null && r.initSha256 != null) inits.set(r.name, { size: r.initSize, sha: Buffer.from(r.initSha256).toString('hex') })
  }
  return { ...(seg.mediaTime != null ? { mediaTime: seg.mediaTime } : {}), inits }
}

/** A playlist entry's URI (and EXT-X-MAP) for one rendition of a segment. */
export function entryUris (seq: number, init: InitInfo | undefined, cmaf: boolean): Pick<PlaylistSegment, 'uri' | 'map'> {
  if (init != null) return { uri: `${seq}.m4s`, map: initName(init.sha) }
  return { uri: `${seq}.${cmaf ? 'm4s' : 'ts'}` }
}

/**
 * Length of the init (`ftyp` + `moov`) at the start of a stored fMP4
 * segment, for segments whose announcement the edge did not hear. Throws
 * when the bytes do not start that way.
 */
export function initLength (data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  let at = 0
  for (const type of ['ftyp', 'moov']) {
    if (data.byteLength - at < 8) throw new Error('not an fMP4 segment: truncated')
    const size = view.getUint32(at)
    const got = String.fromCharCode(...data.subarray(at + 4, at + 8))
    if (got !== type || size < 8 || size > data.byteLength - at) throw new Error(`not an fMP4 segment: expected ${type}`)
    at += size
  }
  return at
}

/** The media segment part of a stored segment (a view), with its own strong ETag. */
export function mediaPart (entry: CachedSegment, initSize: number): CachedSegment {
  if (initSize <= 0 || initSize >= entry.data.byteLength) throw new Error(`init size ${initSize} does not fit a ${entry.data.byteLength}-byte segment`)
  return { data: entry.data.subarray(initSize), etag: `${entry.etag.slice(0, -1)}-m4s"` }
}

/** The init part of a stored segment (a view); its sha256 must be the announced one. */
export function initPart (entry: CachedSegment, init: InitInfo): CachedSegment {
  if (init.size <= 0 || init.size >= entry.data.byteLength) throw new Error(`init size ${init.size} does not fit a ${entry.data.byteLength}-byte segment`)
  const data = entry.data.subarray(0, init.size)
  if (createHash('sha256').update(data).digest('hex') !== init.sha) throw new Error('init bytes do not match the announced init hash')
  return { data, etag: `"${init.sha}"` }
}

/** Inputs of one DASH manifest: a rendition's window and what the edge knows of it. */
export interface DashRendition {
  rendition: Pick<Rendition, 'name' | 'bandwidth' | 'width' | 'height' | 'codecs'>
  segments: readonly PlaylistSegment[]
}

/**
 * Renders the live DASH manifest of a stream from its HLS windows (one
 * DashManifest per followed stream keeps availabilityStartTime and the
 * Period anchors). Only segments announced as fMP4 (with an init) take part.
 */
export function renderDash (manifest: DashManifest, o: { nowMs: number, ended: boolean, targetDurationSec: number, renditions: DashRendition[], info: (seq: number) => CmafSegmentInfo | undefined }): string {
  const reps: MpdRepresentation[] = o.renditions.map(({ rendition: r, segments }) => ({
    id: r.name,
    bandwidth: Math.max(1, r.bandwidth),
    ...(isAudioRendition(r) ? { contentType: 'audio' as const } : { contentType: 'video' as const, width: r.width, height: r.height }),
    codecs: r.codecs,
    media: `${r.name}/$Number$.m4s`,
    segments: segments.map(s => {
      const info = o.info(s.seq)
      const init = info?.inits.get(r.name)
      return {
        seq: s.seq,
        durationSec: s.durationSec,
        ...(s.pdtMs != null ? { pdtMs: s.pdtMs } : {}),
        ...(info?.mediaTime != null ? { time: info.mediaTime } : {}),
        ...(s.discontinuity === true ? { discontinuity: true } : {}),
        ...(s.gap === true || init == null ? { gap: true } : { init: `${r.name}/${initName(init.sha)}` })
      }
    })
  }))
  return manifest.render({ nowMs: o.nowMs, ended: o.ended, targetDurationSec: o.targetDurationSec, representations: reps })
}
