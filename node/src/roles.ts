/**
 * Config → each role's options: pure mappings from the node's `NodeConfig`
 * and the services the composition root made to `IngestInit`, `EdgeInit` and
 * `WorkerInit`. No I/O here (the roles themselves are loaded lazily by
 * node.ts), so the mappings are unit-tested (test/roles.test.ts).
 */
import { join } from 'node:path'
import type { NodeConfig } from './config.js'
import type { WorkerEncoder } from './encoder.js'
import type { EdgeInit } from '@diststream/edge'
import type { IngestInit } from '@diststream/ingest'
import type { PeerComponents } from '@diststream/p2p'
import type { WorkerInit } from '@diststream/worker'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** What every role gets from the node: peers, logs and metrics. */
export interface RoleServices extends PeerComponents {
  logger: Logger
  registry: Registry
  /** `--archive`: the edge reads a segment no peer delivers from the bucket. */
  archiveRead?: EdgeInit['archive']
}

/** Smallest and largest lifecycle sweep period (ms). */
const MIN_SWEEP_MS = 250
const MAX_SWEEP_MS = 5000

/** Sweep often enough that short limits (tests) act within a quarter of themselves, at most every 5 s. */
export function sweepMsOf (config: Pick<NodeConfig, 'staleStreamSeconds' | 'dvrRetentionSeconds'>): number {
  return Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.min(config.staleStreamSeconds, config.dvrRetentionSeconds) * 250))
}

export type IngestServices = RoleServices & Pick<IngestInit, 'libp2p' | 'presence' | 'store' | 'ffmpeg' | 'onEvent' | 'playbackUrl'> & {
  /** The RTMP port, resolved (a free one when the config says 0). */
  rtmpPort: number
}

export function ingestInit (config: NodeConfig, s: IngestServices): IngestInit {
  return {
    libp2p: s.libp2p,
    gossip: s.gossip,
    protocols: s.protocols,
    presence: s.presence,
    store: s.store,
    ffmpeg: s.ffmpeg,
    discovery: s.discovery,
    logger: s.logger,
    registry: s.registry,
    onProtocolError: s.onProtocolError,
    onEvent: s.onEvent,
    playbackUrl: s.playbackUrl,
    ladder: config.ladder,
    segmentSeconds: config.segmentSeconds,
    rtmpPort: s.rtmpPort,
    srtPort: config.srtPort,
    ...(config.srtPassphrase != null ? { srtPassphrase: config.srtPassphrase } : {}),
    bidWindowMs: config.bidWindowMs,
    maxQueueMs: config.maxQueueSeconds * 1000,
    localWorker: config.roles.includes('worker'),
    spotCheckRate: config.spotCheckRate,
    probationJobs: config.probationJobs,
    // The ingest's index lists at least what an edge's live window shows.
    indexWindow: Math.max(64, config.playlistWindow),
    lifecycle: { staleMs: config.staleStreamSeconds * 1000, retentionMs: config.dvrRetentionSeconds * 1000, sweepMs: sweepMsOf(config) },
    container: config.container,
    sourcePolicy: { ...(config.allowFileSource != null ? { allowFileDir: config.allowFileSource } : {}), allowPrivate: config.allowPrivateSources }
  }
}

export function edgeInit (config: NodeConfig, s: RoleServices): EdgeInit {
  return {
    gossip: s.gossip,
    protocols: s.protocols,
    discovery: s.discovery,
    logger: s.logger,
    registry: s.registry,
    onProtocolError: s.onProtocolError,
    dataDir: config.dataDir,
    playlistWindow: config.playlistWindow,
    maxMemoryBytes: config.edgeCacheMb * 1024 * 1024,
    dvrRetentionMs: config.dvrRetentionSeconds * 1000,
    staleMs: config.staleStreamSeconds * 1000,
    sweepMs: sweepMsOf(config),
    // With an ingest on the node, the ingest answers FETCH for both.
    serveFetch: !config.roles.includes('ingest'),
    lowLatency: config.lowLatency,
    ...(s.archiveRead != null ? { archive: s.archiveRead } : {})
  }
}

export type WorkerServices = Omit<RoleServices, 'discovery'> & Pick<WorkerInit, 'elected'> & {
  ffmpegPath: string
  /** `ffmpeg -version`'s answer (part of the calibration's cache key). */
  ffmpegVersion: string
  encoder: WorkerEncoder
}

export function workerInit (config: NodeConfig, s: WorkerServices): WorkerInit {
  return {
    gossip: s.gossip,
    protocols: s.protocols,
    logger: s.logger,
    registry: s.registry,
    onProtocolError: s.onProtocolError,
    elected: s.elected,
    ffmpegPath: s.ffmpegPath,
    transcoder: s.encoder.transcoder,
    maxJobs: s.encoder.maxJobs,
    cpuMaxJobs: s.encoder.cpuMaxJobs,
    workDir: join(config.dataDir, 'work'),
    price: config.price,
    calibrate: config.calibrate ? { dataDir: config.dataDir, ladder: config.ladder, ffmpegVersion: s.ffmpegVersion } : undefined,
    limits: { maxWidth: config.maxRungSize.width, maxHeight: config.maxRungSize.height }
  }
}
