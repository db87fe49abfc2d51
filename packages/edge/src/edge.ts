import { join } from 'node:path'
import { ID_PATTERN, codecs, FetchRequest, FetchResponse, PROTOCOL_FETCH, StreamAnnounce, streamTopic, TOPIC_STREAMS } from '@diststream/protocol'
import { LiveWindow, renderMasterPlaylist } from '@diststream/hls'
import { Counter } from 'prom-client'
import { SegmentCache } from './cache.js'
import { Swarm } from './swarm.js'
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
  /** Serve cached segments to other edges over /diststream/fetch (false when this node's ingest serves them). */
  serveFetch?: boolean
  /** Swarming: fall back to the ingest after this long without a copy from a holder. */
  swarmFallbackMs?: number
}

export class NotFoundError extends Error {
  static readonly NAME = 'NotFoundError'
  override name = NotFoundError.NAME
}

interface DirectoryEntry { ingest: string, announce: StreamAnnounce }

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
  private readonly metrics: { fetches: Counter<'outcome'>, requests: Counter<'type' | 'status'>, hits: Counter, bytes: Counter }
  private unsubscribe?: () => void
  private readonly swarm: Swarm
  private readonly lookups: Counter<'outcome'>
  /** Streams being looked up on the DHT, or until when not to look them up again: one lookup at a time per stream, then a 1 s pause (viewers retrying an unknown stream must not flood the DHT). */
  private readonly lookedUp = new Map<string, number>()

  constructor (private readonly init: EdgeInit) {
    this.log = init.logger.child({ component: 'edge' })
    this.window = init.playlistWindow ?? 6
    this.cache = new SegmentCache({ dir: join(init.dataDir, 'cache'), maxMemoryBytes: init.maxMemoryBytes ?? 256 * 1024 * 1024 })
    const registers = [init.registry]
    this.metrics = {
      fetches: new Counter({ name: 'diststream_edge_fetches_total', help: 'Rendition fetches over libp2p, by outcome', labelNames: ['outcome'], registers }),
      requests: new Counter({ name: 'diststream_edge_requests_total', help: 'HTTP requests for HLS, by type and status', labelNames: ['type', 'status'], registers }),
      hits: new Counter({ name: 'diststream_edge_cache_hits_total', help: 'Segment requests served from the memory cache', registers }),
      bytes: new Counter({ name: 'diststream_edge_bytes_sent_total', help: 'Segment bytes served to viewers', registers })
    }
    this.lookups = new Counter({ name: 'diststream_edge_stream_lookups_total', help: 'DHT lookups of streams this edge had not heard of, by outcome (found, not_found)', labelNames: ['outcome'], registers })
    this.swarm = new Swarm({ ...init, logger: this.log, fallbackMs: init.swarmFallbackMs })
  }

  async start (): Promise<void> {
    this.unsubscribe = this.init.gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (msg, from) => { this.onStreamAnnounce(msg, from) })
    if (this.init.serveFetch !== false) {
      await this.init.protocols.handle(PROTOCOL_FETCH, (stream) => {
        void this.swarm.serve(stream, async (s, r, q) => (await this.cache.get(s, r, q))?.data)
      }, { maxInboundStreams: 256 })
    }
  }

  async stop (): Promise<void> {
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
    return renderMasterPlaylist([...f.renditions.values()].map(r => ({
      uri: `${r.name}/index.m3u8`,
      name: r.name,
      bandwidth: r.bandwidth,
      width: r.width,
      height: r.height,
      codecs: r.codecs
    })))
  }

  async mediaPlaylist (streamId: string, rendition: string): Promise<string> {
    if (!ID_PATTERN.test(rendition)) throw new NotFoundError('no such rendition')
    const f = await this.follow(streamId)
    if (!f.renditions.has(rendition)) throw new NotFoundError(`stream ${streamId} has no rendition ${rendition}`)
    const w = this.windowFor(f, rendition, f.firstSeq ?? 0)
    return w.toPlaylist({ targetDurationSec: Math.max(1, Math.round(this.directory.get(streamId)?.announce.targetDurationMs ?? 2000) / 1000) })
  }

  async segment (streamId: string, rendition: string, seq: number): Promise<{ data: Uint8Array, from: 'memory' | 'disk' }> {
    if (!ID_PATTERN.test(streamId) || !ID_PATTERN.test(rendition) || !Number.isSafeInteger(seq) || seq < 0) throw new NotFoundError('no such segment')
    const hit = await this.cache.get(streamId, rendition, seq)
    if (hit == null) throw new NotFoundError('no such segment')
    if (hit.from === 'memory') this.metrics.hits.inc()
    return hit
  }

  private onStreamAnnounce (msg: StreamAnnounce, from: string): void {
    const known = this.directory.get(msg.streamId)
    // A stream belongs to the ingest that announced it first; others can't take it over.
    if (known != null && known.ingest !== from) {
      this.init.onProtocolError?.('invalid', 'streams:foreign-announce')
      return
    }
    if (known != null && known.announce.updatedAtMs > msg.updatedAtMs) return
    this.directory.set(msg.streamId, { ingest: from, announce: msg })
    const f = this.followed.get(msg.streamId)
    if (f != null) {
      this.addRenditions(f, msg.renditions)
      if (msg.state === StreamAnnounce.State.ENDED && !f.ended) {
        f.ended = true
        void Promise.allSettled([...f.pending]).then(() => { for (const w of f.windows.values()) w.end() })
      }
    }
    this.wake(msg.streamId)
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
          unsubscribe: () => {},
          ready: Promise.resolve()
        }
        this.followed.set(streamId, nf)
        const offSegments = this.init.gossip.subscribe(streamTopic(streamId), codecs.segmentAnnounce, (seg, from) => {
          if (from !== ingest || seg.streamId !== streamId) {
            this.init.onProtocolError?.('invalid', 'stream:foreign-segment')
            return
          }
          if (!nf.indexed) nf.early.push(seg)
          else void this.onSegment(nf, seg)
        })
        const offHave = this.swarm.join(streamId)
        nf.unsubscribe = () => { offSegments(); offHave() }
        this.addRenditions(nf, entry.announce.renditions)
        nf.ready = this.loadIndex(nf).catch(async err => {
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
      w = new LiveWindow({ windowSize: this.window, firstSeq: Math.min(f.firstSeq ?? seq, seq) })
      f.windows.set(name, w)
    }
    return w
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
    if (res.stream?.state === StreamAnnounce.State.ENDED && !f.ended) {
      f.ended = true
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
    const all = [...index, ...f.early.splice(0)].sort((x, y) => x.seq - y.seq).slice(-(this.window + 3))
    f.firstSeq = all[0]?.seq ?? nextSeq
    if (f.firstSeq != null) for (const name of f.renditions.keys()) this.windowFor(f, name, f.firstSeq)
    for (const s of all) await this.onSegment(f, s).catch(() => {})
    f.indexed = true
    for (const s of f.early.splice(0)) void this.onSegment(f, s)
  }

  private async onSegment (f: Followed, seg: SegmentAnnounce): Promise<void> {
    if (f.seen.has(seg.seq)) return
    f.seen.add(seg.seq)
    this.addRenditions(f, seg.renditions.map(r => ({ ...r, size: 0, sha256: new Uint8Array(0) })))
    const held: string[] = []
    const p = Promise.all([...f.renditions.keys()].map(async name => {
      const w = this.windowFor(f, name, seg.seq)
      const r = seg.renditions.find(x => x.name === name)
      const entry = { seq: seg.seq, durationSec: seg.durationMs / 1000, uri: `${seg.seq}.ts`, pdtMs: seg.pdtMs, discontinuity: seg.discontinuity }
      if (r == null) {
        w.add({ ...entry, gap: true })
        return
      }
      try {
        await this.fetchRendition(f, seg.seq, r)
        held.push(name)
        w.add(entry)
      } catch (err: any) {
        this.log.warn({ streamId: f.id, seq: seg.seq, rendition: name, err: err?.message }, 'rendition fetch failed')
        w.add({ ...entry, gap: true })
      }
    })).then(async () => { await this.swarm.announce(f.id, seg.seq, held) })
    f.pending.add(p)
    void p.finally(() => f.pending.delete(p))
    await p
  }

  private async fetchRendition (f: Followed, seq: number, r: Rendition): Promise<void> {
    try {
      const data = await this.swarm.fetch({ streamId: f.id, ingest: f.ingest, seq, rendition: r })
      await this.cache.put(f.id, r.name, seq, data)
      this.metrics.fetches.inc({ outcome: 'ok' })
    } catch (err) {
      this.metrics.fetches.inc({ outcome: 'error' })
      throw err
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
