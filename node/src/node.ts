import { mkdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ffmpegVersion, resolveFfmpeg } from '@diststream/media'
import { createP2PNode, Gossip, NetworkDiscovery, PresenceService, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey, openStore } from '@diststream/store'
import { bootstrapAdvice, bootstrapList, GossipRelay } from '@diststream/bootstrap'
import { pino } from 'pino'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import { startHttp } from './http/server.js'
import type { NodeConfig } from './config.js'
import type { Edge } from '@diststream/edge'
import type { Ingest } from '@diststream/ingest'
import type { Worker } from '@diststream/worker'
import type { FfmpegPaths } from '@diststream/media'
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
  startedAt: number
  stop: () => Promise<void>
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => { resolve(port) })
    })
  })
}

export async function createNode (config: NodeConfig, logger: Logger = pino({ level: config.logLevel })): Promise<DistNode> {
  const startedAt = Date.now()
  const has = (r: string): boolean => config.roles.includes(r as never)
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'diststream_process_' })
  const protocolErrors = new Counter({ name: 'diststream_protocol_errors_total', help: 'Peer messages rejected: malformed, oversized, invalid or out of protocol', labelNames: ['reason'], registers: [registry] })
  const onProtocolError = (reason: string, where: string): void => {
    protocolErrors.inc({ reason })
    logger.debug({ reason, where }, 'protocol error')
  }

  await mkdir(config.dataDir, { recursive: true })
  const store = await openStore(config.dataDir)
  const privateKey = await loadOrCreatePeerKey(config.dataDir)

  let ffmpeg: FfmpegPaths | undefined
  if (has('ingest') || has('worker')) {
    ffmpeg = resolveFfmpeg()
    logger.info({ ffmpeg: ffmpeg.ffmpeg, ffprobe: ffmpeg.ffprobe, source: ffmpeg.source, version: await ffmpegVersion(ffmpeg.ffmpeg) }, 'ffmpeg')
    if (config.gpu) logger.warn('--gpu: no working hardware encoder was found in this ffmpeg; using the CPU (libx264)')
  }

  const bootstrap = bootstrapList(config.bootstrap)
  const advice = bootstrapAdvice(bootstrap, { roles: config.roles, mdns: config.mdns })
  logger[advice.level]({ bootstrap }, advice.msg)
  const libp2p = await createP2PNode({ privateKey, listen: config.listen, bootstrap, version: VERSION, mdns: config.mdns })
  const discovery = new NetworkDiscovery(libp2p, logger.child({ component: 'discovery' }), { bootstrap })
  const gossip = new Gossip(libp2p, logger.child({ component: 'gossip' }), onProtocolError)
  const protocols = new Protocols(libp2p)
  new Gauge({ name: 'diststream_peers', help: 'Connected libp2p peers', registers: [registry], collect () { this.set(libp2p.getPeers().length) } })

  let worker: Worker | undefined
  let httpUrl = ''
  const presence = new PresenceService(libp2p, gossip, () => ({
    roles: config.roles,
    multiaddrs: libp2p.getMultiaddrs().slice(0, 16).map(m => m.bytes),
    httpUrl,
    activeJobs: worker?.activeJobs ?? 0,
    maxJobs: has('worker') ? config.maxJobs : 0,
    gpu: false,
    hwKind: 'cpu',
    agent: `diststream-node/${VERSION}`,
    startedAtMs: startedAt
  }), logger.child({ component: 'presence' }))

  const rtmpPort = has('ingest') && config.rtmpPort === 0 ? await freePort() : config.rtmpPort
  // Roles are loaded only when asked for: an edge never loads the RTMP server.
  const ingest = has('ingest')
    ? new (await import('@diststream/ingest')).Ingest({ libp2p, gossip, protocols, presence, store, ffmpeg: ffmpeg!, ladder: config.ladder, segmentSeconds: config.segmentSeconds, rtmpPort, logger, registry, bidWindowMs: config.bidWindowMs, maxQueueMs: config.maxQueueSeconds * 1000, localWorker: has('worker'), indexWindow: Math.max(64, config.playlistWindow), onProtocolError, discovery })
    : undefined
  if (has('worker')) {
    const workDir = join(config.dataDir, 'work')
    await mkdir(workDir, { recursive: true })
    const { Worker } = await import('@diststream/worker')
    worker = new Worker({ gossip, protocols, ffmpegPath: ffmpeg!.ffmpeg, maxJobs: config.maxJobs, workDir, logger, registry, onProtocolError })
  }
  const edge = has('edge')
    ? new (await import('@diststream/edge')).Edge({ gossip, protocols, dataDir: config.dataDir, logger, registry, playlistWindow: config.playlistWindow, onProtocolError, discovery, serveFetch: !has('ingest') })
    : undefined

  const relay = has('bootstrap') ? new GossipRelay({ gossip, logger }) : undefined
  relay?.start()
  discovery.start()
  await edge?.start()
  await worker?.start()
  await ingest?.start()
  presence.start()

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
    startedAt,
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
      discovery.stop()
      relay?.stop()
      await Promise.resolve(node.http.close()).catch(() => {})
      await ingest?.stop().catch(err => { logger.warn({ err }, 'ingest stop') })
      await worker?.stop().catch(() => {})
      await edge?.stop().catch(() => {})
      await Promise.resolve(libp2p.stop()).catch(() => {})
      await store.close().catch(() => {})
    })()
    await stopping
  }
  logger.info({ peerId: libp2p.peerId.toString(), roles: config.roles, http: node.httpUrl, rtmpPort: has('ingest') ? rtmpPort : undefined, multiaddrs: libp2p.getMultiaddrs().map(String) }, 'node started')
  return node
}
