import { codecs, haveTopic, StreamAnnounce, streamTopic, TOPIC_JOBS, TOPIC_STREAMS, TOPIC_VIEWERS } from '@diststream/protocol'
import type { Gossip } from '@diststream/p2p'
import type { Logger } from 'pino'

/** A relayed stream not announced for this long is dropped: four of its ingest's 15 s keep-alives. */
export const RELAY_STREAM_EXPIRY_MS = 60_000

/**
 * Streams one announcer (the StreamAnnounce signer) may have relayed at once (security review
 * M11: slots were first come, refreshable by anyone). An ingest runs a handful of live streams;
 * 16 leaves room, and filling every slot now takes maxStreams / 16 keys.
 */
export const MAX_STREAMS_PER_ANNOUNCER = 16

export interface GossipRelayInit {
  gossip: Gossip
  logger: Logger
  /** Forget a stream not announced for this long (its ingest's keep-alive is every 15 s: four of them). */
  streamExpiryMs?: number
  /** Most streams relayed at once; beyond it new streams are not joined. */
  maxStreams?: number
}

/**
 * What makes a bootstrap node a gossip relay: gossipsub forwards only topics
 * a node subscribes to, so the bootstrap subscribes to the network's topics
 * (jobs, the stream directory, and each live stream's segment and have
 * topics, learned from the directory) and meshes form through it even
 * between peers that know nothing but its address. Messages are validated
 * like everywhere else (invalid ones are rejected, not forwarded) and
 * otherwise ignored: a bootstrap keeps no segments. Presence is subscribed
 * by the node's PresenceService.
 */
export class GossipRelay {
  private readonly streams = new Map<string, { lastSeen: number, announcer: string, unsubscribe: () => void }>()
  /** announcer → its relayed streams. */
  private readonly byAnnouncer = new Map<string, number>()
  private readonly unsubscribes: Array<() => void> = []
  private timer?: NodeJS.Timeout
  private readonly expiryMs: number
  private readonly maxStreams: number
  private readonly log: Logger

  constructor (private readonly init: GossipRelayInit) {
    this.expiryMs = init.streamExpiryMs ?? RELAY_STREAM_EXPIRY_MS
    this.maxStreams = init.maxStreams ?? 1024
    this.log = init.logger.child({ component: 'bootstrap' })
  }

  start (): void {
    const { gossip } = this.init
    this.unsubscribes.push(gossip.subscribe(TOPIC_JOBS, codecs.jobAnnounce, () => {}))
    // Edges' viewer counts: relayed so they reach ingests and edges through the bootstrap's mesh.
    this.unsubscribes.push(gossip.subscribe(TOPIC_VIEWERS, codecs.viewerCounts, () => {}))
    this.unsubscribes.push(gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (msg, from) => { this.onStream(msg, from) }))
    this.timer = setInterval(() => { this.expire() }, Math.max(1000, this.expiryMs / 3))
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    for (const s of this.streams.values()) s.unsubscribe()
    this.streams.clear()
    this.byAnnouncer.clear()
    for (const u of this.unsubscribes.splice(0)) u()
  }

  /** Streams whose topics this node relays. */
  relayed (): string[] {
    return [...this.streams.keys()]
  }

  /** Streams relayed for one announcer. */
  heldBy (announcer: string): number {
    return this.byAnnouncer.get(announcer) ?? 0
  }

  private onStream (msg: StreamAnnounce, from: string): void {
    const known = this.streams.get(msg.streamId)
    // A slot is its first announcer's: nobody else refreshes or ends it.
    if (known != null && known.announcer !== from) return
    if (msg.state === StreamAnnounce.State.ENDED) {
      // keep relaying a while so the last segments and ENDED reach everyone
      if (known != null) known.lastSeen = Math.min(known.lastSeen, Date.now() - this.expiryMs / 2)
      return
    }
    if (known != null) {
      known.lastSeen = Date.now()
      return
    }
    if (this.heldBy(from) >= MAX_STREAMS_PER_ANNOUNCER) return
    if (this.streams.size >= this.maxStreams && !this.evictFromLargest(from)) return
    const { gossip } = this.init
    const a = gossip.subscribe(streamTopic(msg.streamId), codecs.segmentAnnounce, () => {})
    const b = gossip.subscribe(haveTopic(msg.streamId), codecs.have, () => {})
    this.streams.set(msg.streamId, { lastSeen: Date.now(), announcer: from, unsubscribe: () => { a(); b() } })
    this.byAnnouncer.set(from, this.heldBy(from) + 1)
    this.log.debug({ streamId: msg.streamId }, 'relaying stream topics')
  }

  /**
   * When every slot is taken: frees the least recently announced slot of the announcer with the
   * most, if it has more than `newcomer` would then hold; false if none is worth evicting.
   */
  private evictFromLargest (newcomer: string): boolean {
    let largest: string | undefined
    for (const [a, n] of this.byAnnouncer) if (largest == null || n > this.heldBy(largest)) largest = a
    if (largest == null || this.heldBy(largest) <= this.heldBy(newcomer) + 1) return false
    let victim: string | undefined
    let oldest = Infinity
    for (const [id, s] of this.streams) if (s.announcer === largest && s.lastSeen < oldest) { oldest = s.lastSeen; victim = id }
    if (victim != null) this.drop(victim)
    return victim != null
  }

  private drop (id: string): void {
    const s = this.streams.get(id)
    if (s == null) return
    s.unsubscribe()
    this.streams.delete(id)
    const n = this.heldBy(s.announcer) - 1
    if (n > 0) this.byAnnouncer.set(s.announcer, n)
    else this.byAnnouncer.delete(s.announcer)
  }

  private expire (): void {
    const cutoff = Date.now() - this.expiryMs
    for (const [id, s] of this.streams) if (s.lastSeen < cutoff) this.drop(id)
  }
}
