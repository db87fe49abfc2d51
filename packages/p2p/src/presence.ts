import { EventEmitter } from 'node:events'
import { codecs, TOPIC_PRESENCE } from '@diststream/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Gossip, GossipLogger } from './gossip.js'
import type { P2PNode } from './node.js'
import type { Presence } from '@diststream/protocol'

export interface PeerPresence {
  peerId: string
  roles: string[]
  multiaddrs: string[]
  httpUrl: string
  activeJobs: number
  maxJobs: number
  gpu: boolean
  hwKind: string
  agent: string
  startedAt: number
  lastSeen: number
  connected: boolean
}

export interface PresenceInit {
  intervalMs?: number
  /** Peers not heard from for this long are forgotten. */
  expiryMs?: number
  /** Dial peers learned from presence while below this many connections. */
  targetConnections?: number
}

/**
 * Announces this node (roles, addresses, capacity) on the presence topic and
 * keeps the table of every peer heard from. New peers' addresses go into the
 * peer store and, while the node has few connections, get dialled, so a node
 * that only knows a bootstrap address soon talks to everyone it needs.
 */
export class PresenceService extends EventEmitter<{ peer: [PeerPresence] }> {
  private readonly table = new Map<string, PeerPresence>()
  private timer?: NodeJS.Timeout
  private readonly intervalMs: number
  private readonly expiryMs: number
  private readonly targetConnections: number

  constructor (private readonly libp2p: P2PNode, private readonly gossip: Gossip, private readonly self: () => Presence, private readonly log: GossipLogger, init: PresenceInit = {}) {
    super()
    this.intervalMs = init.intervalMs ?? 2000
    this.expiryMs = init.expiryMs ?? this.intervalMs * 5
    this.targetConnections = init.targetConnections ?? 24
  }

  start (): void {
    this.gossip.subscribe(TOPIC_PRESENCE, codecs.presence, (msg, from) => { this.onPresence(msg, from) })
    const tick = (): void => {
      this.expire()
      this.announce().catch(err => { this.log.debug({ err }, 'presence publish failed') })
      this.timer = setTimeout(tick, this.currentIntervalMs())
      this.timer.unref()
    }
    // Announce at once when a peer subscribes, so newcomers are known quickly.
    this.libp2p.services.pubsub.addEventListener('subscription-change', (evt) => {
      if (evt.detail.subscriptions.some(s => s.topic === TOPIC_PRESENCE && s.subscribe)) {
        this.announce().catch(err => { this.log.debug({ err }, 'presence publish failed') })
      }
    })
    tick()
  }

  stop (): void {
    clearTimeout(this.timer)
  }

  /**
   * Every node's presence reaches every node, so the network carries N²
   * messages per interval (each signature-checked): past 10 known peers the
   * interval grows with the network (2 s up to 10 peers, 6 s at 30, capped
   * at 30 s), and peers are forgotten after 5 of those intervals.
   */
  currentIntervalMs (): number {
    return Math.min(30_000, Math.max(this.intervalMs, Math.round(this.intervalMs * (this.table.size + 1) / 10)))
  }

  async announce (): Promise<void> {
    await this.gossip.publish(TOPIC_PRESENCE, codecs.presence, this.self())
  }

  /** Every peer heard from recently, with whether we hold a connection to it. */
  peers (): PeerPresence[] {
    const connected = new Set(this.libp2p.getPeers().map(p => p.toString()))
    return [...this.table.values()].map(p => ({ ...p, connected: connected.has(p.peerId) }))
  }

  withRole (role: string): PeerPresence[] {
    return this.peers().filter(p => p.roles.includes(role))
  }

  private onPresence (msg: Presence, from: string): void {
    if (from === this.libp2p.peerId.toString()) return
    const addrs: string[] = []
    for (const bytes of msg.multiaddrs) {
      try { addrs.push(multiaddr(bytes).toString()) } catch { /* a malformed address from a peer is skipped; the others are kept */ }
    }
    const known = this.table.has(from)
    const entry: PeerPresence = {
      peerId: from,
      roles: msg.roles,
      multiaddrs: addrs,
      httpUrl: msg.httpUrl,
      activeJobs: msg.activeJobs,
      maxJobs: msg.maxJobs,
      gpu: msg.gpu,
      hwKind: msg.hwKind,
      agent: msg.agent,
      startedAt: msg.startedAtMs,
      lastSeen: Date.now(),
      connected: true
    }
    this.table.set(from, entry)
    if (!known) {
      this.emit('peer', entry)
      this.learn(from, addrs).catch(err => { this.log.debug({ err, peer: from }, 'could not dial peer from presence') })
    }
  }

  private async learn (peer: string, addrs: string[]): Promise<void> {
    if (addrs.length === 0) return
    const id = peerIdFromString(peer)
    await this.libp2p.peerStore.merge(id, { multiaddrs: addrs.map(a => multiaddr(a)) })
    if (this.libp2p.getConnections(id).length === 0 && this.libp2p.getConnections().length < this.targetConnections) {
      await this.libp2p.dial(id, { signal: AbortSignal.timeout(5000) })
    }
  }

  private expire (): void {
    const cutoff = Date.now() - Math.max(this.expiryMs, 5 * this.currentIntervalMs())
    for (const [id, p] of this.table) {
      if (p.lastSeen < cutoff) this.table.delete(id)
    }
  }
}
