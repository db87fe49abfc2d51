import { ladderForSource } from '@diststream/media'
import { HedgeBudget, NewcomerBudget, SpeedTracker } from '@diststream/scheduler'
import { INGEST_DEFAULTS } from './constants.js'
import { createIngestMetrics } from './metrics.js'
import type { CapacitySignal } from './capacity.js'
import type { IngestContext, IngestInit } from './types.js'
import type { JobLedger, ReputationBook } from '@diststream/scheduler'
import type { BoundedMap } from '@diststream/util'
import type { Logger } from 'pino'

/** What the ingest itself owns and the context shares with its sessions. */
export interface IngestContextParts {
  logger: Logger
  ledger: JobLedger
  workers: ReputationBook
  /** worker → when it was last given a job. */
  assigned: BoundedMap<string, number>
  capacity: CapacitySignal
  onSegmentStored: IngestContext['onSegmentStored']
}

/** The context every publish session of an ingest shares: the init's settings with their defaults, the market's state. */
export function ingestContext (init: IngestInit, parts: IngestContextParts): IngestContext {
  const newcomers = new NewcomerBudget()
  return {
    gossip: init.gossip,
    protocols: init.protocols,
    onProtocolError: init.onProtocolError,
    presence: init.presence,
    store: init.store,
    ffmpeg: init.ffmpeg,
    segmentSeconds: init.segmentSeconds,
    logger: parts.logger,
    bidWindowMs: init.bidWindowMs ?? INGEST_DEFAULTS.bidWindowMs,
    maxQueueMs: init.maxQueueMs ?? INGEST_DEFAULTS.maxQueueMs,
    localWorker: init.localWorker ?? INGEST_DEFAULTS.localWorker,
    maxAttempts: init.maxAttempts ?? INGEST_DEFAULTS.maxAttempts,
    spotCheckRate: init.spotCheckRate ?? INGEST_DEFAULTS.spotCheckRate,
    probationJobs: init.probationJobs ?? INGEST_DEFAULTS.probationJobs,
    ledger: parts.ledger,
    auctions: new Map(),
    metrics: createIngestMetrics(init.registry),
    fitLadder: (w, h) => ladderForSource(init.ladder, w, h),
    workers: parts.workers,
    lastAssigned: (peer) => parts.assigned.get(peer),
    markAssigned: (peer) => { parts.assigned.set(peer, Date.now()) },
    newcomerWin: () => newcomers.take(),
    capacity: parts.capacity,
    speed: new SpeedTracker(),
    hedges: new HedgeBudget(),
    onSegmentStored: parts.onSegmentStored
  }
}
