import type { CapacitySignal } from './capacity.js'
import type { SourcePolicy } from './source-policy.js'
import type { FfmpegPaths, RungSpec } from '@diststream/media'
import type { Gossip, P2PNode, PeerComponents, PresenceService, ProtocolErrorHook, Protocols } from '@diststream/p2p'
import type { Auction, HedgeBudget, JobLedger, ReputationBook, SpeedTracker } from '@diststream/scheduler'
import type { SegmentRecord, Store, StreamRecord } from '@diststream/store'
import type { WebhookEventData, WebhookEventType } from '@diststream/webhooks'
import type { Logger } from 'pino'
import type { Counter, Histogram, Registry } from 'prom-client'

/** Options of the ingest role; every optional one has its default in `INGEST_DEFAULTS` (constants.ts). */
export interface IngestInit extends PeerComponents {
  /** Our own addresses, announced with each stream. */
  libp2p: Pick<P2PNode, 'getMultiaddrs'>
  presence: PresenceService
  store: Store
  ffmpeg: FfmpegPaths
  ladder: RungSpec[]
  segmentSeconds: number
  rtmpPort: number
  rtmpHost?: string
  /** What pulled sources may reach (file directory, private hosts); default: neither (review M4). */
  sourcePolicy?: SourcePolicy
  logger: Logger
  registry: Registry
  /** How long to collect bids for a job (ms, default 150). */
  bidWindowMs?: number
  /** How long a job may wait for a free worker (ms, default 20 s, the CLI's `--max-queue-seconds`). */
  maxQueueMs?: number
  /** True when this node runs the worker role too. */
  localWorker?: boolean
  /** Attempts per job, hedges included (default 4). */
  maxAttempts?: number
  /** Share of jobs re-run on a second worker and compared by PSNR (0–1, default 0.05). */
  spotCheckRate?: number
  /** Verified jobs before a worker's output is served unchecked (default PROBATION_JOBS; 0: no probation). */
  probationJobs?: number
  /** Segments kept in the INDEX an edge gets when it starts following (default 64). */
  indexWindow?: number
  /** Stream lifecycle: stale streams are ended, ended ones removed after the DVR retention. Off when absent. */
  lifecycle?: { staleMs: number, retentionMs: number, sweepMs?: number }
  /** Stream events (for webhooks). */
  onEvent?: <T extends WebhookEventType>(type: T, data: WebhookEventData[T]) => void
  /** Copies of each rendition segment served to swarming edges before answering BUSY (default 2). */
  maxCopiesPerSegment?: number
  /** Rendition container of new streams (`--container`): fragmented MP4 (`cmaf`, the default) or MPEG-TS (`ts`). Kept on each stream record. */
  container?: 'cmaf' | 'ts'
  /**
   * The public playback URL of a stream (its master playlist), for the
   * `vod.ready` event; the node knows its HTTP address, the ingest does not.
   * Without it (or when it returns undefined) the event has no `playbackUrl`.
   */
  playbackUrl?: (streamId: string) => string | undefined
}

export interface IngestMetrics {
  announced: Counter
  completed: Counter
  failed: Counter
  reassigned: Counter
  passthrough: Counter
  hedged: Counter
  hedgesDenied: Counter
  rebids: Counter
  /** Rungs left out of live jobs because the workers could not keep up (one per rung per job). */
  shedRungs: Counter
  spotChecks: Counter<'verdict'>
  /** Publishes (and pulls, VODs) stopped because a segment passed the segmenter's bounds (review M3). */
  publishesRefused: Counter<'why'>
  /** source_url refusals (review M4): syntax, file, private, metadata, resolve. */
  sourcesRefused: Counter<'why'>
  /** Results of workers on probation checked against the source (review H1), by verdict. */
  probationChecks: Counter<'verdict'>
  segmentLatency: Histogram
}

/** What a publish session needs from the ingest that owns it. */
export interface IngestContext {
  gossip: Gossip
  protocols: Protocols
  onProtocolError?: ProtocolErrorHook
  presence: PresenceService
  store: Store
  ffmpeg: FfmpegPaths
  segmentSeconds: number
  logger: Logger
  bidWindowMs: number
  /** How long a job may wait for a free worker before its source passes through. */
  maxQueueMs: number
  /** This node also runs a worker (not in presence: we don't hear ourselves). */
  localWorker: boolean
  maxAttempts: number
  ledger: JobLedger
  auctions: Map<string, Auction>
  metrics: IngestMetrics
  fitLadder: (width: number, height: number) => RungSpec[]
  /** Worker reputation (persisted by the ingest). */
  workers: ReputationBook
  /** Share of jobs re-run on a second worker and compared (0–1). */
  spotCheckRate: number
  /** Verified jobs before a worker's output is served unchecked (review H1: probation). */
  probationJobs: number
  lastAssigned: (peerId: string) => number | undefined
  markAssigned: (peerId: string) => void
  /** Whether a never-tried worker may win a job outright now (NewcomerBudget: review H1). */
  newcomerWin: () => boolean
  /** Raised when a worker may have room (an attempt ended, presence shows a free slot): wakes queued jobs. */
  capacity: CapacitySignal
  /** Each worker's delivered speed against its own estimates lately: hedge timing and deadlines follow it. */
  speed: SpeedTracker
  /** Hedges only with a free worker in hand and within a share of the jobs (no hedging feedback loop under load). */
  hedges: HedgeBudget
  onSegmentStored: (stream: StreamRecord, segment: SegmentRecord) => Promise<void>
}

/** What one transcode attempt needs (see transcode-client.ts). */
export type AttemptContext = Pick<IngestContext, 'protocols' | 'store' | 'ffmpeg' | 'onProtocolError'>
