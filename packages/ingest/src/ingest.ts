import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { truncateUtf8, codecs, FetchRequest, FetchResponse, MAX_INDEX_SEGMENTS, PROTOCOL_BID, PROTOCOL_FETCH, StreamAnnounce, TOPIC_STREAMS } from '@diststream/protocol'
import { ladderForSource } from '@diststream/media'
import { JobLedger } from '@diststream/scheduler'
import { Counter, Gauge, Histogram } from 'prom-client'
import { UploadLimiter } from './upload-limit.js'
import { newStreamId, newStreamKey } from './keys.js'
import { RtmpServer } from './rtmp.js'
import { PublishSession, toWire } from './session.js'
import type { IngestContext, IngestMetrics } from './context.js'
import type { FfmpegPaths, RungSpec } from '@diststream/media'
import { messageChannel } from '@diststream/p2p'
import type { P2PNode, PeerComponents, PresenceService } from '@diststream/p2p'
import type { Auction } from '@diststream/scheduler'
import type { SegmentRecord, Store, StreamRecord } from '@diststream/store'
import type { Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

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
  logger: Logger
  registry: Registry
  /** How long to collect bids for a job (ms). */
  bidWindowMs?: number
  /** How long a job may wait for a free worker (ms); default 10 segment durations. */
  maxQueueMs?: number
  /** True when this node runs the worker role too. */
  localWorker?: boolean
  maxAttempts?: number
  /** Segments kept in the INDEX an edge gets when it starts following. */
  indexWindow?: number
  /** Copies of each rendition segment served to swarming edges before answering BUSY (default 2). */
  maxCopiesPerSegment?: number
}

export class StreamNotFoundError extends Error {
  static readonly NAME = 'StreamNotFoundError'
  override name = StreamNotFoundError.NAME
}

export class Ingest {
  readonly ledger = new JobLedger()
  private readonly rtmp: RtmpServer
  private readonly sessions = new Map<string, PublishSession>()
  private readonly byKey = new Map<string, string>()
  private readonly ctx: IngestContext
  private readonly log: Logger
  private readonly outcomes = new Map<string, { ok: number, bad: number }>()
  private readonly assigned = new Map<string, number>()
  private announceTimer?: NodeJS.Timeout
  private readonly uploads: UploadLimiter
  private readonly served: { copies: Counter, bytes: Counter, busy: Counter }
  private readonly provided = new Map<string, number>()

