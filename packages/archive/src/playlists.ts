/**
 * HLS VOD playlists for an archived stream, written next to its segments so
 * the bucket plays by itself (any HLS player given the master's URL, through
 * the bucket's HTTP endpoint or a CDN in front of it). Pure: the segment
 * records in, the playlist texts out.
 *
 * Layout (see target.ts): `<stream>/index.m3u8` (master), and per rendition
 * `<stream>/<rendition>/index.m3u8` listing `<seq>.ts` relative to it.
 * MPEG-TS renditions are whole files. fMP4 (CMAF) files hold the canonical
 * init followed by the media segment (`initSize`), so a playlist points its
 * `EXT-X-MAP` at the first bytes of a segment file and each segment at the
 * bytes after them (`EXT-X-BYTERANGE`, HLS version 7); the CMAF `audio`
 * rendition becomes the master's audio group.
 */

/** What a playlist needs of one rendition of one stored segment. */
export interface ArchivedRendition {
  name: string
  width: number
  height: number
  bandwidth: number
  codecs: string
  size: number
  initSize?: number
  initSha256?: string
}

/** What a playlist needs of one stored segment. */
export interface ArchivedSegment {
  seq: number
  durationMs: number
  discontinuity: boolean
  renditions: ArchivedRendition[]
}

/** The name of the CMAF audio track's rendition (the ingest's). */
export const AUDIO_RENDITION = 'audio'
const AUDIO_GROUP = 'aud'

export interface ArchivePlaylists {
  /** `<stream>/index.m3u8`. */
  master: string
  /** Rendition name → its `index.m3u8`. */
  media: Map<string, string>
}

/** The playlists of an ended stream or a VOD from its segments (any order; pending ones left out by the caller). */
export function archivePlaylists (segments: readonly ArchivedSegment[]): ArchivePlaylists {
  const ordered = [...segments].sort((a, b) => a.seq - b.seq)
  const names = new Map<string, ArchivedRendition>()
  for (const s of ordered) for (const r of s.renditions) if (!names.has(r.name)) names.set(r.name, r)
  const media = new Map<string, string>()
  for (const name of names.keys()) media.set(name, mediaPlaylist(ordered, name))
  return { master: masterPlaylist([...names.values()]), media }
}

function mediaPlaylist (segments: readonly ArchivedSegment[], rendition: string): string {
  const mine = segments.flatMap(s => {
    const r = s.renditions.find(x => x.name === rendition)
    return r == null ? [] : [{ s, r }]
  })
  const fmp4 = mine.some(({ r }) => r.initSize != null)
  const target = Math.max(1, ...mine.map(({ s }) => Math.ceil(s.durationMs / 1000)))
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${fmp4 ? 7 : 3}`, `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-MEDIA-SEQUENCE:${mine[0]?.s.seq ?? 0}`]
  let init: string | undefined
  let previous: number | undefined
  for (const { s, r } of mine) {
    // A gap in the sequence (a segment lost or not archived) or a publish that restarted: the timeline jumps.
    if (previous !== undefined && (s.discontinuity || s.seq !== previous + 1)) lines.push('#EXT-X-DISCONTINUITY')
    previous = s.seq
    const uri = `${s.seq}.ts`
    if (r.initSize != null && r.initSize > 0) {
      // The init changes only with the stream's parameters: a new map when its hash does.
      const id = r.initSha256 ?? `${s.seq}`
      if (id !== init) {
        lines.push(`#EXT-X-MAP:URI="${uri}",BYTERANGE="${r.initSize}@0"`)
        init = id
      }
      lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`, `#EXT-X-BYTERANGE:${r.size - r.initSize}@${r.initSize}`, uri)
    } else {
      lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`, uri)
    }
  }
  lines.push('#EXT-X-ENDLIST')
  return lines.join('\n') + '\n'
}

function masterPlaylist (renditions: readonly ArchivedRendition[]): string {
  const audio = renditions.find(r => r.name === AUDIO_RENDITION)
  const video = renditions.filter(r => r.name !== AUDIO_RENDITION)
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${renditions.some(r => r.initSize != null) ? 7 : 3}`, '#EXT-X-INDEPENDENT-SEGMENTS']
  if (audio != null && video.length > 0) lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="${AUDIO_RENDITION}/index.m3u8"`)
  // Best first: players start on the first listed variant.
  for (const r of [...video].sort((a, b) => b.bandwidth - a.bandwidth)) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(r.bandwidth))}`]
    if (r.width > 0 && r.height > 0) attrs.push(`RESOLUTION=${r.width}x${r.height}`)
    if (r.codecs !== '') attrs.push(`CODECS="${r.codecs}"`)
    if (audio != null) attrs.push(`AUDIO="${AUDIO_GROUP}"`)
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `${r.name}/index.m3u8`)
  }
  // An audio-only stream: its one variant is the audio playlist.
  if (video.length === 0 && audio != null) lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(audio.bandwidth))}${audio.codecs !== '' ? `,CODECS="${audio.codecs}"` : ''}`, `${AUDIO_RENDITION}/index.m3u8`)
  return lines.join('\n') + '\n'
}
