import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { ID_PATTERN, MAX_INDEX_SEGMENTS, codecs, FetchRequest, FetchResponse, PROTOCOL_FETCH, StreamAnnounce, streamTopic, TOPIC_STREAMS } from '@diststream/protocol'
import { DashManifest, LiveWindow, renderMasterPlaylist, renderMediaPlaylist } from '@diststream/hls'
import type { PlaylistSegment } from '@diststream/hls'
import { LifecycleSweeper } from '@diststream/scheduler'
import { Counter } from 'prom-client'
import { key as cacheKey, SegmentCache } from './cache.js'
import { SingleFlight } from './single-flight.js'
import type { CachedSegment } from './cache.js'
import type { LifecycleAction, LifecycleRecord } from '@diststream/scheduler'
import { Swarm } from './swarm.js'
import { BlockingReloadUnavailableError, blockingDecision, blockingTimeoutMs, DeliveryDirectiveError, NotifyingWindow, PlaylistWaiters } from './blocking.js'
import type { DeliveryDirectives } from './blocking.js'
import { cmafInfo, cmafMaster, entryUris, initLength, initPart, INIT_NAME, mediaPart, renderDash } from './cmaf.js'
import type { CmafSegmentInfo } from './cmaf.js'
import type { Rendition, SegmentAnnounce } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import type { PeerComponents } from '@diststream/p2p'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface EdgeInit extends PeerComponents {
  dataDir: string
  logger: Logger
  registry: Registry
  /** Segments per live media playlist. */
  playlistWindow?: number
  maxMemoryBytes?: number
  /** How long a request for an unknown stream waits for it to appear. */
  discoveryTimeoutMs?: number
  /** How long an ended stream stays served as VOD (DVR) before it is dropped from the cache (ms). Default 1 hour. */
  dvrRetentionMs?: number
  /** A followed stream with no segment or live announcement for this long is ended (its ingest is gone) (ms). Default 60 s. */
  staleMs?: number
  /** How often the lifecycle sweep runs (ms). Default 5 s. */
  sweepMs?: number
  /** Serve cached segments to other edges over /diststream/fetch (false when this node's ingest serves them). */
  serveFetch?: boolean
  /** Swarming: fall back to the ingest after this long without a copy from a holder. */
  swarmFallbackMs?: number
  /**
   * Low-latency HLS (`--low-latency`): live media playlists advertise
   * `EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=…`. Blocking reloads
   * (`_HLS_msn`) are honoured either way.
   */
  lowLatency?: boolean
  /** Most blocking playlist reloads parked at once (more: 503). Default 1,000. */
  maxBlockedReloads?: number
}

/** The upstream (ingest) could not deliver a segment the edge knows of. */
export class UpstreamError extends Error {
  static readonly NAME = 'UpstreamError'
  override name = UpstreamError.NAME
  readonly statusCode = 502
}

export interface ServedSegment {
  entry: CachedSegment
  from: 'memory' | 'disk' | 'network'
}

export interface MediaPlaylistView {
  body: string
  ended: boolean
  targetDurationSec: number
}

/** Most streams the directory remembers (followed streams are never evicted). */
const MAX_DIRECTORY = 10_000

export class NotFoundError extends Error {
  static readonly NAME = 'NotFoundError'
  override name = NotFoundError.NAME
  readonly statusCode = 404
}

interface DirectoryEntry { ingest: string, announce: StreamAnnounce }

interface HistoryEntry { durationSec: number, pdtMs: number, discontinuity: boolean, renditions: Set<string>, cmaf: CmafSegmentInfo }

/** Segments an edge remembers per stream for its DVR playlist (12 h of 2 s segments). */
export const MAX_DVR_SEGMENTS = 21_600

interface Followed {
  id: string
  ingest: string
  renditions: Map<string, Rendition>
  windows: Map<string, LiveWindow>
  seen: Set<number>
  pending: Set<Promise<void>>
  /** Set once the index is loaded: windows start here, so out-of-order fetches can't start them late. */
  firstSeq?: number
  /** Segment announcements that arrived before the index. */
  early: SegmentAnnounce[]
  /** The index was loaded (or failed to): gossip goes straight to the windows. */
  indexed: boolean
  ended: boolean
  /** Last segment or live announcement (ms). */
  lastActivityAt: number
  endedAt?: number
  /** Highest segment seq heard of. */
  maxSeq: number
  /** Every segment heard of (index and gossip), for the VOD playlist once the stream ends (DVR); bounded. */
  history: Map<number, HistoryEntry>
  /** A finished VOD: every segment in the playlist, EXT-X-PLAYLIST-TYPE:VOD. */
  vod: boolean
  /** VOD: each segment's renditions (with hashes) from the INDEX, fetched when first asked for. */
  vodSegments: Map<number, SegmentAnnounce>
  /** Renditions are fragmented MP4 (the stream was announced with container "cmaf"): HLS v7 and DASH. */
  cmaf: boolean
  /** The DASH manifest's state (availabilityStartTime, Period anchors). */
  dash: DashManifest
  unsubscribe: () => void
  ready: Promise<void>
}


