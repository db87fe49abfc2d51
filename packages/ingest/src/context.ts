import type { FfmpegPaths, RungSpec } from '@diststream/media'
import type { Gossip, P2PNode, PresenceService, Protocols } from '@diststream/p2p'
import type { Auction, JobLedger } from '@diststream/scheduler'
import type { SegmentRecord, Store, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'
import type { Counter, Histogram } from 'prom-client'

export interface IngestMetrics {
  announced: Counter
  completed: Counter
  failed: Counter
  reassigned: Counter
  passthrough: Counter
  segmentLatency: Histogram
}

/** What a publish session needs from the ingest that owns it. */
export interface IngestContext {
  libp2p: P2PNode
  gossip: Gossip
  protocols: Protocols
  presence: PresenceService
  store: Store
  ffmpeg: FfmpegPaths
  ffprobePath: string | null
  logger: Logger
  segmentSeconds: number
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
  reputation: (peerId: string) => number
  recordOutcome: (peerId: string, outcome: string) => void
  lastAssigned: (peerId: string) => number | undefined
  markAssigned: (peerId: string) => void
  onSegmentStored: (stream: StreamRecord, segment: SegmentRecord) => Promise<void>
  onProtocolError?: (reason: string, where: string) => void
}
