import { join } from 'node:path'
import { codecs, ID_PATTERN, PROTOCOL_FETCH, StreamAnnounce, TOPIC_STREAMS } from '@diststream/protocol'
import { LifecycleSweeper } from '@diststream/scheduler'
import { Notifier, SingleFlight } from '@diststream/util'
import { key as cacheKey, SegmentCache } from './cache.js'
import { PlaylistWaiters } from './blocking.js'
import { initLength, INIT_NAME, mediaPart } from './cmaf.js'
import { EDGE_DEFAULTS, MAX_BLOCKED_RELOADS_PER_CLIENT, MAX_BLOCKED_RELOADS_PER_STREAM, MAX_COLD_FETCHES, MAX_COLD_FETCHES_PER_STREAM, MAX_FOLLOWED_PER_INGEST, MAX_FOLLOWED_STREAMS, MAX_INBOUND_FETCH_STREAMS, VIEWERLESS_UNFOLLOW_MS } from './constants.js'
import { StreamDirectory } from './directory.js'
import { EdgeFullError, NotFoundError, ThumbnailUnavailableError } from './errors.js'
import { thumbnailCandidates } from './thumbnail-pick.js'
import { FetchClient } from './fetch-client.js'
import { FollowedStream } from './followed-stream.js'
import { AdmissionGate } from './limiter.js'
import { createEdgeMetrics } from './metrics.js'
import { PlaybackGate } from './playback-auth.js'
import { RenditionFetcher } from './rendition-fetcher.js'
import { Swarm } from './swarm.js'
import type { DeliveryDirectives } from './blocking.js'
import type { DirectoryEntry } from './directory.js'
import type { FollowContext } from './followed-stream.js'
import type { EdgeMetrics } from './metrics.js'
import type { EdgeInit, MediaPlaylistView, ServedSegment, ThumbnailSource } from './types.js'
import type { LifecycleAction } from '@diststream/scheduler'
import type { Startable } from '@libp2p/interface'
import type { Logger } from 'pino'

/**
 * The edge role: wiring, lifecycle and the façade the HTTP routes use. The
 * directory knows the streams, each {@link FollowedStream} follows one, the
 * cache holds the segments, the swarm and the FETCH client move them.
 */
export class Edge implements Startable {
  readonly dvrRetentionMs: number
  readonly #opts: EdgeInit
  readonly #shutdown = new AbortController()
  readonly #log: Logger
  readonly #metrics: EdgeMetrics
  readonly #notifier = new Notifier<string>()
  readonly #directory: StreamDirectory
  readonly #followed = new Map<string, FollowedStream>()
  readonly #cache: SegmentCache
  readonly #segmentFlights = new SingleFlight<ServedSegment>()
  /** Viewer-driven fetches of segments in no cache (M6): refused past the bounds, not queued. */
  readonly #coldFetches = new AdmissionGate(MAX_COLD_FETCHES, MAX_COLD_FETCHES_PER_STREAM)
  readonly #swarm: Swarm
  /** Blocking playlist reloads (`_HLS_msn`) waiting for their segment, keyed by stream. */
  readonly #reloads: PlaylistWaiters
  readonly #sweeper: LifecycleSweeper
  readonly #followCtx: FollowContext
  /** Private streams: who may play them over HTTP (tokens checked offline). */
  readonly #playback: PlaybackGate
  #unsubscribe?: () => void
  #started = false