export class Edge {
  private readonly directory = new Map<string, DirectoryEntry>()
  private readonly followed = new Map<string, Followed>()
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly cache: SegmentCache
  private readonly log: Logger
  private readonly window: number
  private readonly metrics: { fetches: Counter<'outcome'>, upstream: Counter, requests: Counter<'type' | 'status'>, hits: Counter, bytes: Counter }
  private readonly flight = new SingleFlight<ServedSegment>()
  private readonly removed = new Map<string, number>()
  private readonly sweeper: LifecycleSweeper
  private unsubscribe?: () => void
  private started = false
  readonly dvrRetentionMs: number
  private readonly swarm: Swarm
  private readonly lookups: Counter<'outcome'>
  /** Streams being looked up on the DHT, or until when not to look them up again: one lookup at a time per stream, then a 1 s pause (viewers retrying an unknown stream must not flood the DHT). */
  private readonly lookedUp = new Map<string, number>()
  /** Blocking playlist reloads (`_HLS_msn`) waiting for their segment, keyed by stream. */
  private readonly reloads: PlaylistWaiters

  constructor (private readonly init: EdgeInit) {
    this.log = init.logger.child({ component: 'edge' })
    this.window = init.playlistWindow ?? 6
    this.cache = new SegmentCache({ dir: join(init.dataDir, 'cache'), maxMemoryBytes: init.maxMemoryBytes ?? 256 * 1024 * 1024 })
    const registers = [init.registry]
    this.metrics = {
      fetches: new Counter({ name: 'diststream_edge_fetches_total', help: 'Rendition fetches over libp2p, by outcome', labelNames: ['outcome'], registers }),
      upstream: new Counter({ name: 'diststream_edge_upstream_fetches_total', help: 'Segment fetches started towards the ingest over libp2p (each attempt; concurrent requests for one segment share one)', registers }),
      requests: new Counter({ name: 'diststream_edge_requests_total', help: 'HTTP requests for HLS, by type and status', labelNames: ['type', 'status'], registers }),
      hits: new Counter({ name: 'diststream_edge_cache_hits_total', help: 'Segment requests served from the memory cache', registers }),
      bytes: new Counter({ name: 'diststream_edge_bytes_sent_total', help: 'Segment bytes served to viewers', registers })
    }
    this.dvrRetentionMs = init.dvrRetentionMs ?? 3_600_000
    this.sweeper = new LifecycleSweeper({
      policy: { staleMs: init.staleMs ?? 60_000, retentionMs: this.dvrRetentionMs },
      everyMs: init.sweepMs ?? 5000,
      records: () => this.lifecycleRecords(),
      apply: async (a) => { await this.applyLifecycle(a) },
      onError: (err, a) => { this.log.warn({ err, streamId: a?.id }, 'lifecycle action failed') }
    })
    this.lookups = new Counter({ name: 'diststream_edge_stream_lookups_total', help: 'DHT lookups of streams this edge had not heard of, by outcome (found, not_found)', labelNames: ['outcome'], registers })
    this.swarm = new Swarm({ ...init, logger: this.log, fallbackMs: init.swarmFallbackMs })
    this.reloads = new PlaylistWaiters({ maxWaiters: init.maxBlockedReloads ?? 1000 })
  }

