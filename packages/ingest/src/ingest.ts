import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_INDEX_SEGMENTS, PROTOCOL_BID, PROTOCOL_FETCH } from '@diststream/protocol'
import { JobLedger, ReputationBook, TERMINAL_STATES } from '@diststream/scheduler'
import { BoundedMap } from '@diststream/util'
import { StreamAnnouncer } from './announcer.js'
import { CapacitySignal } from './capacity.js'
import { INGEST_DEFAULTS, MAX_ASSIGNED_WORKERS, MAX_INBOUND_FETCH_STREAMS, MAX_INBOUND_STREAMS, PULL_MAX_RESTARTS, VOD_MAX_INFLIGHT, VOD_MAX_QUEUE_MS } from './constants.js'
import { SourceUrlError, StreamEndedError, StreamNotFoundError } from './errors.js'
import { segmentReady, streamEnded, vodReady } from './events.js'
import { handleBid } from './handlers/bid.js'
import { createLifecycleSweeper } from './lifecycle.js'
import { FetchServer } from './handlers/fetch.js'
import { hashStreamKey, newStreamIdentity, newStreamKeyPair } from './keys.js'
import { ingestContext } from './ingest-context.js'
import { createUploadGauge } from './metrics.js'
import { recoverPending } from './recovery.js'
import { Restreamer } from './restream/restreamer.js'
import { RtmpPublishes } from './rtmp-publish.js'
import { PublishSession } from './session/session.js'
import { SrtPublishes } from './srt/srt-publish.js'
import { checkPullSource, parseSourceUrl, redactSourceText } from './sources.js'
import { checkSourcePolicy, protocolWhitelist, SourceRefusedError, systemPolicyIo } from './source-policy.js'
import { acceptsPublish, afterDelete, afterSegment, goLive, isEndedForPlayers, onRestart, pullEnded, vodEnded } from './stream-state.js'
import { UploadLimiter } from './upload-limit.js'
import { WhipPublishes } from './whip/publishes.js'
import type { SessionEnd, SessionOptions } from './session/session.js'
import type { PullSource } from './sources.js'
import type { IngestContext, IngestInit } from './types.js'
import type { LifecycleSweeper, RungState } from '@diststream/scheduler'
import type { SegmentRecord, StreamRecord } from '@diststream/store'
import type { PeerPresence } from '@diststream/p2p'
import type { Startable } from '@libp2p/interface'
import type { Logger } from 'pino'

/**
 * The ingest role: wiring, start/stop, and the streams it owns (create,
 * pull, VOD, delete, heartbeat). RTMP publishes, announcements, the inbound
 * protocols and recovery live in their own files; state transitions in
 * stream-state.ts.
 */
export class Ingest implements Startable {
  readonly ledger = new JobLedger()
  /** Worker reputation, persisted in the store (`workers` table). */
  readonly workers: ReputationBook
  /** Restream (multistream) outputs of the streams published here. */
  readonly restream: Restreamer
  #shutdown = new AbortController()
  #started = false
  private readonly sessions = new Map<string, PublishSession>()
  private readonly recovering = new Set<PublishSession>()
  /** Session ends being handled (stop waits for them). */
  private readonly ending = new Set<Promise<void>>()
  /** VOD progress, in memory while processing (persisted once done). */
  private readonly progress = new Map<string, NonNullable<StreamRecord['progress']>>()
  /** worker → when it was last given a job; bounded like the reputation book (review M13: Sybil ids). */
  private readonly assigned = new BoundedMap<string, number>(MAX_ASSIGNED_WORKERS)
  private readonly ctx: IngestContext
  private readonly log: Logger
  private readonly announcer: StreamAnnouncer
  private readonly publishes: RtmpPublishes
  private readonly srt?: SrtPublishes
  /** WHIP publishes (`POST /whip/<key>`), with the same keys as RTMP. */
  readonly whip: WhipPublishes
  private readonly fetchServer: FetchServer
  private readonly sweeper?: LifecycleSweeper
  /** Wakes queued jobs when a worker may have room. */
  private readonly capacity = new CapacitySignal()
  /** Presence of a worker with a free slot: queued jobs go back on the market. */
  private readonly onPresence = (p: PeerPresence): void => {
    if (p.roles.includes('worker') && p.activeJobs < p.maxJobs) this.capacity.freed()
  }

