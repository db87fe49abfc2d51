import type { IngestInit } from './ingest.js'
import type { RungSpec } from '@diststream/media'
import type { Auction, JobLedger, ReputationBook } from '@diststream/scheduler'
import type { SegmentRecord, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'
import type { Counter, Histogram } from 'prom-client'

export interface IngestMetrics {
  announced: Counter
  completed: Counter
  failed: Counter
  reassigned: Counter
  passthrough: Counter
  hedged: Counter
  rebids: Counter
  spotChecks: Counter<'verdict'>
  segmentLatency: Histogram
}

/** What a publish session needs from the ingest that owns it. */
export interface IngestContext extends Pick<IngestInit, 'gossip' | 'protocols' | 'presence' | 'store' | 'ffmpeg' | 'segmentSeconds' | 'onProtocolError'> {
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
  lastAssigned: (peerId: string) => number | undefined
  markAssigned: (peerId: string) => void
  onSegmentStored: (stream: StreamRecord, segment: SegmentRecord) => Promise<void>
}
