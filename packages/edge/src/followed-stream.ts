import { codecs, MAX_INDEX_SEGMENTS, MAX_RENDITIONS, StreamAnnounce, streamTopic } from '@diststream/protocol'
import { DashManifest, renderMasterPlaylist } from '@diststream/hls'
import { exponential, retry } from '@diststream/util'
import { key as cacheKey } from './cache.js'
import { blockingDecision, blockingTimeoutMs, NotifyingWindow } from './blocking.js'
import { cmafInfo, cmafMaster, entryUris, initPart, renderDash } from './cmaf.js'
import { fillHistoryInBackground } from './history-fill.js'
import { BACKFILL_EXTRA_SEGMENTS, INDEX_ATTEMPTS, INDEX_RETRY_BASE_MS, MAX_DVR_SEGMENTS, MAX_EARLY_SEGMENTS, RENDITIONS_WAIT_MS, VOD_WARM_CONCURRENCY } from './constants.js'
import { DvrHistory } from './dvr.js'
import { BlockingReloadUnavailableError, DeliveryDirectiveError, NotFoundError, UpstreamError } from './errors.js'
import type { SegmentCache } from './cache.js'
import type { DeliveryDirectives, PlaylistWaiters } from './blocking.js'
import type { DirectoryEntry } from './directory.js'
import type { FetchClient, IndexAnswer } from './fetch-client.js'
import type { RenditionFetcher } from './rendition-fetcher.js'
import type { Swarm } from './swarm.js'
import type { MediaPlaylistView, ServedSegment } from './types.js'
import type { Gossip, ProtocolErrorHook } from '@diststream/p2p'
import type { LiveWindow, PlaylistSegment } from '@diststream/hls'
import type { Rendition, SegmentAnnounce } from '@diststream/protocol'
import type { Notifier, SingleFlight } from '@diststream/util'
import type { Logger } from 'pino'

/** What a followed stream needs from its edge (narrow: not the whole EdgeInit). */
export interface FollowContext {
  gossip: Pick<Gossip, 'subscribe'>
  swarm: Pick<Swarm, 'join' | 'announce'>
  client: Pick<FetchClient, 'index'>
  fetcher: Pick<RenditionFetcher, 'fetch'>
  cache: Pick<SegmentCache, 'get'>
  /** The edge's per-segment flights, shared with viewer requests. */
  segmentFlights: SingleFlight<ServedSegment>
  reloads: Pick<PlaylistWaiters, 'notify' | 'wait'>
  /** Keyed by stream id: requests wait on it for the stream's first renditions. */
  notifier: Pick<Notifier<string>, 'wake' | 'wait'>
  /** A segment as a viewer gets it (memory, disk, network): VOD cache warming and init segments. */
  serve: (streamId: string, rendition: string, seq: number) => Promise<ServedSegment>
  /** Segments per live media playlist. */
  window: number
  lowLatency: boolean
  log: Logger
  /** The edge's shutdown: index retries, backfills and warming stop when it fires. */
  signal: AbortSignal
  onProtocolError?: ProtocolErrorHook
}

/**
 * One stream an edge follows (like mediamtx's per-path muxer): its gossip
 * subscription and have-list, its INDEX load with retries, the backfill of
 * its live windows, taking each announced segment into the cache and the
 * windows, its DVR history, its playlists and DASH manifest, and its end.
 */
export class FollowedStream {
  readonly id: string
  readonly ingest: string
  readonly renditions = new Map<string, Rendition>()
  /** Renditions are fragmented MP4 (the stream was announced with container "cmaf"): HLS v7 and DASH. */
  readonly cmaf: boolean
  /** A finished VOD: every segment in the playlist, EXT-X-PLAYLIST-TYPE:VOD. */
  readonly vod: boolean
  /** Every segment heard of (index and gossip), for DVR, VOD and DASH; bounded. */
  readonly history: DvrHistory
  ended = false
  /** Last segment or live announcement (ms); last viewer request (ms), set by the edge. */
  lastActivityAt = Date.now()
  lastViewedAt = Date.now()
  endedAt?: number
  /** Highest segment seq heard of. */
  maxSeq: number
  /** Settles once the index is loaded (or failed to load and the windows start from gossip). */
  ready: Promise<void> = Promise.resolve()

