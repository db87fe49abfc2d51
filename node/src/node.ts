import { mkdir, readFile } from 'node:fs/promises'
import { WebhookSender } from '@diststream/webhooks'
import { createP2PNode, Gossip, isLocalNetwork, NetworkDiscovery, Penalties, PresenceService, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey, openStore } from '@diststream/store'
import { AccountStore } from './accounts/account-store.js'
import { bootstrapAdvice, bootstrapList, GossipRelay } from '@diststream/bootstrap'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { setUpMedia } from './encoder.js'
import { startHttp } from './http/server.js'
import { createChat } from './chat.js'
import { freePort } from './net.js'
import { bidElection } from './bid-election.js'
import { loadOrCreateApiToken } from './http/auth.js'
import { isUp, StartedParts } from './lifecycle.js'
import { createLogger, routeNodeMediaServerLogs } from './logging.js'
import { createMessageCounter, createNodeMetrics } from './node-metrics.js'
import { removeReadyFile, writeReadyFile } from './ready-file.js'
import { edgeInit, ingestInit, workerInit } from './roles.js'
import { ViewerCounter } from './http/viewers.js'
import { ViewerGossip } from './viewers/viewer-gossip.js'
import type { NodeConfig } from './config.js'
import type { HttpContext } from './http/context.js'
import type { HttpServer } from './http/server.js'
import type { NodeMedia } from './encoder.js'
import type { IngestServices, RoleServices } from './roles.js'
import type { Edge } from '@diststream/edge'
import type { Ingest } from '@diststream/ingest'
import type { Worker } from '@diststream/worker'
import type { FfmpegPaths } from '@diststream/media'
import type { WebhookEventType } from '@diststream/webhooks'
import type { P2PNode } from '@diststream/p2p'
import type { Role } from '@diststream/protocol'
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
  /** Broadcaster accounts, sessions and channels (ingest role). */
  accounts?: AccountStore
  http: FastifyInstance
  httpUrl: string
  /** Bearer token the mutating HTTP API requires. */
  apiToken: string
  startedAt: number
  webhooks: WebhookSender
  hasRole: (role: Role) => boolean
  /** libp2p started, every role started, store open (for /readyz); the reasons when not. */
  notReady: () => string[]
  /** Stops everything that started, newest first; failures are logged, not thrown. */
  stop: () => Promise<void>
}

/** The roles this node runs, created (not started). */
interface Roles { ingest?: Ingest, worker?: Worker, edge?: Edge }

/**
 * Composes the node, then starts its parts in order. If a start fails, what
 * already started (the store, libp2p, earlier roles) is stopped in reverse
 * and the error is rethrown, so the data dir and ports are free again.
 */
export async function createNode (config: NodeConfig, logger: Logger = createLogger(config)): Promise<DistNode> {
  const parts = new StartedParts(logger)
  try {
    return await compose(config, logger, parts)
  } catch (err) {
    await parts.stopAll()
    throw err
  }
}

