import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ffmpegVersion, liveFfmpegProcesses, resolveFfmpeg } from '@diststream/media'
import { WebhookSender } from '@diststream/webhooks'
import { setUpEncoder } from './encoder.js'
import { createP2PNode, Gossip, NetworkDiscovery, PresenceService, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey, openStore } from '@diststream/store'
import { bootstrapAdvice, bootstrapList, GossipRelay } from '@diststream/bootstrap'
import { pino } from 'pino'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import { startHttp } from './http/server.js'
import { freePort } from './net.js'
import { bidElection } from './bid-election.js'
import { loadOrCreateApiToken } from './http/auth.js'
import type { NodeConfig } from './config.js'
import type { Edge } from '@diststream/edge'
import type { Ingest } from '@diststream/ingest'
import type { Worker } from '@diststream/worker'
import type { FfmpegPaths } from '@diststream/media'
import type { WebhookEventType } from '@diststream/webhooks'
import type { P2PNode } from '@diststream/p2p'
import type { Store } from '@diststream/store'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export const VERSION: string = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version

/** A running node: the roles asked for, composed on one libp2p node and one HTTP server. */
export interface DistNode {
  config: NodeConfig
  libp2p: P2PNode
  presence: PresenceService
  store: Store
  logger: Logger
  registry: Registry
  ffmpeg?: FfmpegPaths
  ingest?: Ingest
  worker?: Worker
  edge?: Edge
  http: FastifyInstance
  httpUrl: string
  /** Bearer token the mutating HTTP API requires. */
  apiToken: string
  startedAt: number
  webhooks: WebhookSender
  /** libp2p started, every role started, store open (for /readyz); the reasons when not. */
  notReady: () => string[]
  stop: () => Promise<void>
}