  async start (): Promise<void> {
    this.unsubscribe = this.init.gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (msg, from) => { this.onStreamAnnounce(msg, from) })
    if (this.init.serveFetch !== false) {
      await this.init.protocols.handle(PROTOCOL_FETCH, (stream) => {
        void this.swarm.serve(stream, async (s, r, q) => (await this.cache.get(s, r, q))?.entry.data)
      }, { maxInboundStreams: 256 })
    }
    this.sweeper.start()
    this.started = true
  }

  /** Started and not stopped (for /readyz). */
  get ready (): boolean { return this.started }

  /** Followed streams that have not ended. */
  activeStreams (): string[] {
    return [...this.followed.values()].filter(f => !f.ended).map(f => f.id)
  }

  async stop (): Promise<void> {
    this.started = false
    this.reloads.close()
    await this.sweeper.stop()
    this.unsubscribe?.()
    if (this.init.serveFetch !== false) await this.init.protocols.unhandle(PROTOCOL_FETCH).catch(() => {})
    for (const f of this.followed.values()) f.unsubscribe()
    this.followed.clear()
  }

  recordRequest (type: string, status: number, bytes = 0): void {
    this.metrics.requests.inc({ type, status: String(status) })
    if (bytes > 0) this.metrics.bytes.inc(bytes)
  }

  async masterPlaylist (streamId: string): Promise<string> {
    const f = await this.follow(streamId)
    if (f.renditions.size === 0) await this.waitFor(streamId, () => f.renditions.size > 0, 8000)
    if (f.renditions.size === 0) throw new NotFoundError(`stream ${streamId} has no renditions yet`)
    if (f.cmaf) {
      const { variants, audio } = cmafMaster([...f.renditions.values()])
      return renderMasterPlaylist(variants, { version: 7, audio })
    }
    return renderMasterPlaylist([...f.renditions.values()].map(r => ({
      uri: `${r.name}/index.m3u8`,
      name: r.name,
      bandwidth: r.bandwidth,
      width: r.width,
      height: r.height,
      codecs: r.codecs
    })))
  }

  /**
   * A media playlist. With `directives.msn` (`_HLS_msn`, a blocking reload)
   * the answer waits until the window lists that segment (or the stream
   * ends), for at most three target durations (then 503); an `msn` more than
   * two segments past the live edge is a 400 at once.
   */
  async mediaPlaylist (streamId: string, rendition: string, directives: DeliveryDirectives & { signal?: AbortSignal } = {}): Promise<MediaPlaylistView> {
    if (!ID_PATTERN.test(rendition)) throw new NotFoundError('no such rendition')
    const f = await this.follow(streamId)
    if (!f.renditions.has(rendition)) throw new NotFoundError(`stream ${streamId} has no rendition ${rendition}`)
    const w = this.windowFor(f, rendition, f.firstSeq ?? 0)
    const targetDurationSec = Math.max(1, Math.round(this.directory.get(streamId)?.announce.targetDurationMs ?? 2000) / 1000)
    if (directives.msn !== undefined) {
      const decide = (): ReturnType<typeof blockingDecision> => blockingDecision({ msn: directives.msn, lastSeq: w.lastSeq ?? w.mediaSequence - 1, ended: w.ended || f.vod })
      const first = decide()
      if (first.kind === 'too-far') throw new DeliveryDirectiveError(first.reason)
      if (first.kind === 'wait') {
        const outcome = await this.reloads.wait(streamId, () => decide().kind === 'now', blockingTimeoutMs(targetDurationSec), directives.signal)
        if (outcome === 'timeout') throw new BlockingReloadUnavailableError(`segment ${directives.msn} of ${rendition} was not ready within ${blockingTimeoutMs(targetDurationSec)} ms`)
        if (outcome === 'full') throw new BlockingReloadUnavailableError('too many blocking playlist reloads are waiting on this edge')
        if (outcome === 'closed') throw new BlockingReloadUnavailableError('the edge is stopping')
      }
    }
    if (w.ended && f.history.size > 0) return { body: this.vodPlaylist(f, rendition, targetDurationSec), ended: true, targetDurationSec }
    const serverControl = this.init.lowLatency === true ? { serverControl: { canBlockReload: true } } : {}
    return { body: w.toPlaylist({ targetDurationSec, ...serverControl, ...(f.cmaf ? { version: 7 } : {}), ...(f.vod ? { playlistType: 'VOD' as const } : {}) }), ended: w.ended, targetDurationSec }
  }

  /**
   * An ended stream's playlist for DVR: every segment this edge heard of
   * (not just the live window), segments it cannot serve marked
   * `EXT-X-GAP`, then `EXT-X-ENDLIST`. Older segments are fetched from the
   * ingest when first asked for.
   */
  private vodPlaylist (f: Followed, rendition: string, targetDurationSec: number): string {
    const seqs = [...f.history.keys()].sort((a, b) => a - b)
    const segments: PlaylistSegment[] = []
    let last: PlaylistSegment | undefined
    for (let seq = seqs[0]!; seq <= seqs.at(-1)!; seq++) {
      const h = f.history.get(seq)
      const seg: PlaylistSegment = h != null
        ? { seq, durationSec: h.durationSec, ...entryUris(seq, h.cmaf.inits.get(rendition), f.cmaf), pdtMs: h.pdtMs, discontinuity: h.discontinuity, gap: !h.renditions.has(rendition) }
        : { seq, durationSec: last?.durationSec ?? targetDurationSec, uri: `gap-${seq}.ts`, gap: true }
      if (seg.gap === true) seg.uri = `gap-${seq}.ts`
      segments.push(seg)
      last = seg
    }
    // A VOD (a file transcoded at once) says so; an ended live stream (DVR) is just ended.
    return renderMediaPlaylist({ segments, ended: true, targetDurationSec, ...(f.cmaf ? { version: 7 } : {}), ...(f.vod ? { playlistType: 'VOD' as const } : {}) })
  }

  /** Every segment this edge heard of for one rendition, contiguous, missing ones as gaps (the DVR list). */
  private historySegments (f: Followed, rendition: string): PlaylistSegment[] {
    const seqs = [...f.history.keys()].sort((a, b) => a - b)
    const out: PlaylistSegment[] = []
    for (let seq = seqs[0]!; seq <= seqs.at(-1)!; seq++) {
      const h = f.history.get(seq)
      out.push(h != null
        ? { seq, durationSec: h.durationSec, ...entryUris(seq, h.cmaf.inits.get(rendition), f.cmaf), pdtMs: h.pdtMs, discontinuity: h.discontinuity, gap: !h.renditions.has(rendition) }
        : { seq, durationSec: out.at(-1)?.durationSec ?? 2, uri: `gap-${seq}.m4s`, gap: true })
    }
    return out
  }

  private remember (f: Followed, seg: SegmentAnnounce): void {
    if (f.history.has(seg.seq)) return
    f.history.set(seg.seq, { durationSec: seg.durationMs / 1000, pdtMs: seg.pdtMs, discontinuity: seg.discontinuity, renditions: new Set(seg.renditions.map(r => r.name)), cmaf: cmafInfo(seg) })
    if (f.history.size > MAX_DVR_SEGMENTS) f.history.delete(Math.min(...f.history.keys()))
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
    const hot = this.cache.hot(streamId, rendition, seq)
    if (hot != null) {
      this.metrics.hits.inc()
      return { entry: hot, from: 'memory' }
    }
    return await this.flight.do(cacheKey(streamId, rendition, seq), async () => {
      const cached = await this.cache.get(streamId, rendition, seq)
      if (cached != null) return cached
      const f = await this.follow(streamId)
      if (!f.renditions.has(rendition) || seq > f.maxSeq) throw new NotFoundError('no such segment')
      try {
        // A VOD's hashes are known from its INDEX: the bytes must match them.
        const announced = f.vodSegments.get(seq)?.renditions.find(r => r.name === rendition)
        return { entry: await this.fetchRendition(f, seq, rendition, announced), from: 'network' as const }
      } catch (err: any) {
        if (err?.name === NotFoundError.NAME) throw err
        throw new UpstreamError(`segment ${rendition}/${seq} could not be fetched from the ingest: ${String(err?.message)}`)
      }
    })
  }

  /** The stream is followed and its renditions are fragmented MP4 (its `.ts` URLs do not exist). */
  isCmaf (streamId: string): boolean {
    return this.followed.get(streamId)?.cmaf === true
  }

  /** A CMAF segment's media part (`<seq>.m4s`): the stored segment without its init. */
  async mediaSegment (streamId: string, rendition: string, seq: number): Promise<ServedSegment> {
    const served = await this.segment(streamId, rendition, seq)
    const init = this.followed.get(streamId)?.history.get(seq)?.cmaf.inits.get(rendition)
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
    const f = await this.follow(streamId)
    const seqs = [...f.history.keys()].sort((a, b) => b - a)
    for (const seq of seqs) {
      const h = f.history.get(seq)!
      const init = h.cmaf.inits.get(rendition)
      if (init == null || !init.sha.startsWith(prefix) || !h.renditions.has(rendition)) continue
      const served = await this.segment(streamId, rendition, seq).catch(() => undefined)
      if (served != null) return { ...served, entry: initPart(served.entry, init) }
    }
    throw new NotFoundError(`stream ${streamId} has no init ${file} for ${rendition}`)
  }

  /** The stream's live DASH manifest (CMAF streams only). */
  async dashManifest (streamId: string): Promise<MediaPlaylistView> {
    const f = await this.follow(streamId)
    if (!f.cmaf) throw new NotFoundError(`stream ${streamId} is MPEG-TS (--container ts): no DASH manifest`)
    if (f.renditions.size === 0) await this.waitFor(streamId, () => f.renditions.size > 0, 8000)
    const targetDurationSec = Math.max(1, Math.round(this.directory.get(streamId)?.announce.targetDurationMs ?? 2000) / 1000)
    const ended = [...f.renditions.keys()].every(name => this.windowFor(f, name, f.firstSeq ?? 0).ended)
    // Ended (DVR): every segment heard of, as the HLS playlists then list them; live: the windows.
    const renditions = [...f.renditions.values()].map(r => ({
      rendition: r,
      segments: ended && f.history.size > 0 ? this.historySegments(f, r.name) : this.windowFor(f, r.name, f.firstSeq ?? 0).segments()
    }))
    if (!renditions.some(r => r.segments.some(s => s.gap !== true))) throw new NotFoundError(`stream ${streamId} has no segments yet`)
    const body = renderDash(f.dash, { nowMs: Date.now(), ended, targetDurationSec, renditions, info: seq => f.history.get(seq)?.cmaf })
    return { body, ended, targetDurationSec }
  }

  private onStreamAnnounce (msg: StreamAnnounce, from: string): void {
    const known = this.directory.get(msg.streamId)
    // A stream belongs to the ingest that announced it first; others can't take it over.
    if (known != null && known.ingest !== from) {
      this.init.onProtocolError?.('invalid', 'streams:foreign-announce')
      return
    }
    if (known != null && known.announce.updatedAtMs > msg.updatedAtMs) return
    // A stream this edge dropped after its retention is not taken back by a late "ended" announcement.
    if (this.removed.has(msg.streamId) && msg.state === StreamAnnounce.State.ENDED) return
    this.removed.delete(msg.streamId)
    this.directory.set(msg.streamId, { ingest: from, announce: msg })
    // Bounded: a peer announcing endless made-up streams evicts the oldest unfollowed entries, not our memory.
    if (known == null && this.directory.size > MAX_DIRECTORY) {
      for (const id of this.directory.keys()) {
        if (!this.followed.has(id)) { this.directory.delete(id); break }
      }
    }
    let f = this.followed.get(msg.streamId)
    if (f != null && f.ended && msg.state === StreamAnnounce.State.LIVE) {
      // Published again after it ended: follow it afresh on the next request (the cache stays).
      this.unfollow(f)
      f = undefined
    }
    if (f != null) {
      f.maxSeq = Math.max(f.maxSeq, msg.lastSeq)
      this.addRenditions(f, msg.renditions)
      if (msg.state === StreamAnnounce.State.ENDED) this.endFollowed(f)
      else f.lastActivityAt = Date.now()
    }
    this.wake(msg.streamId)
  }

  /** Ends a followed stream's playlists (`EXT-X-ENDLIST`) once its pending fetches settle. */
  private endFollowed (f: Followed): void {
    if (f.ended) return
    f.ended = true
    f.endedAt = Date.now()
    void Promise.allSettled([...f.pending]).then(() => { for (const w of f.windows.values()) w.end() })
  }

  private unfollow (f: Followed): void {
    f.unsubscribe()
    if (this.followed.get(f.id) === f) this.followed.delete(f.id)
  }

  private lifecycleRecords (): LifecycleRecord[] {
    return [...this.followed.values()].map(f => ({ id: f.id, ended: f.ended, lastActivityAt: f.lastActivityAt, endedAt: f.endedAt }))
  }

  /** Stale (its ingest went quiet): end its playlists. Past the retention: forget it and drop its cache. */
  private async applyLifecycle (a: LifecycleAction): Promise<void> {
    const f = this.followed.get(a.id)
    if (f == null) return
    if (a.action === 'end') {
      this.log.info({ streamId: a.id, reason: a.reason }, 'stream ended')
      this.endFollowed(f)
      return
    }
    this.unfollow(f)
    this.directory.delete(a.id)
    this.removed.set(a.id, Date.now())
    if (this.removed.size > 10_000) this.removed.delete(this.removed.keys().next().value!)
    await this.cache.removeStream(a.id)
    this.log.info({ streamId: a.id }, 'stream removed after its DVR retention')
  }

  private async follow (streamId: string): Promise<Followed> {
    if (!ID_PATTERN.test(streamId)) throw new NotFoundError('no such stream')
    let f = this.followed.get(streamId)
    if (f == null) {
      let entry = this.directory.get(streamId)
      if (entry == null) {
        // Gossip (the directory topic) or the DHT (the stream's provider record), whichever answers first.
        void this.lookup(streamId)
        await this.waitFor(streamId, () => this.directory.has(streamId), this.init.discoveryTimeoutMs ?? 5000)
        entry = this.directory.get(streamId)
      }
      if (entry == null) throw new NotFoundError(`stream ${streamId} not found on the network`)
      // A VOD plays once it is ready (ENDED), never as a partial live window.
      if (entry.announce.vod === true && entry.announce.state !== StreamAnnounce.State.ENDED) throw new NotFoundError(`VOD ${streamId} is still processing`)
      f = this.followed.get(streamId)
      if (f == null) {
        const ingest = entry.ingest
        const nf: Followed = {
          id: streamId,
          ingest,
          renditions: new Map(),
          windows: new Map(),
          seen: new Set(),
          pending: new Set(),
          early: [],
          indexed: false,
          ended: false,
          lastActivityAt: Date.now(),
          maxSeq: entry.announce.lastSeq,
          history: new Map(),
          vod: entry.announce.vod === true,
          vodSegments: new Map(),
          cmaf: entry.announce.container === 'cmaf',
          dash: new DashManifest(),
          unsubscribe: () => {},
          ready: Promise.resolve()
        }
        this.followed.set(streamId, nf)
        const offSegments = this.init.gossip.subscribe(streamTopic(streamId), codecs.segmentAnnounce, (seg, from) => {
          if (from !== ingest || seg.streamId !== streamId) {
            this.init.onProtocolError?.('invalid', 'stream:foreign-segment')
            return
          }
          nf.lastActivityAt = Date.now()
          nf.maxSeq = Math.max(nf.maxSeq, seg.seq)
          if (!nf.indexed) nf.early.push(seg)
          else void this.onSegment(nf, seg)
        })
        const offHave = this.swarm.join(streamId)
        nf.unsubscribe = () => { offSegments(); offHave() }
        this.addRenditions(nf, entry.announce.renditions)
        nf.ready = this.loadIndexRetrying(nf).catch(async err => {
          // Without the index, play from what gossip brings: the window starts at the first segment heard.
          this.log.warn({ err: err?.message, streamId }, 'index fetch failed; following from new segments')
          await this.backfill(nf, [])
        })
        f = nf
      }
    }
    await f.ready
    return f
  }

  private addRenditions (f: Followed, list: Rendition[]): void {
    for (const r of list) {
      const old = f.renditions.get(r.name)
      if (old == null || r.bandwidth > old.bandwidth) f.renditions.set(r.name, old == null ? r : { ...old, bandwidth: r.bandwidth })
    }
    if (list.length > 0) this.wake(f.id)
  }

  private windowFor (f: Followed, name: string, seq: number): LiveWindow {
    let w = f.windows.get(name)
    if (w == null) {
      w = new NotifyingWindow({ windowSize: f.vod ? MAX_INDEX_SEGMENTS : this.window, firstSeq: Math.min(f.firstSeq ?? seq, seq), ...(f.vod ? { maxHoldSegments: MAX_INDEX_SEGMENTS } : {}) }, () => { this.reloads.notify(f.id) })
      f.windows.set(name, w)
    }
    return w
  }

  /** {@link loadIndex}, tried again twice (after 1 s, then 2 s) when the ingest does not answer: a busy ingest must not cost the edge the stream's start. */
  private async loadIndexRetrying (f: Followed): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.loadIndex(f)
        return
      } catch (err: any) {
        if (attempt >= 2 || !this.started) throw err
        this.log.debug({ err: err?.message, streamId: f.id, attempt }, 'index fetch failed; trying again')
        await new Promise(resolve => setTimeout(resolve, 1000 * 2 ** attempt))
      }
    }
  }

  private async loadIndex (f: Followed): Promise<void> {
    const ch = messageChannel(this.init, await this.init.protocols.dial(f.ingest, PROTOCOL_FETCH, { signal: AbortSignal.timeout(5000) }), 'fetch')
    const signal = AbortSignal.timeout(10_000)
    await ch.write(codecs.fetchRequest, { kind: FetchRequest.Kind.INDEX, streamId: f.id, rendition: '', seq: 0 }, { signal })
    const res = await ch.read(codecs.fetchResponse, { signal })
    await ch.close().catch(() => {})
    if (res.status !== FetchResponse.Status.OK) throw new Error(`index: ${res.error}`)
    if (res.stream != null) this.addRenditions(f, res.stream.renditions)
    await this.backfill(f, res.segments, res.stream != null ? res.stream.lastSeq + 1 : undefined)
    if (res.stream != null) f.maxSeq = Math.max(f.maxSeq, res.stream.lastSeq)
    for (const s of res.segments) {
      f.maxSeq = Math.max(f.maxSeq, s.seq)
      this.remember(f, s)
    }
    // Also when an ENDED announcement came while the index was loading: it found no windows to end yet.
    if (res.stream?.state === StreamAnnounce.State.ENDED || f.ended) {
      f.ended = true
      f.endedAt = Date.now()
      for (const w of f.windows.values()) w.end()
    }
  }

  /**
   * Starts the windows: the index's segments and any that gossip brought
   * meanwhile, only as many as a playlist shows, fetched in order (parallel
   * fetches of a whole window would finish out of order by more than the
   * window's hold limit and turn into gaps).
   */
  private async backfill (f: Followed, index: SegmentAnnounce[], nextSeq?: number): Promise<void> {
    const sorted = [...index, ...f.early.splice(0)].sort((x, y) => x.seq - y.seq)
    const all = f.vod ? sorted : sorted.slice(-(this.window + 3))
    f.firstSeq = all[0]?.seq ?? nextSeq
    if (f.firstSeq != null) for (const name of f.renditions.keys()) this.windowFor(f, name, f.firstSeq)
    if (f.vod) {
      // A VOD's segments are all known (hashes from the INDEX): list them at once, fetch each when
      // first asked for, and warm the cache in the background, two at a time.
      for (const seg of all) {
        f.seen.add(seg.seq)
        f.vodSegments.set(seg.seq, seg)
        const info = cmafInfo(seg)
        for (const name of f.renditions.keys()) {
          const entry = { seq: seg.seq, durationSec: seg.durationMs / 1000, ...entryUris(seg.seq, info.inits.get(name), f.cmaf), pdtMs: seg.pdtMs, discontinuity: seg.discontinuity }
          this.windowFor(f, name, seg.seq).add(seg.renditions.some(r => r.name === name) ? entry : { ...entry, gap: true })
        }
      }
      const queue = all.flatMap(seg => seg.renditions.map(r => [r.name, seg.seq] as const))
      void Promise.all([0, 1].map(async () => {
        for (let next = queue.shift(); next != null && this.followed.get(f.id) === f; next = queue.shift()) await this.segment(f.id, next[0], next[1]).catch(() => {})
      }))
    } else {
      for (const s of all) await this.onSegment(f, s).catch(() => {})
    }
    f.indexed = true
    for (const s of f.early.splice(0)) void this.onSegment(f, s)
  }

  private async onSegment (f: Followed, seg: SegmentAnnounce): Promise<void> {
    if (f.seen.has(seg.seq)) return
    f.seen.add(seg.seq)
    this.remember(f, seg)
    this.addRenditions(f, seg.renditions.map(r => ({ ...r, size: 0, sha256: new Uint8Array(0) })))
    const held: string[] = []
    const info = cmafInfo(seg)
    const p = Promise.all([...f.renditions.keys()].map(async name => {
      const w = this.windowFor(f, name, seg.seq)
      const r = seg.renditions.find(x => x.name === name)
      const entry = { seq: seg.seq, durationSec: seg.durationMs / 1000, ...entryUris(seg.seq, info.inits.get(name), f.cmaf), pdtMs: seg.pdtMs, discontinuity: seg.discontinuity }
      if (r == null) {
        w.add({ ...entry, gap: true })
        return
      }
      try {
        await this.flight.do(cacheKey(f.id, name, seg.seq), async () => {
          const cached = await this.cache.get(f.id, name, seg.seq)
          if (cached != null) return cached
          return { entry: await this.fetchRendition(f, seg.seq, name, r), from: 'network' as const }
        })
        held.push(name)
        w.add(entry)
      } catch (err: any) {
        this.log.warn({ streamId: f.id, seq: seg.seq, rendition: name, err: err?.message }, 'rendition fetch failed')
        f.history.get(seg.seq)?.renditions.delete(name)
        w.add({ ...entry, gap: true })
      }
    })).then(async () => { await this.swarm.announce(f.id, seg.seq, held) })
    f.pending.add(p)
    void p.finally(() => f.pending.delete(p))
    await p
  }

  /**
   * Fetches one rendition of one segment from the ingest and caches it.
   * The bytes must match the announced hash when the edge heard the
   * announcement, else the hash the ingest sends with them.
   */
  private async fetchRendition (f: Followed, seq: number, name: string, announced?: Rendition, attempt = 0): Promise<CachedSegment> {
    // Announced (hash known): from any holder, ingest or edge (swarming), verified against that hash.
    if (announced != null && announced.sha256.byteLength === 32) {
      this.metrics.upstream.inc()
      try {
        const data = await this.swarm.fetch({ streamId: f.id, ingest: f.ingest, seq, rendition: announced })
        const entry = await this.cache.put(f.id, name, seq, data, Buffer.from(announced.sha256).toString('hex'))
        this.metrics.fetches.inc({ outcome: 'ok' })
        return entry
      } catch (err) {
        this.metrics.fetches.inc({ outcome: 'error' })
        throw err
      }
    }
    // Not announced to us (a segment asked for before or beyond what we heard): from the ingest, with its hash.
    try {
      this.metrics.upstream.inc()
      const ch = messageChannel(this.init, await this.init.protocols.dial(f.ingest, PROTOCOL_FETCH, { signal: AbortSignal.timeout(5000) }), 'fetch')
      const signal = AbortSignal.timeout(20_000)
      try {
        await ch.write(codecs.fetchRequest, { kind: FetchRequest.Kind.SEGMENT, streamId: f.id, rendition: name, seq }, { signal })
        const res = await ch.read(codecs.fetchResponse, { signal })
        if (res.status === FetchResponse.Status.NOT_FOUND) throw new NotFoundError(`fetch ${name}/${seq}: ${res.error}`)
        if (res.status !== FetchResponse.Status.OK) throw new Error(`fetch ${name}/${seq}: ${res.error}`)
        if (announced != null && res.size !== announced.size) throw new Error(`fetch ${name}/${seq}: size ${res.size}, announced ${announced.size}`)
        const expected = Buffer.from(announced?.sha256 ?? res.sha256)
        if (expected.byteLength !== 32) throw new Error(`fetch ${name}/${seq}: no sha256`)
        const data = await ch.readBytes(res.size, { signal })
        if (!createHash('sha256').update(data).digest().equals(expected)) throw new Error(`fetch ${name}/${seq}: hash mismatch`)
        await ch.close().catch(() => {})
        const entry = await this.cache.put(f.id, name, seq, data, expected.toString('hex'))
        this.metrics.fetches.inc({ outcome: 'ok' })
        return entry
      } catch (err: any) {
        ch.abort(err)
        throw err
      }
    } catch (err: any) {
      this.metrics.fetches.inc({ outcome: 'error' })
      if (attempt >= 2 || err?.name === NotFoundError.NAME) throw err
      await new Promise(resolve => setTimeout(resolve, 200 * (attempt + 1)))
      return await this.fetchRendition(f, seq, name, announced, attempt + 1)
    }
  }

  /**
   * Looks a stream up on the DHT (its ingest provides the stream's key) and,
   * from the first provider, takes the stream's announcement out of an INDEX
   * answer: the directory entry a StreamAnnounce would have made, with the
   * provider as the stream's ingest.
   */
  private async lookup (streamId: string): Promise<void> {
    const d = this.init.discovery
    if (d == null) return
    const notBefore = this.lookedUp.get(streamId)
    if (notBefore != null && Date.now() < notBefore) return
    this.lookedUp.set(streamId, Infinity)
    if (this.lookedUp.size > 1024) this.lookedUp.delete(this.lookedUp.keys().next().value as string)
    const providers = await d.findStreamProviders(streamId, { timeoutMs: this.init.discoveryTimeoutMs ?? 5000, max: 1 }).catch(() => [])
    this.lookedUp.set(streamId, Date.now() + 1000)
    for (const peer of providers) {
      let ch: ReturnType<typeof messageChannel> | undefined
      try {
        ch = messageChannel(this.init, await this.init.protocols.dial(peer, PROTOCOL_FETCH, { signal: AbortSignal.timeout(5000) }), 'fetch')
        const signal = AbortSignal.timeout(10_000)
        await ch.write(codecs.fetchRequest, { kind: FetchRequest.Kind.INDEX, streamId, rendition: '', seq: 0 }, { signal })
        const res = await ch.read(codecs.fetchResponse, { signal })
        await ch.close().catch(() => {})
        if (res.status !== FetchResponse.Status.OK || res.stream?.streamId !== streamId) continue
        this.lookups.inc({ outcome: 'found' })
        this.log.info({ streamId, ingest: peer }, 'stream found on the DHT')
        if (!this.directory.has(streamId)) {
          this.directory.set(streamId, { ingest: peer, announce: res.stream })
          this.wake(streamId)
        }
        return
      } catch (err: any) {
        ch?.abort(err)
        this.log.debug({ streamId, peer, err: err?.message }, 'DHT provider did not give the stream')
      }
    }
    this.lookups.inc({ outcome: 'not_found' })
  }

  private async waitFor (streamId: string, done: () => boolean, ms: number): Promise<void> {
    if (done()) return
    await new Promise<void>(resolve => {
      const set = this.waiters.get(streamId) ?? new Set()
      this.waiters.set(streamId, set)
      const check = (): void => {
        if (done()) finish()
      }
      const finish = (): void => {
        clearTimeout(timer)
        set.delete(check)
        // Requests for made-up stream ids must not leave entries behind.
        if (set.size === 0 && this.waiters.get(streamId) === set) this.waiters.delete(streamId)
        resolve()
      }
      const timer = setTimeout(finish, ms)
      set.add(check)
    })
  }

  private wake (streamId: string): void {
    for (const fn of this.waiters.get(streamId) ?? []) fn()
  }
}
