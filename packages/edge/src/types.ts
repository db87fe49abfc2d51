import type { CachedSegment } from './cache.js'
import type { PeerComponents } from '@diststream/p2p'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** A segment served to a viewer, and where it came from. */
export interface ServedSegment {
  entry: CachedSegment
  from: 'memory' | 'disk' | 'network'
}

/** A segment a thumbnail is made from: which, and its verified bytes (an fMP4 one starts with its init). */
export interface ThumbnailSource {
  seq: number
  rendition: string
  width: number
  height: number
  vod: boolean
  ended: boolean
  data: Buffer
  /** The segment's ETag (its sha256): the thumbnail's changes with it. */
  etag: string
}

/** A media playlist or DASH manifest, with what its HTTP caching follows from. */
export interface MediaPlaylistView {
  body: string
  ended: boolean
  targetDurationSec: number
}

/** Every optional setting's default is in {@link EDGE_DEFAULTS}. */
export interface EdgeInit extends PeerComponents {
  dataDir: string
  logger: Logger
  registry: Registry
  /** Segments per live media playlist. */
  playlistWindow?: number
  maxMemoryBytes?: number
  /** Disk for cached segments (bytes); default EDGE_DEFAULTS.maxDiskBytes. */
  maxDiskBytes?: number
  /** How long a request for an unknown stream waits for it to appear. */
  discoveryTimeoutMs?: number
  /** How long an ended stream stays served as VOD (DVR) before it is dropped from the cache (ms). Default 1 hour. */
  dvrRetentionMs?: number
  /** A followed stream with no segment or live announcement for this long is ended (its ingest is gone) (ms). Default 120 s. */
  staleMs?: number
  /** How often the lifecycle sweep runs (ms). Default 5 s. */
  sweepMs?: number
  /** Serve cached segments to other edges over /diststream/fetch (false when this node's ingest serves them). */
  serveFetch?: boolean
  /** Swarming: fall back to the ingest after this long without a copy from a holder. */
  swarmFallbackMs?: number
  /**
   * Low-latency HLS (`--low-latency`): live media playlists advertise
   * `EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=…`. Blocking reloads
   * (`_HLS_msn`) are honoured either way.
   */
  lowLatency?: boolean
  /** Most blocking playlist reloads parked at once (more: 503). Default 1,000. */
  maxBlockedReloads?: number
}
