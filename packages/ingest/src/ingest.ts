import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { truncateUtf8, codecs, FetchRequest, MAX_INDEX_SEGMENTS, PROTOCOL_BID, PROTOCOL_FETCH, StreamAnnounce, TOPIC_STREAMS } from '@diststream/protocol'
import { ladderForSource } from '@diststream/media'
import { JobLedger, LifecycleSweeper, ReputationBook, TERMINAL_STATES } from '@diststream/scheduler'
import { Counter, Gauge, Histogram } from 'prom-client'
import { UploadLimiter } from './upload-limit.js'
import { newStreamId, newStreamKey } from './keys.js'
import { RtmpServer } from './rtmp.js'
import { PublishSession, toWire } from './session.js'
import { checkPullSource, parseSourceUrl, redactSourceText } from './sources.js'
import type { SessionEnd, SessionOptions } from './session.js'
import type { IngestContext, IngestMetrics } from './context.js'
import type { FfmpegPaths, RungSpec } from '@diststream/media'
import { messageChannel, serveFetch } from '@diststream/p2p'
import type { P2PNode, PeerComponents, PresenceService } from '@diststream/p2p'
import type { Auction, LifecycleAction, LifecycleRecord } from '@diststream/scheduler'
import type { WebhookEventData, WebhookEventType } from '@diststream/webhooks'
import type { SegmentRecord, Store, StreamRecord } from '@diststream/store'
import type { Stream } from '@libp2p/interface'
import type { PublishReader, RtmpSession } from './rtmp.js'
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
  /** Attempts per job, hedges included (default 4). */
  maxAttempts?: number
  /** Share of jobs re-run on a second worker and compared by PSNR (0–1, default 0.05). */
  spotCheckRate?: number
  /** Segments kept in the INDEX an edge gets when it starts following. */
  indexWindow?: number
  /** Stream lifecycle: stale streams are ended, ended ones removed after the DVR retention. Off when absent. */
  lifecycle?: { staleMs: number, retentionMs: number, sweepMs?: number }
  /** Stream events (for webhooks). */
  onEvent?: <T extends WebhookEventType>(type: T, data: WebhookEventData[T]) => void
  /** Copies of each rendition segment served to swarming edges before answering BUSY (default 2). */
  maxCopiesPerSegment?: number
  /** Rendition container of new streams (`--container`): fragmented MP4 (`cmaf`) or MPEG-TS (`ts`, the default here). Kept on each stream record. */
  container?: 'cmaf' | 'ts'
}

export class StreamEndedError extends Error {
  static readonly NAME = 'StreamEndedError'
  override name = StreamEndedError.NAME
  readonly statusCode = 409
}

/** The wire state of a stream: a stream whose publisher left is over for players (ENDLIST) until it is published again. */
export function isEndedForPlayers (s: StreamRecord): boolean {
  return s.state === 'ended' || (s.state === 'idle' && s.endedAt != null && s.endedAt >= (s.startedAt ?? 0))
}

/** What the lifecycle rules see of a stream record. */
export function lifecycleRecord (s: StreamRecord): LifecycleRecord {
  return {
    id: s.id,
    ended: s.state === 'ended',
    lastActivityAt: Math.max(s.createdAt, s.startedAt ?? 0, s.endedAt ?? 0, s.lastSegmentAt ?? 0, s.heartbeatAt ?? 0),
    endedAt: s.endedAt
  }
}

/** Segments of a VOD read and on the market at once (the rest wait on disk). */
const VOD_MAX_INFLIGHT = 8

export class StreamNotFoundError extends Error {
  static readonly NAME = 'StreamNotFoundError'
  override name = StreamNotFoundError.NAME
  readonly statusCode = 404
}