async function compose (config: NodeConfig, logger: Logger, parts: StartedParts): Promise<DistNode> {
  const startedAt = Date.now()
  const hasRole = (role: Role): boolean => config.roles.includes(role)
  await mkdir(config.dataDir, { recursive: true })
  const store = await openStore(config.dataDir)
  parts.running('store', async () => { await store.close() })
  const privateKey = await loadOrCreatePeerKey(config.dataDir)
  const apiToken = await loadOrCreateApiToken(config.dataDir, config.apiToken)
  // Shown once, when generated, so the operator can copy it; later it is only in the file.
  if (apiToken.created) process.stderr.write(`API token (for POST/DELETE under /api; stored in ${apiToken.file ?? ''}, shown only now): ${apiToken.token}\n`)
  const media = await setUpMedia(config, logger)

  const bootstrap = bootstrapList(config.bootstrap)
  const advice = bootstrapAdvice(bootstrap, { roles: config.roles, mdns: config.mdns })
  logger[advice.level]({ bootstrap }, advice.msg)
  // Private addresses: as configured, else a local network decides (review M1; docs/configuration).
  const allowPrivateAddrs = config.allowPrivateAddrs ?? isLocalNetwork({ listen: config.listen, bootstrap, mdns: config.mdns })
  const penalties = new Penalties()
  let onRefused = (_reason: string): void => {}
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'diststream_' })
  const countMessages = createMessageCounter(registry)
  const libp2p = await createP2PNode({ privateKey, listen: config.listen, bootstrap, version: VERSION, mdns: config.mdns, behindNat: config.behindNat, relayServer: config.roles.includes('bootstrap'), allowPrivateAddrs, penalties, onRefused: (r) => { onRefused(`gater_${r.replace('-', '_')}`) }, countMessages })
  parts.running('libp2p', async () => { await libp2p.stop() })

  const roles: Roles = {}
  const metrics = createNodeMetrics(registry, {
    peers: () => libp2p.getPeers().length,
    activeStreams: () => [...(roles.ingest?.activeStreams() ?? []), ...(roles.edge?.activeStreams() ?? [])]
  })
  const onProtocolError = (reason: string, where: string): void => {
    metrics.protocolErrors.inc({ reason })
    // An origin-rule refusal made while handling a gossip message is blamed on its author (gossipsub app score).
    const culprit = penalties.blameCurrent(where)
    logger.debug({ reason, where, culprit }, 'protocol error')
  }
  onRefused = (reason) => { metrics.protocolErrors.inc({ reason }) }
  const discovery = new NetworkDiscovery(libp2p, logger.child({ component: 'discovery' }), { bootstrap })
  const gossip = new Gossip(libp2p, logger.child({ component: 'gossip' }), onProtocolError, { penalties })
  const webhooks = new WebhookSender({
    urls: config.webhooks,
    secret: config.webhookSecret,
    events: config.webhookEvents as WebhookEventType[],
    onResult: (r) => {
      metrics.webhookDeliveries.inc({ event: r.type, outcome: r.outcome })
      if (r.outcome !== 'delivered') logger.warn({ url: r.url, event: r.type, attempts: r.attempts, err: r.error }, 'webhook not delivered')
    }
  })
  parts.running('webhooks', async () => { await webhooks.stop() })
  const archive = config.archive != null && (hasRole('ingest') || hasRole('edge')) ? await (await import('./archive.js')).startArchive(config.archive, store, logger, registry, parts) : undefined

  let http: HttpServer | undefined
  const presence = new PresenceService(libp2p, gossip, () => ({
    roles: config.roles,
    httpUrl: http?.url ?? '',
    activeJobs: roles.worker?.activeJobs ?? 0,
    maxJobs: roles.worker?.maxJobs ?? 0,
    gpu: roles.worker?.gpu ?? false,
    hwKind: roles.worker?.hwKind ?? 'cpu',
    agent: `diststream-node/${VERSION}`,
    startedAtMs: startedAt
  }), logger.child({ component: 'presence' }), { allowPrivateAddrs, onRefused })

  const rtmpPort = hasRole('ingest') && config.rtmpPort === 0 ? await freePort() : config.rtmpPort
  const services: RoleServices = { gossip, protocols: new Protocols(libp2p, countMessages), discovery, logger, registry, onProtocolError, ...(archive != null ? { archiveRead: archive.read } : {}) }
  Object.assign(roles, await createRoles(config, services, media, libp2p.peerId.toString(), {
    libp2p,
    presence,
    store,
    rtmpPort,
    onEvent: (type, data) => { webhooks.send(type, data); archive?.onEvent(type, data) },
    // Known once HTTP listens (after the roles start); a VOD is never ready before that.
    playbackUrl: (id) => http == null ? undefined : `${http.url}/live/${id}/index.m3u8`
  }))
  const { ingest, worker, edge } = roles

  if (hasRole('bootstrap')) await parts.start('relay', new GossipRelay({ gossip, logger }))
  await parts.start('discovery', discovery)
  if (edge != null) await parts.start('edge', edge)
  if (worker != null) await parts.start('worker', worker)
  if (ingest != null) await parts.start('ingest', ingest)
  await parts.start('presence', presence)
  // Viewer counts (issue 16): an edge counts and shares its own; an ingest or edge sums the network's.
  const viewers = edge != null ? new ViewerCounter(config.viewerWindowSeconds * 1000) : undefined
  const viewerGossip = ingest != null || edge != null ? new ViewerGossip({ gossip, local: viewers, registry, logger }) : undefined
  if (viewerGossip != null) await parts.start('viewers', viewerGossip)
  let rolesStarted = true
  parts.running('roles', () => { rolesStarted = false })
  const { chat, moderator } = createChat({ edge, ingest, gossip, registry, logger, selfPeer: libp2p.peerId.toString() })
  if (chat != null) parts.running('chat', () => { chat.stop() })
  if (moderator != null) parts.running('chat-moderator', () => { moderator.stop() })

  const ctx: HttpContext = {
    config: { ...config, rtmpPort },
    logger,
    registry,
    libp2p,
    presence,
    ingest,
    worker,
    edge,
    chat,
    moderator,
    ffmpeg: media.ffmpeg,
    ...(ingest != null ? { accounts: new AccountStore(store, { sessionTtlMs: config.sessionTtlSeconds * 1000 }) } : {}),
    signPlayback: data => privateKey.sign(data),
    viewers,
    networkViewers: viewerGossip,
    apiToken: apiToken.token,
    startedAt,
    version: VERSION,
    notReady: () => [
      ...(libp2p.status !== 'started' ? [`libp2p ${libp2p.status}`] : []),
      ...(!store.isOpen() ? ['store closed'] : []),
      ...(ingest != null && !isUp(ingest) ? ['ingest not started'] : []),
      ...(edge != null && !isUp(edge) ? ['edge not started'] : []),
      ...(worker != null && !isUp(worker) ? ['worker not started'] : []),
      ...(!rolesStarted ? ['roles not started'] : []),
      ...(http?.app.server.listening !== true ? ['http not listening'] : [])
    ],
    httpUrl: () => http?.url ?? '',
    httpPort: () => http?.port ?? config.httpPort
  }
  const server = http = await startHttp(ctx)
  parts.running('http', async () => { await server.app.close() })
  await presence.announce().catch(err => {
    // The presence timer announces again within its interval.
    logger.debug({ err }, 'first presence announce failed')
  })

  const info = { peerId: libp2p.peerId.toString(), http: server.url, rtmpPort: hasRole('ingest') ? rtmpPort : undefined, srtPort: ingest?.srtPort, multiaddrs: libp2p.getMultiaddrs().map(String) }
  if (config.readyFile != null) {
    const file = config.readyFile
    await writeReadyFile(file, { ...info, pid: process.pid })
    parts.running('ready-file', async () => { await removeReadyFile(file) })
  }
  logger.info({ peerId: info.peerId, roles: config.roles, http: info.http, rtmpPort: info.rtmpPort, srtPort: info.srtPort, multiaddrs: info.multiaddrs }, 'node started')
  return {
    config: ctx.config,
    libp2p,
    presence,
    store,
    logger,
    registry,
    ffmpeg: media.ffmpeg,
    ingest,
    worker,
    edge,
    ...(ctx.accounts != null ? { accounts: ctx.accounts } : {}),
    http: server.app,
    httpUrl: server.url,
    apiToken: apiToken.token,
    startedAt,
    webhooks,
    hasRole,
    notReady: ctx.notReady,
    stop: async () => { await parts.stopAll() }
  }
}

/** Loads and creates the roles asked for (not started): an edge never loads the RTMP server. */
async function createRoles (config: NodeConfig, services: RoleServices, media: NodeMedia, self: string, forIngest: Omit<IngestServices, keyof RoleServices | 'ffmpeg'>): Promise<Roles> {
  const roles: Roles = {}
  if (config.roles.includes('ingest')) {
    routeNodeMediaServerLogs(services.logger)
    const { Ingest } = await import('@diststream/ingest')
    roles.ingest = new Ingest(ingestInit(config, { ...services, ...forIngest, ffmpeg: media.ffmpeg! }))
  }
  if (config.roles.includes('worker')) {
    const { Worker } = await import('@diststream/worker')
    const elected = bidElection(self, forIngest.presence)
    roles.worker = new Worker(workerInit(config, { ...services, ffmpegPath: media.ffmpeg!.ffmpeg, ffmpegVersion: media.version, encoder: media.encoder!, elected }))
  }
  if (config.roles.includes('edge')) {
    const { Edge } = await import('@diststream/edge')
    roles.edge = new Edge(edgeInit(config, services))
  }
  return roles
}
