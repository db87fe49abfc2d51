/**
 * The edge's timeouts, bounds and option defaults, in one place. Each
 * timeout says why it is that long; each bound what it protects.
 */

/** Dialling a peer's `/diststream/fetch`: a reachable peer answers well within this; an unreachable one must not hold a viewer. */
export const DIAL_TIMEOUT_MS = 5000
/** One INDEX exchange (request to the last segment record): the index is small, a slow ingest gets one more try. */
export const INDEX_TIMEOUT_MS = 10_000
/** One SEGMENT exchange with the ingest: a 16 MiB rendition over a slow link fits. */
export const SEGMENT_TIMEOUT_MS = 20_000
/** One SEGMENT exchange with another edge holding a copy, at least: a holder that stalls is dropped for the next one. */
export const HOLDER_SEGMENT_TIMEOUT_MIN_MS = 2000
/** How long the FETCH server lets a peer wait for a copy this edge is still fetching, before answering "not held". */
export const SERVE_PENDING_WAIT_MS = 10_000
/** How long a master playlist or DASH manifest request waits for a followed stream's first renditions. */
export const RENDITIONS_WAIT_MS = 8000

/** INDEX tries when following a stream (the first included): a busy ingest must not cost the edge the stream's start. */
export const INDEX_ATTEMPTS = 3
/** Pause before the first INDEX retry (ms); it doubles for each further one (1 s, 2 s). */
export const INDEX_RETRY_BASE_MS = 1000
/** A stream followed without its INDEX: the INDEX is asked for again in the background after this pause (ms), doubling each time. */
export const HISTORY_FILL_BASE_MS = 2000
/** ... up to this pause (ms): a busy ingest is asked twice a minute, not hammered. */
export const HISTORY_FILL_MAX_PAUSE_MS = 30_000
/** ... this many tries (about 10 minutes), then the DVR history starts at the first segment heard. */
export const HISTORY_FILL_ATTEMPTS = 24
/** Tries of a fetch from the ingest for a segment the edge was not announced (the first included). */
export const UNANNOUNCED_FETCH_ATTEMPTS = 3
/** Pause before a retry of such a fetch grows by this much each time (200 ms, 400 ms). */
export const UNANNOUNCED_RETRY_STEP_MS = 200

/** Swarming: fetch attempts (to any peer) per rendition segment before it becomes a gap. */
export const SWARM_MAX_ATTEMPTS = 12
/** Swarming: pause before retrying the ingest itself after it failed, times the attempts so far. */
export const SWARM_INGEST_RETRY_STEP_MS = 200
/** Swarming: give up on a rendition segment after this long (it becomes a gap). */
export const SWARM_DEADLINE_MS = 30_000
/** Swarming: longest pause between two looks at the holder table while waiting for a holder. */
export const SWARM_WAIT_STEP_MS = 250
/**
 * Swarming: attempts at peers other than the ingest per rendition segment. Anyone may claim to hold a
 * segment (Have is unbound), so claims can only cost this many attempts; then the ingest, which always
 * has it (H2: fake holders must not turn every segment into a gap).
 */
export const SWARM_MAX_HOLDER_ATTEMPTS = 2
/** Swarming: a Have for a seq more than this far past the newest segment the stream announced is dropped (a live edge holds nothing from the future; it would push real entries out of the holder table). */
export const HAVE_MAX_AHEAD = 8
/** Swarming: Haves taken per second per signer and stream (an honest edge sends one per segment it fetched). */
export const HAVE_RATE_PER_SEC = 8
/** Swarming: Haves a signer may send at once per stream (a burst after a backfill of the window). */
export const HAVE_BURST = 32
/** Swarming: signers whose Have rate is tracked per stream (keys chosen by strangers). */
export const HAVE_MAX_SIGNERS = 256
/** Swarming: segments remembered per stream in the holder table (the newest). */
export const HOLDER_MAX_SEQS = 64
/** Swarming: holders remembered per rendition segment. */
export const HOLDER_MAX_PEERS = 16

/** Most streams the directory remembers (followed streams are never evicted). */
export const MAX_DIRECTORY = 10_000
/** A directory entry announced within this long is live (ingests announce every 2 s: three missed announcements), and never evicted to make room. */
export const LIVE_BINDING_MS = 6000
/** Most streams remembered as dropped after their retention (so a late "ended" does not bring them back). */
export const MAX_DROPPED = 10_000
/** Most streams whose DHT lookup pacing is remembered (keys chosen by viewers). */
export const MAX_LOOKUP_PACING = 1024
/** DHT providers of a stream asked for its INDEX, in turn, until one owns it: a hostile peer can provide any key, so the first is not trusted; a few bound the dials a viewer's request costs. */
export const DHT_PROVIDERS_TRIED = 4
/** DHT lookups of unknown streams running at once, over all streams (M6): each costs DHT queries and dials; viewers choose the ids. */
export const MAX_CONCURRENT_LOOKUPS = 8
/** After a DHT lookup of a stream, this long before the next one (viewers retrying an unknown stream must not flood the DHT). */
export const LOOKUP_PAUSE_MS = 1000

