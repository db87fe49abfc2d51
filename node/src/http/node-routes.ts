import type { DistNode } from '../node.js'
import type { Worker } from '@diststream/worker'
import type { FastifyInstance } from 'fastify'

/** The worker's market state: encoder, capacity, price and calibration. */
function workerInfo (w: Worker): Record<string, unknown> {
  const c = w.calibration
  return {
    activeJobs: w.activeJobs,
    maxJobs: w.maxJobs,
    encoder: w.encoder,
    gpu: w.gpu,
    hwKind: w.hwKind,
    price: w.price,
    calibration: c != null
      ? { encoder: c.encoder, fixedMs: c.fixedMs, msPerMediaSec: c.msPerMediaSec, source: c.source, ladder: c.ladder.map(r => r.name), runs: c.runs, measuredAt: c.measuredAt }
      : null
  }
}

export function registerNodeRoutes (app: FastifyInstance, node: DistNode, version: string): void {
  app.get('/healthz', async () => ({ ok: true }))

  // Ready to serve: libp2p started, every role started, the store open. 503 with the reasons otherwise.
  app.get('/readyz', async (_req, reply) => {
    const reasons = node.notReady()
    if (reasons.length > 0) void reply.code(503)
    return { ready: reasons.length === 0, reasons }
  })

  app.get('/api/node', async () => {
    const self = node.libp2p.peerId.toString()
    const known = new Map(node.presence.peers().map(p => [p.peerId, p]))
    const connected = node.libp2p.getPeers().map(p => p.toString())
    for (const id of connected) {
      if (!known.has(id)) known.set(id, { peerId: id, roles: [], multiaddrs: [], httpUrl: '', activeJobs: 0, maxJobs: 0, gpu: false, hwKind: '', agent: '', startedAt: 0, lastSeen: 0, connected: true })
    }
    return {
      peerId: self,
      version,
      roles: node.config.roles,
      multiaddrs: node.libp2p.getMultiaddrs().map(m => m.toString()),
      httpUrl: node.httpUrl,
      rtmpPort: node.ingest != null ? node.config.rtmpPort : undefined,
      uptimeSec: Math.round((Date.now() - node.startedAt) / 1000),
      ffmpeg: node.ffmpeg != null ? { path: node.ffmpeg.ffmpeg, source: node.ffmpeg.source, encoder: node.worker?.encoder ?? 'libx264' } : undefined,
      worker: node.worker != null ? workerInfo(node.worker) : undefined,
      peers: [...known.values()].map(p => ({
        peerId: p.peerId,
        roles: p.roles,
        connected: p.connected,
        multiaddrs: p.multiaddrs,
        httpUrl: p.httpUrl,
        activeJobs: p.activeJobs,
        maxJobs: p.maxJobs,
        gpu: p.gpu,
        hwKind: p.hwKind,
        agent: p.agent,
        lastSeen: p.lastSeen
      }))
    }
  })

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', node.registry.contentType)
    return await node.registry.metrics()
  })
}