export async function createNode (config: NodeConfig, logger: Logger = pino({ level: config.logLevel })): Promise<DistNode> {
  const startedAt = Date.now()
  const has = (r: string): boolean => config.roles.includes(r as never)
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'diststream_' })
  const protocolErrors = new Counter({ name: 'diststream_protocol_errors_total', help: 'Peer messages rejected: malformed, oversized, invalid or out of protocol', labelNames: ['reason'], registers: [registry] })
  const onProtocolError = (reason: string, where: string): void => {
    protocolErrors.inc({ reason })
    logger.debug({ reason, where }, 'protocol error')
  }

  await mkdir(config.dataDir, { recursive: true })
  const store = await openStore(config.dataDir)
  const privateKey = await loadOrCreatePeerKey(config.dataDir)
  const apiToken = await loadOrCreateApiToken(config.dataDir, config.apiToken)
  // Shown once, when generated, so the operator can copy it; later it is only in the file.
  if (apiToken.created) process.stderr.write(`API token (for POST/DELETE under /api; stored in ${apiToken.file ?? ''}, shown only now): ${apiToken.token}\n`)

  let ffmpeg: FfmpegPaths | undefined
  let version = ''
  if (has('ingest') || has('worker')) {
    ffmpeg = resolveFfmpeg()
    version = await ffmpegVersion(ffmpeg.ffmpeg)
    logger.info({ ffmpeg: ffmpeg.ffmpeg, ffprobe: ffmpeg.ffprobe, source: ffmpeg.source, version }, 'ffmpeg')
  }
  if (config.gpu && !has('worker')) logger.warn('--gpu only matters for the worker role; ignored')
  // --gpu: a hardware encoder that passes a test encode, or the CPU with one clear log line.
  const encoder = has('worker') ? await setUpEncoder(config, ffmpeg!.ffmpeg, logger) : undefined

  const bootstrap = bootstrapList(config.bootstrap)
  const advice = bootstrapAdvice(bootstrap, { roles: config.roles, mdns: config.mdns })
  logger[advice.level]({ bootstrap }, advice.msg)
  const libp2p = await createP2PNode({ privateKey, listen: config.listen, bootstrap, version: VERSION, mdns: config.mdns })
  const discovery = new NetworkDiscovery(libp2p, logger.child({ component: 'discovery' }), { bootstrap })
  const gossip = new Gossip(libp2p, logger.child({ component: 'gossip' }), onProtocolError)
  const protocols = new Protocols(libp2p)
  new Gauge({ name: 'diststream_ffmpeg_processes', help: 'ffmpeg/ffprobe child processes running now', registers: [registry], collect () { this.set(liveFfmpegProcesses()) } })
  const webhookDeliveries = new Counter({ name: 'diststream_webhook_deliveries_total', help: 'Webhook deliveries by event type and outcome (delivered, failed after retries, dropped)', labelNames: ['event', 'outcome'], registers: [registry] })
  const webhooks = new WebhookSender({
    urls: config.webhooks,
    secret: config.webhookSecret,
    events: config.webhookEvents as WebhookEventType[],
    onResult: (r) => {
      webhookDeliveries.inc({ event: r.type, outcome: r.outcome })
      if (r.outcome !== 'delivered') logger.warn({ url: r.url, event: r.type, attempts: r.attempts, err: r.error }, 'webhook not delivered')
    }
  })
  new Gauge({ name: 'diststream_peers', help: 'Connected libp2p peers', registers: [registry], collect () { this.set(libp2p.getPeers().length) } })

  let worker: Worker | undefined
  let httpUrl = ''
  const presence = new PresenceService(libp2p, gossip, () => ({
    roles: config.roles,
    multiaddrs: libp2p.getMultiaddrs().slice(0, 16).map(m => m.bytes),
    httpUrl,
    activeJobs: worker?.activeJobs ?? 0,
    maxJobs: worker?.maxJobs ?? 0,
    gpu: worker?.gpu ?? false,
    hwKind: worker?.hwKind ?? 'cpu',
    agent: `diststream-node/${VERSION}`,
    startedAtMs: startedAt
  }), logger.child({ component: 'presence' }))

  // Sweep often enough that short limits (tests) act within a quarter of themselves, at most every 5 s.
  const sweepMs = Math.min(5000, Math.max(250, Math.min(config.staleStreamSeconds, config.dvrRetentionSeconds) * 250))
  const rtmpPort = has('ingest') && config.rtmpPort === 0 ? await freePort() : config.rtmpPort
  // Roles are loaded only when asked for: an edge never loads the RTMP server.
  const ingest = has('ingest')
    ? new (await import('@diststream/ingest')).Ingest({ libp2p, gossip, protocols, presence, store, ffmpeg: ffmpeg!, ladder: config.ladder, segmentSeconds: config.segmentSeconds, rtmpPort, logger, registry, bidWindowMs: config.bidWindowMs, maxQueueMs: config.maxQueueSeconds * 1000, localWorker: has('worker'), spotCheckRate: config.spotCheckRate, indexWindow: Math.max(64, config.playlistWindow), onProtocolError, lifecycle: { staleMs: config.staleStreamSeconds * 1000, retentionMs: config.dvrRetentionSeconds * 1000, sweepMs }, onEvent: (type, data) => { webhooks.send(type, data) }, discovery, container: config.container, playbackUrl: (id) => httpUrl === '' ? undefined : `${httpUrl}/live/${id}/index.m3u8` })
    : undefined
  if (has('worker')) {
    const workDir = join(config.dataDir, 'work')
    await mkdir(workDir, { recursive: true })
    const { Worker } = await import('@diststream/worker')
    worker = new Worker({
      gossip, protocols, ffmpegPath: ffmpeg!.ffmpeg, maxJobs: encoder!.maxJobs, workDir, logger, registry, onProtocolError,
      transcoder: encoder!.transcoder,
      cpuMaxJobs: encoder!.cpuMaxJobs,
      price: config.price,
      calibrate: config.calibrate ? { dataDir: config.dataDir, ladder: config.ladder, ffmpegVersion: version } : undefined,
      limits: { maxWidth: config.maxRungSize.width, maxHeight: config.maxRungSize.height },
      elected: bidElection(libp2p.peerId.toString(), presence)
    })
  }
  const edge = has('edge')
    ? new (await import('@diststream/edge')).Edge({ gossip, protocols, dataDir: config.dataDir, logger, registry, playlistWindow: config.playlistWindow, onProtocolError, maxMemoryBytes: config.edgeCacheMb * 1024 * 1024, dvrRetentionMs: config.dvrRetentionSeconds * 1000, staleMs: config.staleStreamSeconds * 1000, sweepMs, discovery, serveFetch: !has('ingest'), lowLatency: config.lowLatency })
    : undefined

  const relay = has('bootstrap') ? new GossipRelay({ gossip, logger }) : undefined
  relay?.start()
  discovery.start()

  new Gauge({
    name: 'diststream_active_streams',
    help: 'Streams live on this node: being published (ingest) or followed and not ended (edge)',
    registers: [registry],
    collect () { this.set(new Set([...(ingest?.activeStreams() ?? []), ...(edge?.activeStreams() ?? [])]).size) }
  })

  await edge?.start()
  await worker?.start()
  await ingest?.start()
  presence.start()
  let rolesStarted = true

  const node: DistNode = {
    config: { ...config, rtmpPort },
    libp2p,
    presence,
    store,
    logger,
    registry,
    ffmpeg,
    ingest,
    worker,
    edge,
    http: undefined as unknown as FastifyInstance,
    httpUrl: '',
    apiToken: apiToken.token,
    startedAt,
    webhooks,
    notReady: () => [
      ...(libp2p.status !== 'started' ? [`libp2p ${libp2p.status}`] : []),
      ...(!store.isOpen() ? ['store closed'] : []),
      ...(ingest != null && !ingest.ready ? ['ingest not started'] : []),
      ...(edge != null && !edge.ready ? ['edge not started'] : []),
      ...(!rolesStarted ? ['roles not started'] : []),
      ...(node.http?.server.listening !== true ? ['http not listening'] : [])
    ],
    stop: async () => {}
  }
  const http = await startHttp(node, VERSION)
  node.http = http.app
  node.httpUrl = httpUrl = http.url
  await presence.announce().catch(() => {})

  let stopping: Promise<void> | undefined
  node.stop = async () => {
    stopping ??= (async () => {
      presence.stop()
      rolesStarted = false
      discovery.stop()
      relay?.stop()
      await Promise.resolve(node.http.close()).catch(() => {})
      await ingest?.stop().catch(err => { logger.warn({ err }, 'ingest stop') })
      await worker?.stop().catch(() => {})
      await edge?.stop().catch(() => {})
      await webhooks.stop().catch(() => {})
      await Promise.resolve(libp2p.stop()).catch(() => {})
      await store.close().catch(() => {})
    })()
    await stopping
  }
  logger.info({ peerId: libp2p.peerId.toString(), roles: config.roles, http: node.httpUrl, rtmpPort: has('ingest') ? rtmpPort : undefined, multiaddrs: libp2p.getMultiaddrs().map(String) }, 'node started')
  return node
}