/** Segments an edge remembers per stream for its DVR playlist (12 h of 2 s segments); also the longest DVR list served. */
export const MAX_DVR_SEGMENTS = 21_600
/** Segments fetched beyond a live window when a stream is first followed (late ones fill in out of order). */
export const BACKFILL_EXTRA_SEGMENTS = 3
/** VOD: segments fetched in the background at once to warm the cache. */
export const VOD_WARM_CONCURRENCY = 2
/** Streams an edge follows at once (ended ones count until their DVR retention): each costs a gossip subscription, windows and fetches; an edge serving more is a CDN for strangers (H3). */
export const MAX_FOLLOWED_STREAMS = 256
/** Streams of one ingest an edge follows at once: one peer announcing streams cannot take every slot. */
export const MAX_FOLLOWED_PER_INGEST = 64
/** Rendition fetches at once, node-wide (H3): each holds up to a 64 MiB rendition in memory while it arrives. */
export const MAX_CONCURRENT_FETCHES = 64
/** Rendition fetches at once per stream (H3): two segments of a full 8-rendition ladder; one stream cannot starve the others. */
export const MAX_FETCHES_PER_STREAM = 16
/**
 * Viewer-driven (cold) fetches of segments in no cache, node-wide (M6): DVR
 * seeks choose which segments; each one waits for a fetch slot while its
 * request is held open. 128 is two full queues of the node's fetch slots;
 * past it the viewer gets 503 + Retry-After instead of a queue without end.
 */
export const MAX_COLD_FETCHES = 128
/** Cold fetches per stream (M6): a DVR scrub by a few viewers; one stream's viewers cannot take the node's. */
export const MAX_COLD_FETCHES_PER_STREAM = 32
/**
 * A live stream no viewer asked this edge for in this long is no longer
 * followed (H3): one request cannot make an edge fetch and store a stream
 * (an attacker's) until it ends. 10 minutes: players reload their playlist
 * every few seconds, so only a stream nobody watches here is let go; its
 * cache stays and the next request follows it again (INDEX backfill).
 */
export const VIEWERLESS_UNFOLLOW_MS = 10 * 60_000
/** Held segments tried for an init segment (M6): the newest few announced with it; each try may be an upstream fetch. */
export const MAX_INIT_CANDIDATES = 3
/** Segment announcements held until a followed stream's index arrives (the index holds at most MAX_INDEX_SEGMENTS). */
export const MAX_EARLY_SEGMENTS = 512
/** Blocking playlist reloads parked at once for one stream (M5): a stream's viewers park one or two each; an attacker's own stream cannot take every slot. */
export const MAX_BLOCKED_RELOADS_PER_STREAM = 500
/** Blocking playlist reloads parked at once for one client address (M5): a player parks one per rendition it plays, a few behind one NAT. */
export const MAX_BLOCKED_RELOADS_PER_CLIENT = 32
/** The FETCH server's concurrent inbound streams on an edge. */
export const MAX_INBOUND_FETCH_STREAMS = 256

/**
 * Every optional {@link EdgeInit} setting's default. Where the role and the
 * CLI (node/src/config.ts) disagreed, the CLI's value wins (`staleMs`).
 */
export const EDGE_DEFAULTS = {
  /** Segments per live media playlist. */
  playlistWindow: 6,
  /** Memory for hot segments (bytes); the rest stay on disk. */
  maxMemoryBytes: 256 * 1024 * 1024,
  /** Disk for cached segments (bytes), least recently used deleted first: an hour of DVR of a full 8-rendition ladder at ~15 Mbit/s in all is ~7 GB. */
  maxDiskBytes: 10 * 1024 * 1024 * 1024,
  /** How long a request for an unknown stream waits for it to appear (ms); also the DHT lookup's budget. */
  discoveryTimeoutMs: 5000,
  /** How long an ended stream stays served as VOD (DVR) before it is dropped (ms). */
  dvrRetentionMs: 3_600_000,
  /** A followed stream with no segment or live announcement for this long is ended (ms). */
  staleMs: 120_000,
  /** How often the lifecycle sweep runs (ms). */
  sweepMs: 5000,
  /** Serve cached segments to other edges over /diststream/fetch. */
  serveFetch: true,
  /** Swarming: fall back to the ingest after this long without a copy from a holder (ms). */
  swarmFallbackMs: 3000,
  /** Low-latency HLS (EXT-X-SERVER-CONTROL in live playlists). */
  lowLatency: false,
  /** Most blocking playlist reloads parked at once (more: 503). */
  maxBlockedReloads: 1000
} as const
/** Segments tried for one thumbnail (newest first): the newest may still be on its way or fail; more would be a stream in trouble. */
export const MAX_THUMBNAIL_CANDIDATES = 3
/** A VOD's poster is its picture this far in (0..1): the first frame is often black or a title card. */
export const VOD_POSTER_POSITION = 0.1

/**
 * With `--archive`: a rendition segment no peer has delivered after this
 * long is also read from the bucket (the first verified copy wins). Past the
 * swarm's 3 s fallback to the ingest, well before the swarm gives up (about
 * 13 s of retries against an ingest that is gone), which a player would not
 * wait for.
 */
export const ARCHIVE_FALLBACK_MS = 4000

/** Playback tokens whose signature checked out, remembered so a player's every segment request costs a map lookup, not an Ed25519 verify; bounded, as tokens are a stranger's choice. */
export const MAX_VERIFIED_PLAYBACK_TOKENS = 10_000
/** Owners' public keys (node:crypto KeyObjects) kept ready, one per ingest of a private stream. */
export const MAX_PLAYBACK_OWNER_KEYS = 1_000
