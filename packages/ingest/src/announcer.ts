import { codecs, StreamAnnounce as WireAnnounce, truncateUtf8, TOPIC_STREAMS } from '@diststream/protocol'
import { BoundedMap } from '@diststream/util'
import { ANNOUNCE_EVERY_MS, ENDED_REPEAT_MS, MAX_ANNOUNCE_ADDRS, MAX_ANNOUNCE_NAME_BYTES, MAX_PROVIDED, NEWCOMER_ANNOUNCE_GAP_MS } from './constants.js'
import { shouldReannounce, shouldReprovide, wireState } from './stream-state.js'
import type { Gossip, P2PNode, StreamDiscovery } from '@diststream/p2p'
import type { StreamAnnounce } from '@diststream/protocol'
import type { Store, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'

export interface StreamAnnouncerDeps {
  gossip: Gossip
  libp2p: Pick<P2PNode, 'getMultiaddrs'>
  discovery?: StreamDiscovery
  store: Store
  segmentSeconds: number
  logger: Logger
}

/**
 * Whether a stream can be announced: its record carries the salt its id was
 * derived with. Records from before self-certifying ids (no salt) are not:
 * no edge or worker would accept them (PROTOCOL.md §9); re-create the stream.
 */
export function isAnnounceable (s: StreamRecord): boolean {
  return s.salt != null && /^[0-9a-f]{32}$/.test(s.salt)
}

/**
 * Tells the network which streams this ingest has, quietly: a StreamAnnounce
 * on gossip for each change; live streams (and VODs) again when a peer
 * subscribes to the directory (at most one round per
 * {@link NEWCOMER_ANNOUNCE_GAP_MS}) and as a keep-alive every
 * {@link ANNOUNCE_EVERY_MS}; an end once more {@link ENDED_REPEAT_MS} after
 * the change, then never (an edge that comes later finds the stream on the
 * DHT); and a DHT provider record for each live stream.
 */
export class StreamAnnouncer {
  readonly #deps: StreamAnnouncerDeps
  /** When each stream was last provided on the DHT. */
  readonly #provided = new BoundedMap<string, number>(MAX_PROVIDED)
  #timer?: NodeJS.Timeout
  /** Rounds of the periodic announce in progress (stop waits for them). */
  readonly #running = new Set<Promise<void>>()
  /** The one repeat of each end, pending. */
  readonly #endRepeats = new BoundedMap<string, NodeJS.Timeout>(MAX_PROVIDED)
  /** A newcomer round is due (coalesced: at most one per NEWCOMER_ANNOUNCE_GAP_MS). */
  #newcomerTimer?: NodeJS.Timeout
  #stopNewcomers?: () => void
  #stopped = false

  constructor (deps: StreamAnnouncerDeps) {
    this.#deps = deps
  }

  /** Starts the keep-alive and the answers to newcomers. */
  start (): void {
    this.#stopped = false
    this.#timer = setInterval(() => { this.#round('periodic') }, ANNOUNCE_EVERY_MS)
    this.#timer.unref()
    this.#stopNewcomers = this.#deps.gossip.onNewSubscriber(TOPIC_STREAMS, () => {
      if (this.#newcomerTimer != null || this.#stopped) return
      this.#newcomerTimer = setTimeout(() => {
        this.#newcomerTimer = undefined
        this.#round('newcomer')
      }, NEWCOMER_ANNOUNCE_GAP_MS)
      this.#newcomerTimer.unref()
    })
  }

  #round (why: string): void {
    if (this.#stopped) return
    const round = this.announceAll()
      .catch(err => { this.#deps.logger.warn({ err, why }, 'stream announce round failed') })
      .finally(() => { this.#running.delete(round) })
    this.#running.add(round)
  }

  /** Stops the keep-alive, the newcomer answers and the end repeats, and waits for the rounds in progress. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#timer = undefined
    clearTimeout(this.#newcomerTimer)
    this.#newcomerTimer = undefined
    this.#stopNewcomers?.()
    for (const t of this.#endRepeats.values()) clearTimeout(t)
    this.#endRepeats.clear()
    await Promise.allSettled([...this.#running])
  }

  /** The announce of a stream as edges get it (on gossip, and in a FETCH INDEX answer). Only for an announceable record ({@link isAnnounceable}). */
  streamAnnounce (s: StreamRecord): StreamAnnounce {
    return {
      salt: Buffer.from(s.salt ?? '', 'hex'),
      streamId: s.id,
      // A private stream's name stays on its ingest: gossip reaches every peer.
      name: s.private === true ? '' : truncateUtf8(s.name, MAX_ANNOUNCE_NAME_BYTES),
      state: wireState(s),
      ...(s.vod === true ? { vod: true } : {}),
      ...(s.container === 'cmaf' ? { container: 'cmaf' } : {}),
      ...(s.private === true ? { private: true } : {}),
      renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, size: 0, sha256: new Uint8Array(0) })),
      targetDurationMs: this.#deps.segmentSeconds * 1000,
      lastSeq: s.lastSeq ?? 0,
      ingestMultiaddrs: this.#deps.libp2p.getMultiaddrs().slice(0, MAX_ANNOUNCE_ADDRS).map(m => m.bytes),
      updatedAtMs: Date.now()
    }
  }

  /** Announces a stream now (an end is repeated once, {@link ENDED_REPEAT_MS} later). A failed publish (no peer yet) is logged; the keep-alive repeats a live one. */
  async announce (s: StreamRecord): Promise<void> {
    if (!isAnnounceable(s)) return
    const msg = this.streamAnnounce(s)
    if (msg.state === WireAnnounce.State.ENDED && !shouldReannounce(s)) this.#repeatEnd(s.id)
    await this.#publish(msg)
  }

  async #publish (msg: StreamAnnounce): Promise<void> {
    try {
      await this.#deps.gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, msg)
    } catch (err: any) {
      this.#deps.logger.debug({ streamId: msg.streamId, err: err?.message }, 'stream announce failed')
    }
  }

  /** The one repeat of an end: the stream as stored then, if it is still over. */
  #repeatEnd (id: string): void {
    if (this.#stopped || this.#endRepeats.has(id)) return
    const timer = setTimeout(() => {
      this.#endRepeats.delete(id)
      if (this.#stopped) return
      const round = this.#deps.store.streams.get(id).then(async (cur) => {
        if (cur == null || shouldReannounce(cur) || !isAnnounceable(cur)) return
        const msg = this.streamAnnounce(cur)
        if (msg.state === WireAnnounce.State.ENDED) await this.#publish(msg)
      }).catch((err: any) => { this.#deps.logger.debug({ streamId: id, err: err?.message }, 'repeat of a stream end failed') })
        .finally(() => { this.#running.delete(round) })
      this.#running.add(round)
    }, ENDED_REPEAT_MS)
    timer.unref()
    this.#endRepeats.set(id, timer)
  }

  /** Advertises a live stream on the DHT (a provider record for its key); renewed by the periodic announce. */
  provide (s: StreamRecord): void {
    const d = this.#deps.discovery
    if (d == null || !isAnnounceable(s)) return
    const id = s.id
    this.#provided.set(id, Date.now())
    d.provideStream(id).then(() => { this.#deps.logger.debug({ streamId: id }, 'stream provided on the DHT') }, (err) => { this.#deps.logger.debug({ streamId: id, err: err?.message }, 'DHT provide failed') })
  }

  /** One round of the keep-alive: every live stream (and VOD) announced, live ones provided when due. */
  async announceAll (): Promise<void> {
    for (const s of await this.#deps.store.streams.list()) {
      const now = Date.now()
      if (shouldReannounce(s) && isAnnounceable(s)) await this.#publish(this.streamAnnounce(s))
      if (shouldReprovide(s, this.#provided.get(s.id), now)) this.provide(s)
    }
  }
}