  readonly #ctx: FollowContext
  readonly #windows = new Map<string, LiveWindow>()
  readonly #seen = new Set<number>()
  /** Segments being taken in: the playlists end once these settle. */
  readonly #pending = new Set<Promise<void>>()
  /** Other work in flight (VOD cache warming): awaited by {@link settled} only. */
  readonly #background = new Set<Promise<void>>()
  /** Set once the index is loaded: windows start here, so out-of-order fetches can't start them late. */
  #firstSeq?: number
  /** Segment announcements that arrived before the index. */
  #early: SegmentAnnounce[] = []
  /** The index was loaded (or failed to): gossip goes straight to the windows. */
  #indexed = false
  /** VOD: each segment's renditions (with hashes) from the INDEX, fetched when first asked for. */
  readonly #vodSegments = new Map<number, SegmentAnnounce>()
  /** The DASH manifest's state (availabilityStartTime, Period anchors). */
  readonly #dash = new DashManifest()
  #targetDurationMs: number
  readonly #closed = new AbortController()
  readonly #signal: AbortSignal
  #unsubscribe: () => void = () => {}

  private constructor (ctx: FollowContext, streamId: string, entry: DirectoryEntry) {
    this.#ctx = ctx
    this.id = streamId
    this.ingest = entry.ingest
    this.cmaf = entry.announce.container === 'cmaf'
    this.vod = entry.announce.vod === true
    this.maxSeq = entry.announce.lastSeq
    this.#targetDurationMs = entry.announce.targetDurationMs
    this.history = new DvrHistory({ cmaf: this.cmaf })
    this.#signal = AbortSignal.any([ctx.signal, this.#closed.signal])
  }

  /** Starts following: subscribes to the stream's segments and have-list, then loads its index (see {@link ready}). */
  static open (ctx: FollowContext, streamId: string, entry: DirectoryEntry): FollowedStream {
    const f = new FollowedStream(ctx, streamId, entry)
    const offSegments = ctx.gossip.subscribe(streamTopic(streamId), codecs.segmentAnnounce, (seg, from) => {
      if (from !== f.ingest || seg.streamId !== streamId) {
        ctx.onProtocolError?.('invalid', 'stream:foreign-segment')
        return
      }
      f.lastActivityAt = Date.now()
      f.maxSeq = Math.max(f.maxSeq, seg.seq)
      if (!f.#indexed) {
        f.#early.push(seg)
        // Bounded: the index covers at most this many anyway.
        if (f.#early.length > MAX_EARLY_SEGMENTS) f.#early.shift()
      } else f.#takeInBackground(seg)
    })
    const offHave = ctx.swarm.join(streamId, () => f.maxSeq)
    f.#unsubscribe = () => { offSegments(); offHave() }
    f.addRenditions(entry.announce.renditions)
    f.ready = f.#loadIndexRetrying().catch(async (err: any) => {
      if (f.#signal.aborted) return
      // Without the index, play from what gossip brings: the window starts at the first segment heard.
      ctx.log.warn({ err: err?.message, streamId }, 'index fetch failed; following from new segments, the DVR history filled in the background')
      await f.#backfill([])
      f.#track(fillHistoryInBackground(async () => { f.#remember(await ctx.client.index(f.ingest, streamId, { signal: f.#signal })) }, { signal: f.#signal, log: ctx.log, streamId }), f.#background)
    })
    return f
  }

