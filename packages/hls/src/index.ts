/**
 * Pure HLS playlist rendering and parsing for DistStream edges (RFC 8216):
 * live media playlists with program date-times, discontinuities and gaps,
 * master playlists, a sliding {@link LiveWindow} that tolerates segments
 * completing out of order, and minimal parsers for tests.
 *
 * No I/O: everything here maps values to strings and back.
 *
 * @example
 * ```ts
 * import { LiveWindow, renderMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
 *
 * const window = new LiveWindow({ windowSize: 6, maxHoldSegments: 3, firstSeq: 0 })
 * window.add({ seq: 1, durationSec: 2, uri: '1.ts' }) // waits for seq 0
 * window.add({ seq: 0, durationSec: 2, uri: '0.ts', pdtMs: Date.UTC(2024, 0, 1) })
 * const text = window.toPlaylist({ targetDurationSec: 2 }) // segments 0 and 1
 * parseMediaPlaylist(text).segments.length // 2
 *
 * renderMasterPlaylist([
 *   { uri: '720p/index.m3u8', bandwidth: 3_000_000, width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, name: '720p' },
 *   { uri: '360p/index.m3u8', bandwidth: 800_000, width: 640, height: 360, codecs: 'avc1.4d401e,mp4a.40.2', name: '360p' }
 * ])
 * ```
 *
 * @packageDocumentation
 */

export { HlsError, PlaylistParseError, PlaylistValidationError } from './errors.js'
export { formatProgramDateTime } from './format.js'
export { renderMediaPlaylist, renderServerControl, validateSegment, type MediaPlaylistOptions, type PlaylistSegment, type ServerControl } from './media.js'
export { renderMasterPlaylist, type AudioMedia, type Variant } from './master.js'
export { parseMasterPlaylist, parseMediaPlaylist, type ParsedMasterPlaylist, type ParsedMediaPlaylist } from './parse.js'
export { LiveWindow, type AddResult, type LiveWindowOptions } from './window.js'
export { DASH_TIMESCALE, DashManifest, type MpdRenderOptions, type MpdRepresentation, type MpdSegment } from './dash.js'
export { dashWithQuery, hlsWithQuery } from './query-uris.js'