  constructor (private readonly init: IngestInit) {
    this.log = init.logger.child({ component: 'ingest' })
    this.workers = new ReputationBook({
      onChange: (r) => { init.store.workers.put(r.peerId, r).catch(err => { this.log.warn({ err }, 'could not persist worker reputation') }) },
      onEvict: (peerId) => { init.store.workers.delete(peerId).catch(err => { this.log.warn({ err }, 'could not delete a forgotten worker\'s reputation') }) }
    })
    this.ctx = ingestContext(init, {
      logger: this.log,
      ledger: this.ledger,
      workers: this.workers,
      assigned: this.assigned,
      capacity: this.capacity,
      onSegmentStored: async (stream, seg) => { await this.onSegmentStored(stream, seg) }
    })
    this.ledger.on('change', ({ kind, job }) => {
      if (kind === 'state' && TERMINAL_STATES.has(job.state)) {
        init.store.jobs.put(job).catch(err => { this.log.warn({ err }, 'could not persist job') })
      }
    })
    this.announcer = new StreamAnnouncer({ gossip: init.gossip, libp2p: init.libp2p, discovery: init.discovery, store: init.store, segmentSeconds: init.segmentSeconds, logger: this.log })
    const newSession = this.newSession.bind(this)
    this.restream = new Restreamer({ table: init.store.outputs, ffmpegPath: init.ffmpeg.ffmpeg, logger: this.log, registry: init.registry, policy: { allowPrivate: init.sourcePolicy?.allowPrivate } })
    this.publishes = new RtmpPublishes({ rtmpPort: init.rtmpPort, rtmpHost: init.rtmpHost ?? INGEST_DEFAULTS.rtmpHost, store: init.store, logger: this.log, announcer: this.announcer, onEvent: init.onEvent, sessions: this.sessions, newSession, restream: this.restream, shutdown: () => this.#shutdown.signal })
    if (init.srtPort != null) this.srt = new SrtPublishes({ port: init.srtPort, host: init.rtmpHost ?? INGEST_DEFAULTS.rtmpHost, ...(init.srtPassphrase != null ? { passphrase: init.srtPassphrase } : {}), streamOf: (key) => this.publishes.streamOf(key), refused: this.ctx.metrics.srtRefused, store: init.store, logger: this.log, announcer: this.announcer, onEvent: init.onEvent, sessions: this.sessions, newSession, shutdown: () => this.#shutdown.signal })
    this.whip = new WhipPublishes({ store: init.store, logger: this.log, registry: init.registry, announcer: this.announcer, onEvent: init.onEvent, ffmpegPath: init.ffmpeg.ffmpeg, segmentSeconds: init.segmentSeconds, streamIdOf: (h) => this.publishes.streamIdOf(h), sessions: this.sessions, newSession, shutdown: () => this.#shutdown.signal, hostAddresses: ['127.0.0.1'] })
    const uploads = new UploadLimiter({ maxCopies: init.maxCopiesPerSegment ?? INGEST_DEFAULTS.maxCopiesPerSegment })
    createUploadGauge(init.registry, () => uploads.maxCopiesServed())
    this.fetchServer = new FetchServer({ components: init, protocols: init.protocols, store: init.store, registry: init.registry, uploads, indexWindow: init.indexWindow ?? INGEST_DEFAULTS.indexWindow, streamAnnounce: (s) => this.announcer.streamAnnounce(s) })
    if (init.lifecycle != null) this.sweeper = createLifecycleSweeper({ policy: init.lifecycle, store: init.store, logger: this.log, end: async (id) => { await this.deleteStream(id, 'stale') } })
  }

  isStarted (): boolean { return this.#started }

  /** Started and not stopped (for /readyz). */
  get ready (): boolean { return this.isStarted() }

  /** Container of streams created from now on. */
  get container (): 'cmaf' | 'ts' { return this.init.container ?? INGEST_DEFAULTS.container }

  /** The UDP port SRT publishes go to (the one bound when the config said 0); undefined without SRT. */
  get srtPort (): number | undefined { return this.srt?.port }

  /** Streams being published right now. */
  activeStreams (): string[] { return [...this.sessions.keys()] }

  /** A live stream published here: its rungs, costliest first, and whether each is transcoded now (undefined: not live here, or no segment yet). */
  rungState (streamId: string): RungState[] | undefined {
    return this.sessions.get(streamId)?.rungState()
  }

  async start (): Promise<void> {
    if (this.#shutdown.signal.aborted) this.#shutdown = new AbortController()
    const { store, protocols } = this.init
    const restored = { workers: this.workers.restore(await store.workers.values() as never[]), jobs: this.ledger.restore(await store.jobs.recent(this.ledger.maxJobs)) }
    if (restored.workers + restored.jobs > 0) this.log.info(restored, 'restored worker reputation and job history')
    for (const stored of await store.streams.list()) {
      const s = withHashedKey(stored)
      if (acceptsPublish(s)) this.publishes.allow(s.keyHash, s.id)
      const next = onRestart(s, Date.now()) ?? (s !== stored ? s : undefined)
      if (next != null) await store.streams.put(next)
    }
    const shutdown = this.#shutdown.signal
    await protocols.handle(PROTOCOL_BID, (stream, peer) => {
      handleBid(stream, peer, { components: this.init, auctions: this.ctx.auctions, ledger: this.ledger, shutdown }).catch(err => { this.log.debug({ err, peer }, 'bid exchange failed') })
    }, { maxInboundStreams: MAX_INBOUND_STREAMS })
    await protocols.handle(PROTOCOL_FETCH, (stream, peer) => {
      this.fetchServer.serve(stream, peer).catch(err => { this.log.debug({ err, peer }, 'fetch exchange failed') })
    }, { maxInboundStreams: MAX_INBOUND_FETCH_STREAMS })
    await this.publishes.start()
    await this.srt?.start()
    await recoverPending({ store, logger: this.log, newSession: this.newSession.bind(this), recovering: this.recovering, announce: async (rec) => { await this.announcer.announce(rec) } })
    // Pulled streams go on pulling after a restart (a file starts over, after a discontinuity).
    for (const s of await store.streams.list()) {
      if (s.state === 'live' && s.sourceUrl != null) await this.source(s.sourceUrl).then(async () => { await this.startPull(s, s.sourceUrl!) }).catch(err => { this.log.warn({ err, streamId: s.id }, 'could not resume a pulled stream') })
    }
    this.init.presence.on('peer', this.onPresence)
    this.announcer.start()
    this.sweeper?.start()
    this.#started = true
  }

  async stop (): Promise<void> {
    this.#shutdown.abort()
    this.#started = false
    this.init.presence.off('peer', this.onPresence)
    await this.sweeper?.stop()
    await this.announcer.stop()
    this.restream.stop()
    await Promise.allSettled([...this.recovering].map(async s => { await s.kill() }))
    await Promise.allSettled([...this.sessions.values()].map(async s => { await s.kill() }))
    this.sessions.clear()
    await Promise.allSettled([...this.ending])
    await this.whip.stop()
    await this.publishes.stop()
    await this.srt?.stop()
    await this.init.protocols.unhandle(PROTOCOL_BID)
    await this.init.protocols.unhandle(PROTOCOL_FETCH)
  }

  /** Keeps a stream from being ended as stale. */
  async heartbeat (id: string): Promise<StreamRecord> {
    const rec = await this.init.store.streams.get(id)
    if (rec == null) throw new StreamNotFoundError(`no stream ${id}`)
    if (rec.state === 'ended') throw new StreamEndedError(`stream ${id} has ended`)
    const next = { ...rec, heartbeatAt: Date.now() }
    await this.init.store.streams.put(next)
    return next
  }

  /** A new stream; the answer carries its key, which is shown this once and stored only as a hash. */
  async createStream (name: string, opts: { private?: boolean } = {}): Promise<StreamRecord & { key: string }> {
    const { key, keyHash } = newStreamKeyPair()
    const rec: StreamRecord = { ...newStreamIdentity(this.init.protocols.self), name, keyHash, createdAt: Date.now(), state: 'idle', container: this.container, ...privacy(opts) }
    await this.init.store.streams.put(rec)
    this.publishes.allow(keyHash, rec.id)
    return { ...rec, key }
  }

  /**
   * Gives a stream a new key (shown this once) and refuses the old one from
   * now on. A publish already running with the old key goes on until it ends.
   */
  async rotateKey (id: string): Promise<StreamRecord & { key: string }> {
    const rec = await this.init.store.streams.get(id)
    if (rec == null) throw new StreamNotFoundError(`no stream ${id}`)
    if (rec.state === 'ended' || rec.sourceUrl != null) throw new StreamEndedError(`stream ${id} takes no publish`)
    const { key, keyHash } = newStreamKeyPair()
    const next: StreamRecord = { ...rec, keyHash }
    await this.init.store.streams.put(next)
    this.publishes.forget(rec.keyHash)
    if (acceptsPublish(next)) this.publishes.allow(keyHash, id)
    return { ...next, key }
  }

  /**
   * A stream pulled from `sourceUrl` (RTMP, RTSP, HLS, an HTTP or file URL,
   * an absolute path: anything ffmpeg reads; see sources.ts) through the
   * same segmenter and job market as an RTMP publish. Live until the source
   * ends (`ended`), or `failed` with ffmpeg's reason if it cannot be read.
   * Throws SourceUrlError for a refused URL.
   */
  async createPullStream (name: string, sourceUrl: string, opts: { private?: boolean } = {}): Promise<StreamRecord> {
    await this.source(sourceUrl)
    const rec: StreamRecord = { ...newStreamIdentity(this.init.protocols.self), name, keyHash: newStreamKeyPair().keyHash, createdAt: Date.now(), state: 'live', startedAt: Date.now(), sourceUrl, container: this.container, ...privacy(opts) }
    await this.init.store.streams.put(rec)
    await this.startPull(rec, sourceUrl)
    return rec
  }

  private async startPull (rec: StreamRecord, sourceUrl: string): Promise<void> {
    const src = parseSourceUrl(sourceUrl)
    const live = goLive(rec, Date.now())
    await this.init.store.streams.put(live)
    await this.runSession(live, src.input, { inputArgs: ['-protocol_whitelist', protocolWhitelist(src), ...(src.realtime ? ['-re'] : [])], maxRestarts: PULL_MAX_RESTARTS }, async (end) => {
      const next = pullEnded(await this.init.store.streams.get(rec.id) ?? live, { ...end, ...(end.error != null ? { error: redactSourceText(end.error, sourceUrl, src) } : {}) }, Date.now())
      if (next == null) return
      await this.init.store.streams.put(next)
      await this.announcer.announce(next)
      this.log.info({ streamId: rec.id, state: next.state, segments: end.segments, err: next.error }, 'pulled source ended')
    })
  }

  /**
   * A video on demand from a file (or any source ffmpeg reads): cut at once
   * (not at the native rate), every segment a job on the network at once,
   * bounded by the workers there are (the session's queue). `processing`
   * until every segment is finished, then `ready` (edges serve a VOD
   * playlist; `vod.ready` is emitted), or `failed` with the reason.
   * `deleteAfter` removes the input file when done (an upload).
   */
  async createVod (name: string, input: string, opts: { deleteAfter?: boolean, trusted?: boolean, private?: boolean } = {}): Promise<StreamRecord> {
    const src = await this.source(input, opts.trusted === true)
    const rec: StreamRecord = { ...newStreamIdentity(this.init.protocols.self), name, keyHash: newStreamKeyPair().keyHash, createdAt: Date.now(), startedAt: Date.now(), state: 'processing', vod: true, sourceUrl: input, container: this.container, ...privacy(opts) }
    await this.init.store.streams.put(rec)
    this.progress.set(rec.id, { segments: 0, done: 0, cutDone: false })
    let tooLong = false
    const session = await this.runSession(rec, src.input, {
      inputArgs: ['-protocol_whitelist', protocolWhitelist(src)],
      rwTimeoutMs: 0,
      maxRestarts: 0,
      maxQueueMs: VOD_MAX_QUEUE_MS,
      // Not live: every rung of every segment, however long the queue (no shedding).
      vod: true,
      // The whole file is cut at once: segments wait on disk, a few in memory and on the market.
      maxInflight: VOD_MAX_INFLIGHT,
      onProgress: ({ cut, done }) => {
        this.progress.set(rec.id, { segments: cut, done, cutDone: false })
        // Longer than an INDEX can list: stop now rather than transcode what can never be served.
        if (cut > MAX_INDEX_SEGMENTS && !tooLong) { tooLong = true; void session.kill() }
      }
    }, async (end) => {
      const next = vodEnded(await this.init.store.streams.get(rec.id) ?? rec, end, tooLong, MAX_INDEX_SEGMENTS, Date.now())
      if (next == null) return
      await this.init.store.streams.put(next)
      await this.announcer.announce(next)
      this.log.info({ streamId: rec.id, state: next.state, segments: end.segments, err: next.error }, 'VOD done')
      if (next.state === 'ready') this.init.onEvent?.('vod.ready', vodReady(next, await this.init.store.segments.recent(rec.id, MAX_INDEX_SEGMENTS), this.init.playbackUrl?.(rec.id)))
    }, async () => {
      this.progress.delete(rec.id)
      if (opts.deleteAfter === true && src.file != null) await rm(src.file, { force: true })
    })
    return rec
  }

  /**
   * Runs a session on `input` until it is over, then `always`, then `onEnd`
   * unless the stream was stopped meanwhile (deleted, published again) or
   * the ingest is stopping (its store may be closing: the next start sorts
   * the records out).
   */
  private async runSession (rec: StreamRecord, input: string, opts: SessionOptions, onEnd: (end: SessionEnd) => Promise<void>, always?: () => Promise<void>): Promise<PublishSession> {
    const workDir = join(this.init.store.dataDir, 'incoming', rec.id, String(Date.now()))
    await mkdir(workDir, { recursive: true })
    const session = this.newSession(rec, input, workDir, opts)
    this.sessions.set(rec.id, session)
    session.start()
    await this.announcer.announce(rec)
    const ended = session.finished().then(async (end) => {
      const current = this.sessions.get(rec.id) === session
      if (current) this.sessions.delete(rec.id)
      await always?.()
      if (current && !this.#shutdown.signal.aborted) await onEnd(end)
      await rm(workDir, { recursive: true, force: true })
    }).catch(err => { this.log.error({ err, streamId: rec.id }, 'session end failed') })
      .finally(() => { this.ending.delete(ended) })
    this.ending.add(ended)
    return session
  }

  /**
   * A source_url parsed and checked against the node's source policy (review M4); `trusted`: a
   * file this node wrote itself (an upload), exempt from the file directory. A refusal is a
   * SourceUrlError (400), counted by why.
   */
  private async source (raw: string, trusted = false): Promise<PullSource> {
    try {
      const src = parseSourceUrl(raw)
      if (!trusted) await checkSourcePolicy(src, this.init.sourcePolicy ?? {}, systemPolicyIo)
      await checkPullSource(src)
      return src
    } catch (err) {
      if (err instanceof SourceUrlError) this.ctx.metrics.sourcesRefused.inc({ why: err instanceof SourceRefusedError ? err.why : 'syntax' })
      throw err
    }
  }

  private newSession (rec: StreamRecord, input: string, workDir: string, opts: SessionOptions): PublishSession {
    return new PublishSession(this.ctx, rec, input, workDir, opts)
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
    this.publishes.forget(rec.keyHash)
    this.whip.drop(id)
    const session = this.sessions.get(id)
    this.sessions.delete(id)
    // A VOD's queued segments are abandoned; a live stream's segments in flight are finished.
    if (rec.state === 'processing') await session?.kill()
    else await session?.stop()
    const cur = await this.init.store.streams.get(id) ?? rec
    const ended = afterDelete(cur, Date.now())
    this.progress.delete(id)
    await this.restream.removeAll(id)
    await this.init.store.streams.put(ended)
    await this.announcer.announce(ended)
    if (!isEndedForPlayers(cur)) this.init.onEvent?.('stream.ended', streamEnded(ended, reason))
    return ended
  }

  /** A segment was stored: pending (claims its number) or final (renditions merged into the stream, `segment.ready`). */
  private async onSegmentStored (stream: StreamRecord, seg: SegmentRecord): Promise<void> {
    const cur = await this.init.store.streams.get(stream.id) ?? stream
    if (seg.pending === true) {
      // Only claim the sequence number: its renditions are not known yet.
      await this.init.store.streams.put({ ...cur, lastSeq: Math.max(cur.lastSeq ?? -1, seg.seq) })
      return
    }
    const { next, renditionsChanged } = afterSegment(cur, stream, seg, Date.now())
    await this.init.store.streams.put(next)
    this.init.onEvent?.('segment.ready', segmentReady(seg))
    if (renditionsChanged) await this.announcer.announce(next)
  }
}

/**
 * A record from before hashed keys holds its key in plaintext: the same
 * record with the key's hash instead (the caller stores it), else the record.
 */
/** The record's `private` field: present only when set, so public records stay as they were. */
function privacy (opts: { private?: boolean }): { private?: true } {
  return opts.private === true ? { private: true } : {}
}

function withHashedKey (rec: StreamRecord): StreamRecord {
  if (rec.key == null) return rec
  const { key, ...rest } = rec
  return { ...rest, keyHash: hashStreamKey(key) }
}