  /** The stream's target duration (s), from its latest announcement. */
  get targetDurationSec (): number {
    return Math.max(1, Math.round(this.#targetDurationMs) / 1000)
  }

  /** A newer announcement of the stream (from its own ingest). */
  onAnnounce (msg: StreamAnnounce): void {
    this.#targetDurationMs = msg.targetDurationMs
    this.maxSeq = Math.max(this.maxSeq, msg.lastSeq)
    this.addRenditions(msg.renditions)
    if (msg.state === StreamAnnounce.State.ENDED) this.end()
    else this.lastActivityAt = Date.now()
  }

  addRenditions (list: Rendition[]): void {
    for (const r of list) {
      const old = this.renditions.get(r.name)
      // Names past MAX_RENDITIONS are refused (H3): announcements cannot add windows and fetches without end.
      if (old == null && this.renditions.size >= MAX_RENDITIONS) { this.#ctx.onProtocolError?.('invalid', 'stream:too-many-renditions'); continue }
      if (old == null || r.bandwidth > old.bandwidth) this.renditions.set(r.name, old == null ? r : { ...old, bandwidth: r.bandwidth })
    }
    if (list.length > 0) this.#ctx.notifier.wake(this.id)
  }

  windowFor (name: string, seq = this.#firstSeq ?? 0): LiveWindow {
    let w = this.#windows.get(name)
    if (w == null) {
      w = new NotifyingWindow({ windowSize: this.vod ? MAX_INDEX_SEGMENTS : this.#ctx.window, firstSeq: Math.min(this.#firstSeq ?? seq, seq), ...(this.vod ? { maxHoldSegments: MAX_INDEX_SEGMENTS } : {}) }, () => { this.#ctx.reloads.notify(this.id) })
      this.#windows.set(name, w)
    }
    return w
  }

  /** Ends the playlists (`EXT-X-ENDLIST`) once the pending fetches settle. Again later: ends windows made since. */
  end (): void {
    if (!this.ended) {
      this.ended = true
      this.endedAt = Date.now()
    }
    const endWindows = (): void => { for (const w of this.#windows.values()) w.end() }
    if (this.#pending.size === 0) endWindows()
    else void Promise.allSettled([...this.#pending]).then(endWindows)
  }

  /** Stops following: unsubscribes and stops the index retries, backfill and warming (the cache stays). */
  close (): void {
    this.#unsubscribe()
    this.#closed.abort()
  }

  /** Settles once the index load and every segment being taken in have settled (for the edge's stop). */
  async settled (): Promise<void> {
    await Promise.allSettled([this.ready, ...this.#pending, ...this.#background])
  }

  /** The master playlist, once the stream has renditions (waiting a while for the first). */
  async masterPlaylist (): Promise<string> {
    await this.#waitForRenditions()
    if (this.renditions.size === 0) throw new NotFoundError(`stream ${this.id} has no renditions yet`)
    if (this.cmaf) {
      const { variants, audio } = cmafMaster([...this.renditions.values()])
      return renderMasterPlaylist(variants, { version: 7, audio })
    }
    return renderMasterPlaylist([...this.renditions.values()].map(r => ({ uri: `${r.name}/index.m3u8`, name: r.name, bandwidth: r.bandwidth, width: r.width, height: r.height, codecs: r.codecs })))
  }

  async #waitForRenditions (): Promise<void> {
    await this.#ctx.notifier.wait(this.id, () => this.renditions.size > 0, { timeoutMs: RENDITIONS_WAIT_MS, signal: this.#ctx.signal })
  }

  /**
   * A media playlist. With `directives.msn` (`_HLS_msn`, a blocking reload)
   * the answer waits until the window lists that segment (or the stream
   * ends), for at most three target durations (then 503); an `msn` more than
   * two segments past the live edge is a 400 at once. An ended stream lists
   * every segment heard of (DVR).
   */
  async mediaPlaylist (rendition: string, directives: DeliveryDirectives & { signal?: AbortSignal, client?: string }): Promise<MediaPlaylistView> {
    if (!this.renditions.has(rendition)) throw new NotFoundError(`stream ${this.id} has no rendition ${rendition}`)
    const w = this.windowFor(rendition)
    const targetDurationSec = this.targetDurationSec
    if (directives.msn !== undefined) {
      const decide = (): ReturnType<typeof blockingDecision> => blockingDecision({ msn: directives.msn, lastSeq: w.lastSeq ?? w.mediaSequence - 1, ended: w.ended || this.vod })
      const first = decide()
      if (first.kind === 'too-far') throw new DeliveryDirectiveError(first.reason)
      if (first.kind === 'wait') {
        const outcome = await this.#ctx.reloads.wait(this.id, () => decide().kind === 'now', blockingTimeoutMs(targetDurationSec), directives.signal, directives.client)
        if (outcome === 'timeout') throw new BlockingReloadUnavailableError(`segment ${directives.msn} of ${rendition} was not ready within ${blockingTimeoutMs(targetDurationSec)} ms`)
        if (outcome === 'full') throw new BlockingReloadUnavailableError('too many blocking playlist reloads are waiting on this edge')
        if (outcome === 'closed') throw new BlockingReloadUnavailableError('the edge is stopping')
      }
    }
    if (w.ended && this.history.size > 0) return { body: this.history.playlist(rendition, { targetDurationSec, vod: this.vod }), ended: true, targetDurationSec }
    const serverControl = this.#ctx.lowLatency ? { serverControl: { canBlockReload: true } } : {}
    return { body: w.toPlaylist({ targetDurationSec, ...serverControl, ...(this.cmaf ? { version: 7 } : {}), ...(this.vod ? { playlistType: 'VOD' as const } : {}) }), ended: w.ended, targetDurationSec }
  }

  /** The DASH manifest (CMAF only): live, the windows; ended (DVR), every segment heard of, as the HLS playlists then list them. */
  async dashManifest (): Promise<MediaPlaylistView> {
    if (!this.cmaf) throw new NotFoundError(`stream ${this.id} is MPEG-TS (--container ts): no DASH manifest`)
    await this.#waitForRenditions()
    const targetDurationSec = this.targetDurationSec
    const ended = [...this.renditions.keys()].every(name => this.windowFor(name).ended)
    const renditions = [...this.renditions.values()].map(r => ({
      rendition: r,
      segments: ended && this.history.size > 0 ? this.history.segments(r.name, { targetDurationSec }) : this.windowFor(r.name).segments()
    }))
    if (!renditions.some(r => r.segments.some(s => s.gap !== true))) throw new NotFoundError(`stream ${this.id} has no segments yet`)
    const body = renderDash(this.#dash, { nowMs: Date.now(), ended, targetDurationSec, renditions, info: seq => this.history.get(seq)?.cmaf })
    return { body, ended, targetDurationSec }
  }

  /** Fetches a rendition segment a viewer asked for that is in no cache (a VOD's against its INDEX hash). */
  async fetchSegment (rendition: string, seq: number): Promise<ServedSegment> {
    if (!this.renditions.has(rendition) || seq > this.maxSeq) throw new NotFoundError('no such segment')
    try {
      const announced = this.#vodSegments.get(seq)?.renditions.find(r => r.name === rendition)
      return { entry: await this.#ctx.fetcher.fetch(this, seq, rendition, announced), from: 'network' }
    } catch (err: any) {
      if (err instanceof NotFoundError) throw err
      throw new UpstreamError(`segment ${rendition}/${seq} could not be fetched from the ingest: ${String(err?.message)}`)
    }
  }

  /** A rendition's init segment (its sha256 starts with `prefix`), cut from the newest held segment announced with it. */
  async initSegment (rendition: string, prefix: string, file: string): Promise<ServedSegment> {
    for (const { seq, init } of this.history.initCandidates(rendition, prefix)) {
      const served = await this.#ctx.serve(this.id, rendition, seq).catch((err: any) => {
        this.#ctx.log.debug({ streamId: this.id, rendition, seq, err: err?.message }, 'init candidate segment unavailable; trying an older one')
        return undefined
      })
      if (served != null) return { ...served, entry: initPart(served.entry, init) }
    }
    throw new NotFoundError(`stream ${this.id} has no init ${file} for ${rendition}`)
  }

  /** {@link loadIndex}, tried again twice (after 1 s, then 2 s) when the ingest does not answer: a busy ingest must not cost the edge the stream's start. */
  async #loadIndexRetrying (): Promise<void> {
    await retry(async () => { await this.#loadIndex() }, {
      attempts: INDEX_ATTEMPTS,
      delayMs: exponential(INDEX_RETRY_BASE_MS),
      signal: this.#signal,
      onRetry: (err: any, n) => { this.#ctx.log.debug({ err: err?.message, streamId: this.id, attempt: n - 1 }, 'index fetch failed; trying again') }
    })
  }

  async #loadIndex (): Promise<void> {
    const res = await this.#ctx.client.index(this.ingest, this.id, { signal: this.#signal })
    if (res.stream != null) this.addRenditions(res.stream.renditions)
    await this.#backfill(res.segments, res.stream != null ? res.stream.lastSeq + 1 : undefined)
    this.#remember(res)
  }

  /** An INDEX's segments into the DVR history (fetched when asked for); ends the stream when the INDEX says it ended. */
  #remember (res: IndexAnswer): void {
    if (res.stream != null) this.addRenditions(res.stream.renditions)
    if (res.stream != null) this.maxSeq = Math.max(this.maxSeq, res.stream.lastSeq)
    for (const s of res.segments) {
      this.maxSeq = Math.max(this.maxSeq, s.seq)
      this.history.remember(s)
    }
    // Also when an ENDED announcement came while the index was loading: it found no windows to end yet.
    if (res.stream?.state === StreamAnnounce.State.ENDED || this.ended) this.end()
  }

  /**
   * Starts the windows: the index's segments and any that gossip brought
   * meanwhile, only as many as a playlist shows, fetched in order (parallel
   * fetches of a whole window would finish out of order by more than the
   * window's hold limit and turn into gaps).
   */
  async #backfill (index: SegmentAnnounce[], nextSeq?: number): Promise<void> {
    const sorted = [...index, ...this.#early.splice(0)].sort((x, y) => x.seq - y.seq)
    const all = this.vod ? sorted : sorted.slice(-(this.#ctx.window + BACKFILL_EXTRA_SEGMENTS))
    this.#firstSeq = all[0]?.seq ?? nextSeq
    if (this.#firstSeq != null) for (const name of this.renditions.keys()) this.windowFor(name, this.#firstSeq)
    if (this.vod) {
      this.#listVod(all)
    } else {
      for (const s of all) {
        if (this.#signal.aborted) break
        await this.#take(s).catch((err: any) => { this.#ctx.log.debug({ streamId: this.id, seq: s.seq, err: err?.message }, 'backfill segment failed') })
      }
    }
    this.#indexed = true
    for (const s of this.#early.splice(0)) this.#takeInBackground(s)
  }

  /**
   * A VOD's segments are all known (hashes from the INDEX): list them at
   * once, fetch each when first asked for, and warm the cache in the
   * background, a few at a time, until the stream is closed.
   */
  #listVod (all: SegmentAnnounce[]): void {
    for (const seg of all) {
      this.#seen.add(seg.seq)
      this.#vodSegments.set(seg.seq, seg)
      const info = cmafInfo(seg)
      for (const name of this.renditions.keys()) {
        const entry = { seq: seg.seq, durationSec: seg.durationMs / 1000, ...entryUris(seg.seq, info.inits.get(name), this.cmaf), pdtMs: seg.pdtMs, discontinuity: seg.discontinuity }
        this.windowFor(name, seg.seq).add(seg.renditions.some(r => r.name === name) ? entry : { ...entry, gap: true })
      }
    }
    const queue = all.flatMap(seg => seg.renditions.map(r => [r.name, seg.seq] as const))
    const warming = Promise.all(Array.from({ length: VOD_WARM_CONCURRENCY }, async () => {
      for (let next = queue.shift(); next != null && !this.#signal.aborted; next = queue.shift()) {
        const [name, seq] = next
        // A segment that cannot be had now is fetched again when a viewer asks for it.
        await this.#ctx.serve(this.id, name, seq).catch((err: any) => { this.#ctx.log.debug({ streamId: this.id, rendition: name, seq, err: err?.message }, 'VOD cache warming skipped a segment') })
      }
    })).then(() => {})
    this.#track(warming, this.#background)
  }

  #takeInBackground (seg: SegmentAnnounce): void {
    this.#take(seg).catch((err: any) => { this.#ctx.log.warn({ streamId: this.id, seq: seg.seq, err: err?.message }, 'segment not taken in') })
  }

  /** Takes an announced segment in: fetches each rendition into the cache, adds it to its window (or a gap), then announces what it holds. */
  async #take (seg: SegmentAnnounce): Promise<void> {
    if (this.#seen.has(seg.seq)) return
    this.#seen.add(seg.seq)
    // Bounded like the history: the oldest seq taken in is forgotten (a set keeps insertion order).
    if (this.#seen.size > MAX_DVR_SEGMENTS) this.#seen.delete(this.#seen.values().next().value!)
    this.history.remember(seg)
    this.addRenditions(seg.renditions.map(r => ({ ...r, size: 0, sha256: new Uint8Array(0) })))
    const held: string[] = []
    const info = cmafInfo(seg)
    const p = Promise.all([...this.renditions.keys()].map(async name => {
      const w = this.windowFor(name, seg.seq)
      const r = seg.renditions.find(x => x.name === name)
      const entry: PlaylistSegment = { seq: seg.seq, durationSec: seg.durationMs / 1000, ...entryUris(seg.seq, info.inits.get(name), this.cmaf), pdtMs: seg.pdtMs, discontinuity: seg.discontinuity }
      if (r == null) {
        w.add({ ...entry, gap: true })
        return
      }
      try {
        await this.#ctx.segmentFlights.do(cacheKey(this.id, name, seg.seq), async () => {
          const cached = await this.#ctx.cache.get(this.id, name, seg.seq)
          if (cached != null) return cached
          return { entry: await this.#ctx.fetcher.fetch(this, seg.seq, name, r), from: 'network' as const }
        })
        held.push(name)
        w.add(entry)
      } catch (err: any) {
        this.#ctx.log.warn({ streamId: this.id, seq: seg.seq, rendition: name, err: err?.message }, 'rendition fetch failed')
        this.history.dropRendition(seg.seq, name)
        w.add({ ...entry, gap: true })
      }
    })).then(async () => { await this.#ctx.swarm.announce(this.id, seg.seq, held) })
    this.#track(p, this.#pending)
    await p
  }

  /** Remembers in-flight work in `set` until it settles. */
  #track (p: Promise<void>, set: Set<Promise<void>>): void {
    set.add(p)
    const done = (): void => { set.delete(p) }
    void p.then(done, done)
  }
}