  constructor (opts: EdgeInit) {
    this.#opts = opts
    const signal = this.#shutdown.signal
    this.#log = opts.logger.child({ component: 'edge' })
    this.#metrics = createEdgeMetrics(opts.registry)
    this.#cache = new SegmentCache({
      dir: join(opts.dataDir, 'cache'),
      maxMemoryBytes: opts.maxMemoryBytes ?? EDGE_DEFAULTS.maxMemoryBytes,
      maxDiskBytes: opts.maxDiskBytes ?? EDGE_DEFAULTS.maxDiskBytes,
      onDiskError: (err, kind) => { this.#metrics.cacheErrors.inc({ kind }); this.#log.warn({ err: err.message, kind }, 'disk cache failure (served from memory or fetched again)') },
      onCorrupt: () => { this.#metrics.cacheErrors.inc({ kind: 'corrupt' }); this.#log.warn('a cached segment on disk no longer matches its hash: deleted') }
    })
    const client = new FetchClient(opts, { signal, logger: this.#log })
    this.#directory = new StreamDirectory({ ...opts, logger: this.#log, notifier: this.#notifier, client, signal, isFollowed: id => this.#followed.has(id), onLookup: outcome => { this.#metrics.lookups.inc({ outcome }) } })
    this.#swarm = new Swarm({ ...opts, logger: this.#log, client, metrics: this.#metrics, signal, fallbackMs: opts.swarmFallbackMs })
    const fetcher = new RenditionFetcher({ client, swarm: this.#swarm, cache: this.#cache, metrics: this.#metrics, logger: this.#log, signal, archive: opts.archive })
    this.#reloads = new PlaylistWaiters({ maxWaiters: opts.maxBlockedReloads ?? EDGE_DEFAULTS.maxBlockedReloads, maxPerKey: MAX_BLOCKED_RELOADS_PER_STREAM, maxPerClient: MAX_BLOCKED_RELOADS_PER_CLIENT })
    this.#followCtx = {
      ...opts,
      swarm: this.#swarm,
      client,
      fetcher,
      cache: this.#cache,
      segmentFlights: this.#segmentFlights,
      reloads: this.#reloads,
      notifier: this.#notifier,
      log: this.#log,
      signal,
      serve: async (s, r, q) => await this.segment(s, r, q),
      window: opts.playlistWindow ?? EDGE_DEFAULTS.playlistWindow,
      lowLatency: opts.lowLatency ?? EDGE_DEFAULTS.lowLatency
    }
    this.#playback = new PlaybackGate({ onRefused: reason => { this.#metrics.playbackRefused.inc({ reason }) } })
    this.dvrRetentionMs = opts.dvrRetentionMs ?? EDGE_DEFAULTS.dvrRetentionMs
    this.#sweeper = new LifecycleSweeper({
      policy: { staleMs: opts.staleMs ?? EDGE_DEFAULTS.staleMs, retentionMs: this.dvrRetentionMs, viewerlessMs: VIEWERLESS_UNFOLLOW_MS },
      everyMs: opts.sweepMs ?? EDGE_DEFAULTS.sweepMs,
      records: () => [...this.#followed.values()].map(f => ({ id: f.id, ended: f.ended, lastActivityAt: f.lastActivityAt, endedAt: f.endedAt, lastViewedAt: f.lastViewedAt })),
      apply: async (a) => { await this.#applyLifecycle(a) },
      onError: (err, a) => { this.#log.warn({ err, streamId: a?.id }, 'lifecycle action failed') }
    })
  }

  async start (): Promise<void> {
    await this.#cache.open()
    this.#unsubscribe = this.#opts.gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (msg, from) => { this.#onStreamAnnounce(msg, from) })
    if (this.#opts.serveFetch !== false) {
      await this.#opts.protocols.handle(PROTOCOL_FETCH, (stream) => {
        void this.#swarm.serve(stream, async (s, r, q) => (await this.#cache.get(s, r, q))?.entry.data)
      }, { maxInboundStreams: MAX_INBOUND_FETCH_STREAMS })
    }
    this.#sweeper.start()
    this.#started = true
  }

  isStarted (): boolean { return this.#started }

  /** Started and not stopped (for /readyz). */
  get ready (): boolean { return this.isStarted() }

  /** Stops lookups, index retries, backfills and fetches, then waits for the followed streams' work to settle. */
  async stop (): Promise<void> {
    this.#shutdown.abort()
    this.#started = false
    this.#reloads.close()
    await this.#sweeper.stop()
    this.#unsubscribe?.()
    if (this.#opts.serveFetch !== false) {
      await this.#opts.protocols.unhandle(PROTOCOL_FETCH).catch((err: any) => { this.#log.debug({ err: err?.message }, 'fetch handler removal failed') })
    }
    const streams = [...this.#followed.values()]
    for (const f of streams) f.close()
    this.#followed.clear()
    await Promise.all(streams.map(async f => { await f.settled() }))
  }

  /** Followed streams that have not ended. */
  activeStreams (): string[] {
    return [...this.#followed.values()].filter(f => !f.ended).map(f => f.id)
  }

  /** The peer (ingest) that owns a stream, as this edge's directory bound it; undefined when unknown. */
  streamOwner (streamId: string): string | undefined {
    return this.#directory.get(streamId)?.ingest
  }

  /** The streams this edge has heard announced (the network's directory as seen here), most recent first. */
  directory (): DirectoryEntry[] {
    return this.#directory.list()
  }

  recordRequest (type: string, status: number, bytes = 0): void {
    this.#metrics.requests.inc({ type, status: String(status) })
    if (bytes > 0) this.#metrics.bytes.inc(bytes)
  }

  /**
   * May this HTTP request play `streamId`? `{ private: false }` for a public
   * stream; for a private one (its owner's signed announcement says so) the
   * token must be one its owner signed for it and still valid, else
   * PlaybackTokenMissingError (401) or PlaybackTokenRefusedError (403). An
   * unknown stream is looked up first (NotFoundError when it stays unknown),
   * so nothing of a private stream is served before this answers.
   */
  async authorizePlayback (streamId: string, token: string | undefined): Promise<{ private: boolean }> {
    if (!ID_PATTERN.test(streamId)) throw new NotFoundError('no such stream')
    const entry = this.#directory.get(streamId) ?? await this.#directory.resolve(streamId, { timeoutMs: this.#opts.discoveryTimeoutMs ?? EDGE_DEFAULTS.discoveryTimeoutMs, signal: this.#shutdown.signal })
    if (entry == null) throw new NotFoundError(`stream ${streamId} not found on the network`)
    if (entry.announce.private !== true) return { private: false }
    this.#playback.check(streamId, entry.ingest, token)
    return { private: true }
  }

  /** Whether this edge knows `streamId` as private (for listings: false for unknown streams). */
  isPrivate (streamId: string): boolean {
    return this.#directory.get(streamId)?.announce.private === true
  }

  async masterPlaylist (streamId: string): Promise<string> {
    return await (await this.#follow(streamId)).masterPlaylist()
  }

  /** A media playlist; see {@link FollowedStream.mediaPlaylist} for blocking reloads. */
  async mediaPlaylist (streamId: string, rendition: string, directives: DeliveryDirectives & { signal?: AbortSignal, client?: string } = {}): Promise<MediaPlaylistView> {
    if (!ID_PATTERN.test(rendition)) throw new NotFoundError('no such rendition')
    return await (await this.#follow(streamId)).mediaPlaylist(rendition, directives)
  }

  /**
   * A segment for a viewer: from memory when hot (no disk, no libp2p, no
   * await), else from disk, else fetched from the ingest. Concurrent
   * requests for one segment that is not in memory share one disk read or
   * one upstream fetch (and share the fetch the edge started itself when
   * the segment was announced).
   */
  async segment (streamId: string, rendition: string, seq: number): Promise<ServedSegment> {
    if (!ID_PATTERN.test(streamId) || !ID_PATTERN.test(rendition) || !Number.isSafeInteger(seq) || seq < 0) throw new NotFoundError('no such segment')
    const hot = this.#cache.hot(streamId, rendition, seq)
    if (hot != null) {
      this.#metrics.hits.inc()
      return { entry: hot, from: 'memory' }
    }
    return await this.#segmentFlights.do(cacheKey(streamId, rendition, seq), async () => {
      const cached = await this.#cache.get(streamId, rendition, seq)
      if (cached != null) return cached
      const followed = await this.#follow(streamId)
      const cold = await this.#coldFetches.run(streamId, async () => await followed.fetchSegment(rendition, seq))
      if ('value' in cold) return cold.value
      this.#metrics.refused.inc({ bound: cold.refused === 'global' ? 'cold_fetches' : 'cold_fetches_per_stream' })
      throw new EdgeFullError(`too many segment fetches at once${cold.refused === 'global' ? '' : ' for this stream'}; retry shortly`)
    })
  }

  /** The stream is followed and its renditions are fragmented MP4 (its `.ts` URLs do not exist). */
  isCmaf (streamId: string): boolean {
    return this.#followed.get(streamId)?.cmaf === true
  }

  /** A CMAF segment's media part (`<seq>.m4s`): the stored segment without its init. */
  async mediaSegment (streamId: string, rendition: string, seq: number): Promise<ServedSegment> {
    const served = await this.segment(streamId, rendition, seq)
    const init = this.#followed.get(streamId)?.history.get(seq)?.cmaf.inits.get(rendition)
    try {
      return { ...served, entry: mediaPart(served.entry, init?.size ?? initLength(served.entry.data)) }
    } catch {
      throw new NotFoundError(`${rendition}/${seq} is not a CMAF segment`)
    }
  }

  /** A rendition's init segment (`init-<8 hex>.mp4`), cut from the newest held segment announced with it. */
  async initSegment (streamId: string, rendition: string, file: string): Promise<ServedSegment> {
    const prefix = INIT_NAME.exec(file)?.[1]
    if (prefix == null || !ID_PATTERN.test(rendition)) throw new NotFoundError('no such init segment')
    return await (await this.#follow(streamId)).initSegment(rendition, prefix, file)
  }

  /**
   * The segment a thumbnail is made from (thumbnail-pick.ts): the smallest
   * video rendition of the newest held segment, a VOD's poster segment;
   * verified bytes from the cache or fetched as a viewer's would be.
   */
  async thumbnailSource (streamId: string): Promise<ThumbnailSource> {
    const f = await this.#follow(streamId)
    for (const c of thumbnailCandidates(f.history.entries(), f.renditions.values(), { vod: f.vod })) {
      const served = await this.segment(streamId, c.rendition, c.seq).catch((err: any) => {
        this.#log.debug({ streamId, rendition: c.rendition, seq: c.seq, err: err?.message }, 'thumbnail candidate unavailable; trying an older one')
        return undefined
      })
      if (served != null) return { ...c, vod: f.vod, ended: f.ended, data: served.entry.data, etag: served.entry.etag }
    }
    throw new ThumbnailUnavailableError(`stream ${streamId} has no picture on this edge yet`)
  }

  /** The stream's DASH manifest (CMAF streams only). */
  async dashManifest (streamId: string): Promise<MediaPlaylistView> {
    return await (await this.#follow(streamId)).dashManifest()
  }

  #onStreamAnnounce (msg: StreamAnnounce, from: string): void {
    if (!this.#directory.onAnnounce(msg, from)) return
    const f = this.#followed.get(msg.streamId)
    // Published again after it ended: follow it afresh on the next request (the cache stays).
    if (f != null && f.ended && msg.state === StreamAnnounce.State.LIVE) this.#unfollow(f)
    else f?.onAnnounce(msg)
  }

  #unfollow (f: FollowedStream): void {
    f.close()
    if (this.#followed.get(f.id) === f) this.#followed.delete(f.id)
  }

  /** Stale (its ingest went quiet): end its playlists. Past the retention: forget it and drop its cache. */
  async #applyLifecycle (a: LifecycleAction): Promise<void> {
    const f = this.#followed.get(a.id)
    if (f == null) return
    if (a.action === 'end') {
      this.#log.info({ streamId: a.id, reason: a.reason }, 'stream ended')
      f.end()
      return
    }
    if (a.action === 'unfollow') {
      // No viewer for a while (H3): stop fetching it; the cache stays, and the next request follows it afresh.
      this.#log.info({ streamId: a.id }, 'no viewers; no longer following the stream')
      this.#unfollow(f)
      return
    }
    this.#unfollow(f)
    this.#directory.drop(a.id)
    await this.#cache.removeStream(a.id)
    this.#log.info({ streamId: a.id }, 'stream removed after its DVR retention')
  }

  /** Throws EdgeFullError (503) when one more followed stream, of `ingest`, would pass a bound (H3). */
  #checkRoom (ingest: string): void {
    if (this.#followed.size >= MAX_FOLLOWED_STREAMS) {
      this.#metrics.refused.inc({ bound: 'followed_streams' })
      throw new EdgeFullError(`this edge follows ${MAX_FOLLOWED_STREAMS} streams already`)
    }
    let ofIngest = 0
    for (const f of this.#followed.values()) if (f.ingest === ingest) ofIngest++
    if (ofIngest >= MAX_FOLLOWED_PER_INGEST) {
      this.#metrics.refused.inc({ bound: 'followed_per_ingest' })
      throw new EdgeFullError(`this edge follows ${MAX_FOLLOWED_PER_INGEST} streams of that ingest already`)
    }
  }

  /** The followed stream, following it first (found through gossip or the DHT) when it is not yet. */
  async #follow (streamId: string): Promise<FollowedStream> {
    if (!ID_PATTERN.test(streamId)) throw new NotFoundError('no such stream')
    let f = this.#followed.get(streamId)
    if (f == null) {
      const entry = await this.#directory.resolve(streamId, { timeoutMs: this.#opts.discoveryTimeoutMs ?? EDGE_DEFAULTS.discoveryTimeoutMs, signal: this.#shutdown.signal })
      if (entry == null) throw new NotFoundError(`stream ${streamId} not found on the network`)
      // A VOD plays once it is ready (ENDED), never as a partial live window.
      if (entry.announce.vod === true && entry.announce.state !== StreamAnnounce.State.ENDED) throw new NotFoundError(`VOD ${streamId} is still processing`)
      f = this.#followed.get(streamId)
      if (f == null) {
        this.#checkRoom(entry.ingest)
        f = FollowedStream.open(this.#followCtx, streamId, entry)
        this.#followed.set(streamId, f)
      }
    }
    f.lastViewedAt = Date.now()
    await f.ready
    return f
  }
}
