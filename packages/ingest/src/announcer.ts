import { codecs, truncateUtf8, TOPIC_STREAMS } from '@diststream/protocol'
import { BoundedMap } from '@diststream/util'
import { ANNOUNCE_EVERY_MS, MAX_ANNOUNCE_ADDRS, MAX_ANNOUNCE_NAME_BYTES, MAX_PROVIDED } from './constants.js'
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
 * Tells the network which streams this ingest has: a StreamAnnounce on
 * gossip for each change and again every {@link ANNOUNCE_EVERY_MS} (edges
 * that joined late hear of it), and a DHT provider record for each live stream.
 */
export class StreamAnnouncer {
  readonly #deps: StreamAnnouncerDeps
  /** When each stream was last provided on the DHT. */
  readonly #provided = new BoundedMap<string, number>(MAX_PROVIDED)
  #timer?: NodeJS.Timeout
  /** Rounds of the periodic announce in progress (stop waits for them). */
  readonly #running = new Set<Promise<void>>()

  constructor (deps: StreamAnnouncerDeps) {
    this.#deps = deps
  }

  /** Starts the periodic announce. */
  start (): void {
    this.#timer = setInterval(() => {
      const round = this.announceAll()
        .catch(err => { this.#deps.logger.warn({ err }, 'periodic stream announce failed') })
        .finally(() => { this.#running.delete(round) })
      this.#running.add(round)
    }, ANNOUNCE_EVERY_MS)
    this.#timer.unref()
  }

  /** Stops the periodic announce and waits for the rounds in progress. */
  async stop (): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await Promise.allSettled([...this.#running])
  }

  /** The announce of a stream as edges get it (on gossip, and in a FETCH INDEX answer). Only for an announceable record ({@link isAnnounceable}). */
  streamAnnounce (s: StreamRecord): StreamAnnounce {
    return {
      salt: Buffer.from(s.salt ?? '', 'hex'),
      streamId: s.id,
      name: truncateUtf8(s.name, MAX_ANNOUNCE_NAME_BYTES),
      state: wireState(s),
      ...(s.vod === true ? { vod: true } : {}),
      ...(s.container === 'cmaf' ? { container: 'cmaf' } : {}),
      renditions: (s.renditions ?? []).map(r => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, size: 0, sha256: new Uint8Array(0) })),
      targetDurationMs: this.#deps.segmentSeconds * 1000,
      lastSeq: s.lastSeq ?? 0,
      ingestMultiaddrs: this.#deps.libp2p.getMultiaddrs().slice(0, MAX_ANNOUNCE_ADDRS).map(m => m.bytes),
      updatedAtMs: Date.now()
    }
  }

  /** Announces a stream now. A failed publish (no peer yet) is logged; the periodic announce repeats it. */
  async announce (s: StreamRecord): Promise<void> {
    if (!isAnnounceable(s)) return
    try {
      await this.#deps.gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, this.streamAnnounce(s))
    } catch (err: any) {
      this.#deps.logger.debug({ streamId: s.id, err: err?.message }, 'stream announce failed')
    }
  }

  /** Advertises a live stream on the DHT (a provider record for its key); renewed by the periodic announce. */
  provide (s: StreamRecord): void {
    const d = this.#deps.discovery
    if (d == null || !isAnnounceable(s)) return
    const id = s.id
    this.#provided.set(id, Date.now())
    d.provideStream(id).then(() => { this.#deps.logger.debug({ streamId: id }, 'stream provided on the DHT') }, (err) => { this.#deps.logger.debug({ streamId: id, err: err?.message }, 'DHT provide failed') })
  }

  /** One round of the periodic announce. */
  async announceAll (): Promise<void> {
    for (const s of await this.#deps.store.streams.list()) {
      const now = Date.now()
      if (shouldReannounce(s, now)) await this.announce(s)
      if (shouldReprovide(s, this.#provided.get(s.id), now)) this.provide(s)
    }
  }
}