  constructor (private readonly init: IngestInit) {
    this.log = init.logger.child({ component: 'ingest' })
    const registers = [init.registry]
    const metrics: IngestMetrics = {
      announced: new Counter({ name: 'diststream_jobs_announced_total', help: 'Transcode jobs announced by this ingest (counted once, however often a queued job is re-announced)', registers }),
      completed: new Counter({ name: 'diststream_jobs_completed_total', help: 'Jobs whose renditions came back verified', registers }),
      failed: new Counter({ name: 'diststream_jobs_failed_total', help: 'Jobs every bidder failed (the source passed through)', registers }),
      reassigned: new Counter({ name: 'diststream_jobs_reassigned_total', help: 'Job attempts after the first (timeout, error or rejected output)', registers }),
      passthrough: new Counter({ name: 'diststream_jobs_passthrough_total', help: 'Jobs no worker took within the queue limit, or with no worker on the network (the source passed through)', registers }),
      segmentLatency: new Histogram({ name: 'diststream_segment_latency_seconds', help: 'Segment closed at the ingest → renditions stored', buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8], registers })
    }
    this.uploads = new UploadLimiter({ maxCopies: init.maxCopiesPerSegment ?? 2 })
    this.served = fetchServeMetrics(init.registry)
    const uploads = this.uploads
    new Gauge({ name: 'diststream_fetch_copies_max', help: 'Most copies of one rendition segment this ingest served (recent segments)', registers, collect () { this.set(uploads.maxCopiesServed()) } })
    this.ctx = {
      gossip: init.gossip,
      protocols: init.protocols,
      presence: init.presence,
      store: init.store,
      ffmpeg: init.ffmpeg,
      logger: this.log,
      segmentSeconds: init.segmentSeconds,
      bidWindowMs: init.bidWindowMs ?? 150,
      maxQueueMs: init.maxQueueMs ?? init.segmentSeconds * 10_000,
      localWorker: init.localWorker ?? false,
      maxAttempts: init.maxAttempts ?? 3,
      ledger: this.ledger,
      auctions: new Map<string, Auction>(),
      metrics,
      fitLadder: (w, h) => ladderForSource(init.ladder, w, h),
      reputation: (peer) => this.reputation(peer),
      recordOutcome: (peer, outcome) => { this.recordOutcome(peer, outcome) },
      lastAssigned: (peer) => this.assigned.get(peer),
      markAssigned: (peer) => { this.assigned.set(peer, Date.now()) },
      onSegmentStored: async (stream, seg) => { await this.onSegmentStored(stream, seg) },
      onProtocolError: init.onProtocolError
    }
    this.rtmp = new RtmpServer({
      port: init.rtmpPort,
      host: init.rtmpHost,
      storeDir: join(init.store.dataDir, 'rtmp'),
      logger: this.log,
      authorizePublish: (key) => this.byKey.has(key)
    })
    this.rtmp.on('publish', (key) => { this.onPublish(key).catch(err => { this.log.error({ err }, 'publish failed') }) })
  }

  async start (): Promise<void> {
    for (const s of await this.init.store.streams.list()) {
      if (s.state !== 'ended') this.byKey.set(s.key, s.id)
      if (s.state === 'live') await this.init.store.streams.put({ ...s, state: 'idle' })
    }
    await this.init.protocols.handle(PROTOCOL_BID, (stream, peer) => { this.onBid(stream, peer).catch(() => {}) }, { maxInboundStreams: 256 })
    await this.init.protocols.handle(PROTOCOL_FETCH, (stream, peer) => { this.onFetch(stream, peer).catch(() => {}) }, { maxInboundStreams: 256 })
    await this.rtmp.start()
    this.announceTimer = setInterval(() => { this.announceAll().catch(() => {}) }, 2000)
    this.announceTimer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.announceTimer)
    await Promise.allSettled([...this.sessions.values()].map(async s => { await s.kill() }))
    this.sessions.clear()
    await this.rtmp.stop()
    await this.init.protocols.unhandle(PROTOCOL_BID)
    await this.init.protocols.unhandle(PROTOCOL_FETCH)
  }

  async createStream (name: string): Promise<StreamRecord> {
    const rec: StreamRecord = { id: newStreamId(), name, key: newStreamKey(), createdAt: Date.now(), state: 'idle' }
    await this.init.store.streams.put(rec)
    this.byKey.set(rec.key, rec.id)
    return rec
  }

  async listStreams (): Promise<StreamRecord[]> {
    return (await this.init.store.streams.list()).sort((a, b) => b.createdAt - a.createdAt)
  }

  async getStream (id: string): Promise<StreamRecord | undefined> {
    return await this.init.store.streams.get(id)
  }

  /** Stops a stream for good: disconnects its publisher, ends its playlist. */
  async deleteStream (id: string): Promise<StreamRecord> {
    const rec = await this.init.store.streams.get(id)
    if (rec == null) throw new StreamNotFoundError(`no stream ${id}`)
    this.byKey.delete(rec.key)
    const session = this.sessions.get(id)
    this.sessions.delete(id)
    await session?.stop()
    const ended: StreamRecord = { ...(await this.init.store.streams.get(id) ?? rec), state: 'ended', endedAt: Date.now() }
    await this.init.store.streams.put(ended)
    await this.announce(ended)
    return ended
  }

  private async onPublish (key: string): Promise<void> {
    const id = this.byKey.get(key)
    if (id == null) return
    const rec = await this.init.store.streams.get(id)
    if (rec == null) return
    await this.sessions.get(id)?.stop()
    const live: StreamRecord = { ...rec, state: 'live', startedAt: Date.now() }
    await this.init.store.streams.put(live)
    const workDir = join(this.init.store.dataDir, 'incoming', id, String(Date.now()))
    await mkdir(workDir, { recursive: true })
    const session = new PublishSession(this.ctx, live, `rtmp://127.0.0.1:${this.init.rtmpPort}/live/${key}`, workDir)
    this.sessions.set(id, session)
    this.rtmp.once('unpublish', (k) => {
      if (k !== key || this.sessions.get(id) !== session) return
      void this.endSession(id, session, workDir)
    })
    session.start()
    this.log.info({ streamId: id }, 'publish started')
    await this.announce(live)
    this.provide(id)
  }

  /** Advertises a live stream on the DHT (a provider record for its key), again every 5 minutes. */
  private provide (id: string): void {
    const d = this.init.discovery
    if (d == null) return
    this.provided.set(id, Date.now())
    d.provideStream(id).then(() => { this.log.debug({ streamId: id }, 'stream provided on the DHT') }, (err) => { this.log.debug({ streamId: id, err: err?.message }, 'DHT provide failed') })
  }

  private async endSession (id: string, session: PublishSession, workDir: string): Promise<void> {
    await session.stop()
    if (this.sessions.get(id) === session) this.sessions.delete(id)
    await rm(workDir, { recursive: true, force: true })
    const rec = await this.init.store.streams.get(id)
    if (rec?.state === 'live') {
      await this.init.store.streams.put({ ...rec, state: 'idle' })
      await this.announce({ ...rec, state: 'idle' })
    }
  }

  private async onSegmentStored (stream: StreamRecord, seg: SegmentRecord): Promise<void> {
    const cur = await this.init.store.streams.get(stream.id) ?? stream
    const renditions = seg.renditions.map(r => ({ ...r, size: 0, sha256: '' }))
    const merged = mergeRenditions(cur.renditions ?? [], renditions)
    const next = { ...cur, source: stream.source ?? cur.source, lastSeq: Math.max(cur.lastSeq ?? -1, seg.seq), renditions: merged }
    await this.init.store.streams.put(next)
    if (merged.some((r, i) => r.bandwidth !== cur.renditions?.[i]?.bandwidth)) await this.announce(next)
  }

  private async announceAll (): Promise<void> {
    for (const s of await this.init.store.streams.list()) {
      if (s.state === 'live' || (s.state === 'ended' && Date.now() - (s.endedAt ?? 0) < 60_000)) await this.announce(s)
      if (s.state === 'live' && Date.now() - (this.provided.get(s.id) ?? 0) > 300_000) this.provide(s.id)
    }
  }

  private streamAnnounce (s: StreamRecord): StreamAnnounce {
    return {
      streamId: s.id,
      name: truncateUtf8(s.name, 200),
      state: s.state === 'ended' ? StreamAnnounce.State.ENDED : StreamAnnounce.State.LIVE,
      renditions: (s.renditions ?? []).map(r => ({ ...toWire(r), size: 0, sha256: new Uint8Array(0) })),
      targetDurationMs: this.init.segmentSeconds * 1000,
      lastSeq: s.lastSeq ?? 0,
      ingestMultiaddrs: this.init.libp2p.getMultiaddrs().slice(0, 16).map(m => m.bytes),
      updatedAtMs: Date.now()
    }
  }

  private async announce (s: StreamRecord): Promise<void> {
    await this.init.gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, this.streamAnnounce(s)).catch(() => {})
  }

  private async onBid (stream: Stream, peer: string): Promise<void> {
    const ch = messageChannel(this.init, stream, 'bid')
    try {
      const signal = AbortSignal.timeout(5000)
      const bid = await ch.read(codecs.bid, { signal })
      const auction = this.ctx.auctions.get(bid.jobId)
      const accepted = auction?.offer({ ...bid, peerId: peer, receivedAt: Date.now() }) ?? false
      if (accepted) this.ledger.addBid(bid.jobId, { peerId: peer, estimateMs: bid.estimateMs })
      await ch.write(codecs.bidAck, { accepted, reason: accepted ? '' : 'auction closed' }, { signal })
      await ch.close({ signal })
    } catch (err: any) {
      ch.abort(err)
    }
  }

  private async onFetch (stream: Stream, peer: string): Promise<void> {
    const ch = messageChannel(this.init, stream, 'fetch')
    try {
      const signal = AbortSignal.timeout(30_000)
      const req = await ch.read(codecs.fetchRequest, { signal })
      const notFound = async (error: string): Promise<void> => {
        await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.NOT_FOUND, error, size: 0, sha256: new Uint8Array(0), segments: [] }, { signal })
      }
      const rec = await this.init.store.streams.get(req.streamId)
      if (rec == null) {
        await notFound('unknown stream')
      } else if (req.kind === FetchRequest.Kind.INDEX) {
        const segs = await this.init.store.segments.recent(rec.id, Math.min(this.init.indexWindow ?? 64, MAX_INDEX_SEGMENTS))
        await ch.write(codecs.fetchResponse, {
          status: FetchResponse.Status.OK,
          error: '',
          size: 0,
          sha256: new Uint8Array(0),
          stream: this.streamAnnounce(rec),
          segments: segs.map(s => ({ streamId: s.streamId, seq: s.seq, durationMs: s.durationMs, pdtMs: s.pdtMs, discontinuity: s.discontinuity, renditions: s.renditions.map(toWire) }))
        }, { signal })
      } else {
        const seg = await this.init.store.segments.get(rec.id, req.seq)
        const r = seg?.renditions.find(x => x.name === req.rendition)
        const bytes = r != null ? await this.init.store.files.read(rec.id, r.name, req.seq) : undefined
        const decision = r != null && bytes != null
          ? this.uploads.decide(`${rec.id}/${r.name}/${req.seq}`, peer, { acceptBusy: req.acceptBusy === true, self: peer === this.init.protocols.self })
          : undefined
        if (r == null || bytes == null) {
          await notFound('no such segment')
        } else if (decision?.serve === false) {
          // Swarming: enough edges have (or are fetching) this one; fetch from them.
          this.served.busy.inc()
          await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.BUSY, error: 'served enough copies; fetch from a holder', size: 0, sha256: new Uint8Array(0), segments: [], busy: { holders: decision.holders } }, { signal })
        } else {
          await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.OK, error: '', size: bytes.byteLength, sha256: Buffer.from(r.sha256, 'hex'), segments: [] }, { signal })
          await ch.writeBytes(bytes, { signal })
          if (peer !== this.init.protocols.self) {
            this.served.copies.inc()
            this.served.bytes.inc(bytes.byteLength)
          }
        }
      }
      await ch.close({ signal })
    } catch (err: any) {
      ch.abort(err)
    }
  }

  private reputation (peer: string): number {
    const o = this.outcomes.get(peer)
    // Only failures cost reputation: a worker with a clean record scores 1, so
    // successes don't starve newcomers of work (exploration spreads the rest).
    if (o == null) return 1
    return (o.ok + 1) / (o.ok + o.bad + 1)
  }

  private recordOutcome (peer: string, outcome: string): void {
    const o = this.outcomes.get(peer) ?? { ok: 0, bad: 0 }
    if (outcome === 'ok') o.ok++
    else o.bad++
    this.outcomes.set(peer, o)
  }
}

/** The stream's renditions: union by name, keeping the highest bandwidth seen (the master playlist's BANDWIDTH is a peak). */
function mergeRenditions<T extends { name: string, bandwidth: number }> (a: T[], b: T[]): T[] {
  const map = new Map(a.map(r => [r.name, r]))
  for (const r of b) {
    const old = map.get(r.name)
    map.set(r.name, old != null && old.bandwidth > r.bandwidth ? { ...r, bandwidth: old.bandwidth } : r)
  }
  return [...map.values()]
}

/**
 * Counters of segment bytes served over PROTOCOL_FETCH to other peers (the
 * ingest's upload, or an edge's share of swarming). One set per registry:
 * created by whichever role serves first.
 */
export function fetchServeMetrics (registry: Registry): { copies: Counter, bytes: Counter, busy: Counter } {
  const get = (name: string, help: string): Counter => (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] })
  return {
    copies: get('diststream_fetch_served_total', 'Rendition segments served to other peers over /diststream/fetch'),
    bytes: get('diststream_fetch_served_bytes_total', 'Rendition bytes served to other peers over /diststream/fetch'),
    busy: get('diststream_fetch_busy_total', 'Fetch requests answered BUSY (enough copies served; the requester fetches from a holder)')
  }
}