export class Ingest {
  readonly ledger = new JobLedger()
  /** Worker reputation, persisted in the store (`workers` table). */
  readonly workers: ReputationBook
  private readonly rtmp: RtmpServer
  private readonly sessions = new Map<string, PublishSession>()
  private readonly byKey = new Map<string, string>()
  private readonly ctx: IngestContext
  private readonly log: Logger
  private readonly assigned = new Map<string, number>()
  private announceTimer?: NodeJS.Timeout
  private readonly recovering = new Set<PublishSession>()
  private readonly sweeper?: LifecycleSweeper
  private started = false
  /** VOD progress, in memory while processing (persisted once done). */
  private readonly progress = new Map<string, NonNullable<StreamRecord['progress']>>()
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
      hedged: new Counter({ name: 'diststream_jobs_hedged_total', help: 'Duplicate attempts started because the first worker was late against its own estimate', registers }),
      rebids: new Counter({ name: 'diststream_jobs_rebid_total', help: 'Jobs re-announced because every bid in hand failed', registers }),
      spotChecks: new Counter({ name: 'diststream_spot_checks_total', help: 'Jobs re-run on a second worker and compared against the source, by verdict', labelNames: ['verdict'], registers }),
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
      maxAttempts: init.maxAttempts ?? 4,
      spotCheckRate: init.spotCheckRate ?? 0.05,
      ledger: this.ledger,
      auctions: new Map<string, Auction>(),
      metrics,
      fitLadder: (w, h) => ladderForSource(init.ladder, w, h),
      workers: undefined as unknown as ReputationBook,
      lastAssigned: (peer) => this.assigned.get(peer),
      markAssigned: (peer) => { this.assigned.set(peer, Date.now()) },
      onSegmentStored: async (stream, seg) => { await this.onSegmentStored(stream, seg) },
      onProtocolError: init.onProtocolError
    }
    this.workers = new ReputationBook({
      onChange: (r) => { init.store.workers.put(r.peerId, r).catch(err => { this.log.warn({ err }, 'could not persist worker reputation') }) }
    })
    this.ctx.workers = this.workers
    this.ledger.on('change', ({ kind, job }) => {
      if (kind === 'state' && TERMINAL_STATES.has(job.state)) {
        init.store.jobs.put(job).catch(err => { this.log.warn({ err }, 'could not persist job') })
      }
    })
    this.rtmp = new RtmpServer({
      port: init.rtmpPort,
      host: init.rtmpHost,
      storeDir: join(init.store.dataDir, 'rtmp'),
      logger: this.log,
      authorizePublish: (key) => this.byKey.has(key)
    })
    this.rtmp.on('publish', (key, rtmpSession) => {
      // Attach the reader at once, before any await: it buffers from the first tag, so the segment cut sees the publish from its start.
      const reader = this.byKey.has(key) ? this.rtmp.openReader(key, rtmpSession) : undefined
      this.onPublish(key, rtmpSession, reader).catch(err => { reader?.destroy(); this.log.error({ err }, 'publish failed') })
    })
    if (init.lifecycle != null) {
      this.sweeper = new LifecycleSweeper({
        policy: init.lifecycle,
        everyMs: init.lifecycle.sweepMs ?? 5000,
        records: async () => (await this.init.store.streams.list()).map(lifecycleRecord),
        apply: async (a) => { await this.applyLifecycle(a) },
        onError: (err, a) => { this.log.warn({ err, streamId: a?.id }, 'lifecycle action failed') }
      })
    }
  }

  /** Started and not stopped (for /readyz). */
  get ready (): boolean { return this.started }

  /** Streams being published right now. */
  activeStreams (): string[] { return [...this.sessions.keys()] }

  /** Keeps a stream from being ended as stale. */
  async heartbeat (id: string): Promise<StreamRecord> {
    const rec = await this.init.store.streams.get(id)
    if (rec == null) throw new StreamNotFoundError(`no stream ${id}`)
    if (rec.state === 'ended') throw new StreamEndedError(`stream ${id} has ended`)
    const next = { ...rec, heartbeatAt: Date.now() }
    await this.init.store.streams.put(next)
    return next
  }

  async start (): Promise<void> {
    const restored = { workers: this.workers.restore(await this.init.store.workers.values() as never[]), jobs: this.ledger.restore(await this.init.store.jobs.recent(this.ledger.maxJobs)) }
    if (restored.workers + restored.jobs > 0) this.log.info(restored, 'restored worker reputation and job history')
    for (const s of await this.init.store.streams.list()) {
      if (s.sourceUrl == null && s.vod !== true && s.state !== 'ended') this.byKey.set(s.key, s.id)
      // Its publish session died with the previous process: over for players until published again.
      if (s.state === 'live' && s.sourceUrl == null) await this.init.store.streams.put({ ...s, state: 'idle', endedAt: Date.now() })
      if (s.state === 'processing') await this.init.store.streams.put({ ...s, state: 'failed', error: 'the ingest restarted while processing this VOD; upload it again', endedAt: Date.now() })
    }
    await this.init.protocols.handle(PROTOCOL_BID, (stream, peer) => { this.onBid(stream, peer).catch(() => {}) }, { maxInboundStreams: 256 })
    await this.init.protocols.handle(PROTOCOL_FETCH, (stream, peer) => { this.onFetch(stream, peer).catch(() => {}) }, { maxInboundStreams: 256 })
    await this.rtmp.start()
    await this.recoverPending()
    // Pulled streams go on pulling after a restart (a file starts over, after a discontinuity).
    for (const s of await this.init.store.streams.list()) {
      if (s.state === 'live' && s.sourceUrl != null) await this.startPull(s, s.sourceUrl).catch(err => { this.log.warn({ err, streamId: s.id }, 'could not resume a pulled stream') })
    }
    this.announceTimer = setInterval(() => { this.announceAll().catch(() => {}) }, 2000)
    this.announceTimer.unref()
    this.sweeper?.start()
    this.started = true
  }

  async stop (): Promise<void> {
    this.started = false
    await this.sweeper?.stop()
    clearInterval(this.announceTimer)
    await Promise.allSettled([...this.recovering].map(async s => { await s.kill() }))
    await Promise.allSettled([...this.sessions.values()].map(async s => { await s.kill() }))
    this.sessions.clear()
    await this.rtmp.stop()
    await this.init.protocols.unhandle(PROTOCOL_BID)
    await this.init.protocols.unhandle(PROTOCOL_FETCH)
  }

  /** Container of streams created from now on. */
  get container (): 'cmaf' | 'ts' { return this.init.container ?? 'ts' }

  async createStream (name: string): Promise<StreamRecord> {
    const rec: StreamRecord = { id: newStreamId(), name, key: newStreamKey(), createdAt: Date.now(), state: 'idle', container: this.container }
    await this.init.store.streams.put(rec)
    this.byKey.set(rec.key, rec.id)
    return rec
  }

  /**
   * A stream pulled from `sourceUrl` (RTMP, RTSP, HLS, an HTTP or file URL,
   * an absolute path: anything ffmpeg reads; see sources.ts) through the
   * same segmenter and job market as an RTMP publish. Live until the source
   * ends (`ended`), or `failed` with ffmpeg's reason if it cannot be read.
   * Throws SourceUrlError for a refused URL.
   */
  async createPullStream (name: string, sourceUrl: string): Promise<StreamRecord> {
    const src = parseSourceUrl(sourceUrl)
    await checkPullSource(src)
    const rec: StreamRecord = { id: newStreamId(), name, key: newStreamKey(), createdAt: Date.now(), state: 'live', startedAt: Date.now(), sourceUrl, container: this.container }
    await this.init.store.streams.put(rec)
    await this.startPull(rec, sourceUrl)
    return rec
  }

  private async startPull (rec: StreamRecord, sourceUrl: string): Promise<void> {
    const src = parseSourceUrl(sourceUrl)
    const live: StreamRecord = { ...rec, state: 'live', startedAt: Date.now() }
    await this.init.store.streams.put(live)
    await this.runSession(live, src.input, { inputArgs: src.realtime ? ['-re'] : [], maxRestarts: 2 }, async (end, current) => {
      if (!current) return
      const cur = await this.init.store.streams.get(rec.id) ?? live
      if (cur.state !== 'live') return
      const next: StreamRecord = end.error != null
        ? { ...cur, state: 'failed', error: `cannot read the source: ${redactSourceText(end.error, sourceUrl, src)}`, endedAt: Date.now() }
        : { ...cur, state: 'ended', endedAt: Date.now() }
      await this.init.store.streams.put(next)
      await this.announce(next)
      this.log.info({ streamId: rec.id, state: next.state, segments: end.segments, err: next.error }, 'pulled source ended')
    })
  }

  /**
   * A video on demand from a file (or any source ffmpeg reads): cut at once
   * (not at the native rate), every segment a job on the network at once,
   * bounded by the workers there are (the session's queue). `processing`
   * until every segment is finished, then `ready` (edges serve a VOD
   * playlist), or `failed` with the reason. `deleteAfter` removes the input
   * file when done (an upload).
   */
  async createVod (name: string, input: string, opts: { deleteAfter?: boolean } = {}): Promise<StreamRecord> {
    const src = parseSourceUrl(input)
    await checkPullSource(src)
    const rec: StreamRecord = { id: newStreamId(), name, key: newStreamKey(), createdAt: Date.now(), startedAt: Date.now(), state: 'processing', vod: true, sourceUrl: input, container: this.container }
    await this.init.store.streams.put(rec)
    this.progress.set(rec.id, { segments: 0, done: 0, cutDone: false })
    let tooLong = false
    const session = await this.runSession(rec, src.input, {
      rwTimeoutMs: 0,
      maxRestarts: 0,
      // Every segment waits its turn in the queue however long the file is; with no worker at all the source passes through.
      maxQueueMs: 3_600_000,
      // The whole file is cut at once: segments wait on disk, a few in memory and on the market.
      maxInflight: VOD_MAX_INFLIGHT,
      onProgress: ({ cut, done }) => {
        this.progress.set(rec.id, { segments: cut, done, cutDone: false })
        // Longer than an INDEX can list: stop now rather than transcode what can never be served.
        if (cut > MAX_INDEX_SEGMENTS && !tooLong) { tooLong = true; void session.kill() }
      }
    }, async (end, current) => {
      this.progress.delete(rec.id)
      if (opts.deleteAfter === true && src.file != null) await rm(src.file, { force: true })
      if (!current) return
      const cur = await this.init.store.streams.get(rec.id) ?? rec
      if (cur.state !== 'processing') return
      const error = end.error != null
        ? `cannot read the file: ${end.error}`
        : end.segments === 0
          ? 'the file has no video'
          : tooLong || end.segments > MAX_INDEX_SEGMENTS ? `the video is longer than ${MAX_INDEX_SEGMENTS} segments, the most a VOD may have` : undefined
      const next: StreamRecord = error != null
        ? { ...cur, state: 'failed', error, endedAt: Date.now() }
        : { ...cur, state: 'ready', endedAt: Date.now(), progress: { segments: end.segments, done: end.segments, cutDone: true } }
      await this.init.store.streams.put(next)
      await this.announce(next)
      this.log.info({ streamId: rec.id, state: next.state, segments: end.segments, err: error }, 'VOD done')
    })
    return rec
  }

  /** Runs a session on `input` until it is over, then `onEnd` (`current` false if the stream was stopped meanwhile). */
  private async runSession (rec: StreamRecord, input: string, opts: SessionOptions, onEnd: (end: SessionEnd, current: boolean) => Promise<void>): Promise<PublishSession> {
    const workDir = join(this.init.store.dataDir, 'incoming', rec.id, String(Date.now()))
    await mkdir(workDir, { recursive: true })
    const session = new PublishSession(this.ctx, rec, input, workDir, opts)
    this.sessions.set(rec.id, session)
    session.start()
    await this.announce(rec)
    void session.finished().then(async (end) => {
      const current = this.sessions.get(rec.id) === session
      if (current) this.sessions.delete(rec.id)
      await onEnd(end, current)
      await rm(workDir, { recursive: true, force: true })
    }).catch(err => { this.log.error({ err, streamId: rec.id }, 'session end failed') })
    return session
  }

  async listStreams (): Promise<StreamRecord[]> {
    return (await this.init.store.streams.list()).map(s => this.withProgress(s)).sort((a, b) => b.createdAt - a.createdAt)
  }

  async getStream (id: string): Promise<StreamRecord | undefined> {
    const s = await this.init.store.streams.get(id)
    return s == null ? undefined : this.withProgress(s)
  }

  private withProgress (s: StreamRecord): StreamRecord {
    const p = this.progress.get(s.id)
    return p == null ? s : { ...s, progress: p }
  }

  /** Stops a stream for good: disconnects its publisher, ends its playlist. */
  async deleteStream (id: string, reason: 'deleted' | 'stale' = 'deleted'): Promise<StreamRecord> {
    const rec = await this.init.store.streams.get(id)
    if (rec == null) throw new StreamNotFoundError(`no stream ${id}`)
    this.byKey.delete(rec.key)
    const session = this.sessions.get(id)
    this.sessions.delete(id)
    // A VOD's queued segments are abandoned; a live stream's segments in flight are finished.
    if (rec.state === 'processing') await session?.kill()
    else await session?.stop()
    const cur = await this.init.store.streams.get(id) ?? rec
    // A VOD stopped while processing has failed; a ready one is no longer announced (edges keep what they have).
    // A stream whose publisher already left ended then (for players and for its retention).
    const ended: StreamRecord = cur.state === 'processing'
      ? { ...cur, state: 'failed', error: 'stopped by DELETE while processing', endedAt: Date.now() }
      : { ...cur, state: cur.state === 'failed' ? 'failed' : 'ended', endedAt: cur.state !== 'ready' && isEndedForPlayers(cur) && cur.endedAt != null ? cur.endedAt : Date.now() }
    this.progress.delete(id)
    await this.init.store.streams.put(ended)
    await this.announce(ended)
    if (!isEndedForPlayers(cur)) this.emitEnded(ended, reason)
    return ended
  }

  /**
   * Segments the last run cut but never finished (it was killed): transcode
   * and announce them now, in order, so edges get no hole where it died.
   */
  private async recoverPending (): Promise<void> {
    for (const rec of await this.init.store.streams.list()) {
      const pending = (await this.init.store.segments.recent(rec.id, MAX_INDEX_SEGMENTS)).filter(x => x.pending === true)
      if (pending.length === 0) continue
      this.log.info({ streamId: rec.id, seqs: pending.map(p => p.seq) }, 'recovering segments left pending')
      const session = new PublishSession(this.ctx, rec, '', join(this.init.store.dataDir, 'incoming', rec.id, 'recovery'))
      this.recovering.add(session)
      void Promise.allSettled(pending.map(async p => { await session.recover(p) }))
        .then(async () => { await this.announce(await this.init.store.streams.get(rec.id) ?? rec) })
        .finally(() => this.recovering.delete(session))
    }
  }

  private emitEnded (s: StreamRecord, reason: 'unpublished' | 'deleted' | 'stale'): void {
    this.init.onEvent?.('stream.ended', { streamId: s.id, name: s.name, endedAt: new Date(s.endedAt ?? Date.now()).toISOString(), lastSeq: s.lastSeq ?? null, reason })
  }

  /** Stale: ended as if deleted. Past the DVR retention: the record, segment index and files go. */
  private async applyLifecycle (a: LifecycleAction): Promise<void> {
    if (a.action === 'end') {
      this.log.info({ streamId: a.id, reason: a.reason }, 'ending stream')
      await this.deleteStream(a.id, 'stale')
      return
    }
    const rec = await this.init.store.streams.get(a.id)
    if (rec == null || rec.state !== 'ended') return
    await this.init.store.streams.delete(a.id)
    await this.init.store.segments.deleteStream(a.id)
    await this.init.store.files.removeStream(a.id)
    this.log.info({ streamId: a.id }, 'stream removed after its DVR retention')
  }

  private async onPublish (key: string, rtmpSession: RtmpSession, firstReader?: PublishReader): Promise<void> {
    const id = this.byKey.get(key)
    if (id == null) { firstReader?.destroy(); return }
    const rec = await this.init.store.streams.get(id)
    if (rec == null) { firstReader?.destroy(); return }
    await this.sessions.get(id)?.stop()
    const live: StreamRecord = { ...rec, state: 'live', startedAt: Date.now() }
    await this.init.store.streams.put(live)
    const workDir = join(this.init.store.dataDir, 'incoming', id, String(Date.now()))
    await mkdir(workDir, { recursive: true })
    let reader = firstReader
    const session = new PublishSession(this.ctx, live, 'pipe:0', workDir, {
      // The publish, read in-process from node-media-server; a restarted segmenter gets a new reader (sequence headers + cached GOP).
      openStdin: () => {
        const r = reader ?? this.rtmp.openReader(key, rtmpSession)
        reader = undefined
        return r
      }
    })
    this.sessions.set(id, session)
    const onUnpublish = (k: string): void => {
      if (k !== key) return
      this.rtmp.off('unpublish', onUnpublish)
      if (this.sessions.get(id) !== session) return
      this.endSession(id, session, workDir).catch(err => { this.log.error({ err, streamId: id }, 'ending the publish failed') })
    }
    this.rtmp.on('unpublish', onUnpublish)
    // The segmenter sees the input end long before node-media-server reports the unpublish (its socket timeout).
    session.onInputEnd = () => {
      this.rtmp.off('unpublish', onUnpublish)
      if (this.sessions.get(id) === session) this.endSession(id, session, workDir).catch(err => { this.log.error({ err, streamId: id }, 'ending the publish failed') })
    }
    session.start()
    this.log.info({ streamId: id }, 'publish started')
    await this.announce(live)
    this.init.onEvent?.('stream.started', { streamId: id, name: live.name, startedAt: new Date(live.startedAt!).toISOString() })
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
    // Stopping the node ends every publish; the store may be closing: the next start sorts the records out.
    if (!this.started) return
    const rec = await this.init.store.streams.get(id)
    if (rec?.state === 'live' && !this.sessions.has(id)) {
      // Over for players (ENDLIST) until published again; the stale sweep ends it for good.
      const idle: StreamRecord = { ...rec, state: 'idle', endedAt: Date.now() }
      await this.init.store.streams.put(idle)
      await this.announce(idle)
      this.emitEnded(idle, 'unpublished')
    }
  }

  private async onSegmentStored (stream: StreamRecord, seg: SegmentRecord): Promise<void> {
    const cur = await this.init.store.streams.get(stream.id) ?? stream
    if (seg.pending === true) {
      // Only claim the sequence number: its renditions are not known yet.
      await this.init.store.streams.put({ ...cur, lastSeq: Math.max(cur.lastSeq ?? -1, seg.seq) })
      return
    }
    const renditions = seg.renditions.map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, size: 0, sha256: '' }))
    const merged = mergeRenditions(cur.renditions ?? [], renditions)
    const next = { ...cur, source: stream.source ?? cur.source, lastSeq: Math.max(cur.lastSeq ?? -1, seg.seq), lastSegmentAt: Date.now(), renditions: merged }
    await this.init.store.streams.put(next)
    this.init.onEvent?.('segment.ready', { streamId: seg.streamId, seq: seg.seq, durationMs: seg.durationMs, pdtMs: seg.pdtMs, renditions: seg.renditions.map(r => ({ name: r.name, size: r.size, sha256: r.sha256 })) })
    if (merged.some((r, i) => r.bandwidth !== cur.renditions?.[i]?.bandwidth)) await this.announce(next)
  }

  private async announceAll (): Promise<void> {
    for (const s of await this.init.store.streams.list()) {
      // Ready VODs are announced for as long as they are kept, so edges can find them.
      if (s.state === 'live' || s.state === 'processing' || s.state === 'ready' || ((isEndedForPlayers(s) || s.state === 'failed') && Date.now() - (s.endedAt ?? 0) < 60_000)) await this.announce(s)
      if (s.state === 'live' && Date.now() - (this.provided.get(s.id) ?? 0) > 300_000) this.provide(s.id)
    }
  }

  private streamAnnounce (s: StreamRecord): StreamAnnounce {
    return {
      streamId: s.id,
      name: truncateUtf8(s.name, 200),
      // A VOD is LIVE while processing (workers take jobs only for live streams), ENDED once ready.
      state: s.state === 'ready' || s.state === 'failed' || isEndedForPlayers(s) ? StreamAnnounce.State.ENDED : StreamAnnounce.State.LIVE,
      ...(s.vod === true ? { vod: true } : {}),
      ...(s.container === 'cmaf' ? { container: 'cmaf' } : {}),
      renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, size: 0, sha256: new Uint8Array(0) })),
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
    await serveFetch(this.init, stream, async (req) => {
      const rec = await this.init.store.streams.get(req.streamId)
      if (rec == null) return { status: 'not_found', error: 'unknown stream' }
      if (req.kind === FetchRequest.Kind.INDEX) {
        // A VOD's index is every segment (at most MAX_INDEX_SEGMENTS, enforced when it is made).
        const segs = (await this.init.store.segments.recent(rec.id, rec.vod === true ? MAX_INDEX_SEGMENTS : Math.min(this.init.indexWindow ?? 64, MAX_INDEX_SEGMENTS))).filter(x => x.pending !== true)
        return {
          status: 'index',
          stream: this.streamAnnounce(rec),
          segments: segs.map(s => ({ streamId: s.streamId, seq: s.seq, durationMs: s.durationMs, pdtMs: s.pdtMs, discontinuity: s.discontinuity, renditions: s.renditions.map(toWire), ...(s.mediaTime != null ? { mediaTime: s.mediaTime } : {}) }))
        }
      }
      const seg = await this.init.store.segments.get(rec.id, req.seq)
      const r = seg?.renditions.find(x => x.name === req.rendition)
      const bytes = r != null ? await this.init.store.files.read(rec.id, r.name, req.seq) : undefined
      if (r == null || bytes == null) return { status: 'not_found', error: 'no such segment' }
      const decision = this.uploads.decide(`${rec.id}/${r.name}/${req.seq}`, peer, { acceptBusy: req.acceptBusy === true, self: peer === this.init.protocols.self })
      if (!decision.serve) {
        // Swarming: enough edges have (or are fetching) this one; fetch from them.
        this.served.busy.inc()
        return { status: 'busy', error: 'served enough copies; fetch from a holder', holders: decision.holders }
      }
      return {
        status: 'segment',
        data: bytes,
        sha256: Buffer.from(r.sha256, 'hex'),
        onSent: () => {
          if (peer === this.init.protocols.self) return
          this.served.copies.inc()
          this.served.bytes.inc(bytes.byteLength)
        }
      }
    })
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
