import { PROBATION_JOBS } from '@diststream/scheduler'

/**
 * Defaults of every optional {@link IngestInit} option, in one place. Where
 * the role and the CLI (node/src/config.ts) used to disagree, the CLI's value
 * is the one here (`container`, `maxQueueMs`).
 */
export const INGEST_DEFAULTS = {
  rtmpHost: '0.0.0.0',
  bidWindowMs: 150,
  maxQueueMs: 20_000,
  localWorker: false,
  maxAttempts: 4,
  spotCheckRate: 0.05,
  probationJobs: PROBATION_JOBS,
  indexWindow: 64,
  maxCopiesPerSegment: 2,
  container: 'cmaf',
  /** Lifecycle sweep period when `lifecycle.sweepMs` is not given (ms). */
  lifecycleSweepMs: 5000
} as const satisfies {
  rtmpHost: string
  bidWindowMs: number
  maxQueueMs: number
  localWorker: boolean
  maxAttempts: number
  spotCheckRate: number
  probationJobs: number
  indexWindow: number
  maxCopiesPerSegment: number
  container: 'cmaf' | 'ts'
  lifecycleSweepMs: number
}

/** Segments of a VOD read and on the market at once (the rest wait on disk). */
export const VOD_MAX_INFLIGHT = 8
/** How long a VOD segment waits its turn in the queue: however long the file is (with no worker at all the source passes through). */
export const VOD_MAX_QUEUE_MS = 3_600_000
/** Segmenter restarts of a pulled source before it fails (an unreachable source that comes up). */
export const PULL_MAX_RESTARTS = 2

/**
 * Live streams (and VODs) are announced again this often (ms), a keep-alive: changes are announced
 * when they happen, and a peer that subscribes to the stream directory is told at once.
 */
export const ANNOUNCE_EVERY_MS = 15_000
/** Announcements of what we have to a newcomer on the stream directory: at most one round this often (ms; a join storm costs one round). */
export const NEWCOMER_ANNOUNCE_GAP_MS = 1000
/** An ended or failed stream is announced at the change and once more this long after (ms), in case the first was lost; then never (edges that follow it have heard it; others find it on the DHT). */
export const ENDED_REPEAT_MS = 3000
/** A live stream's DHT provider record is renewed this often (ms). */
export const REPROVIDE_MS = 300_000
/** Streams remembered as provided on the DHT (oldest forgotten first: re-provided early). */
export const MAX_PROVIDED = 4096
/** Longest stream name in an announce, UTF-8 bytes (the wire limit). */
export const MAX_ANNOUNCE_NAME_BYTES = 200
/** Our multiaddrs in each announce (the wire limit). */
export const MAX_ANNOUNCE_ADDRS = 16

/** Inbound BID streams open at once per connection (a worker per job bids once). */
export const MAX_INBOUND_STREAMS = 256
/**
 * Inbound FETCH streams open at once per connection (security review H6: was 256, each once
 * holding a whole segment): an edge fetches at most 8 renditions of a segment in parallel and
 * may overlap a few segments and an INDEX; 64 is also libp2p's default outbound limit per
 * protocol, so no honest edge opens more. Serves past MAX_SERVES_PER_PEER are answered BUSY.
 */
export const MAX_INBOUND_FETCH_STREAMS = 64
/** How long a bidder has to send its bid and read the ack (ms): a bid is a few bytes. */
export const BID_EXCHANGE_TIMEOUT_MS = 5000

/** Workers whose last assignment the ingest remembers (the same bound as the ReputationBook's 10,000): a forgotten one is a newcomer again, held to NEWCOMER_WINS_PER_MINUTE. */
export const MAX_ASSIGNED_WORKERS = 10_000

/** Restream outputs per stream (each is an ffmpeg process and a copy of the source's upload). */
export const MAX_OUTPUTS_PER_STREAM = 8
/** Restream retries: the first after 1 s, doubling up to 30 s; after 20 failures in a row (about 8 minutes) the output is `failed` until the stream goes live again. */
export const RESTREAM_BACKOFF = { baseMs: 1000, maxMs: 30_000, maxFailures: 20 } as const
/** A restream attempt that gets no media to its receiver within this long is ended and retried (a receiver that accepts and hangs). */
export const RESTREAM_CONNECT_TIMEOUT_MS = 15_000
/** A live restream output whose bytes stop moving for this long is ended and retried. */
export const RESTREAM_STALL_MS = 10_000
