import { EventEmitter } from 'node:events'
import { codecs, MAX_MULTIADDRS, TOPIC_PRESENCE } from '@diststream/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { BoundedMap, systemClock } from '@diststream/util'
import { MAX_PRESENCE_PEERS, MAX_RELAYED_PRESENCE, PRESENCE_CHECK_MS, PRESENCE_DISCONNECTED_EXPIRY_MS, PRESENCE_MAX_SOURCES, PRESENCE_NEW_SIGNERS_PER_SOURCE, PRESENCE_RELAYED_DIALS } from './constants.js'
import { isNonPublicAddr } from './gater.js'
import { KeyedBuckets } from './rate-limit.js'
import { DEFAULT_PRESENCE_TIMING, nextPresenceAt, presenceExpired, presenceExpiryMs } from './presence-schedule.js'
import type { Gossip, GossipLogger } from './gossip.js'
import type { P2PNode } from './node.js'
import type { PresenceTiming } from './presence-schedule.js'
import type { Presence } from '@diststream/protocol'
import type { Clock } from '@diststream/util'
import type { PeerId } from '@libp2p/interface'

/** Dialling a peer learned from presence: a reachable peer answers well within this. */
const PRESENCE_DIAL_TIMEOUT_MS = 5000

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
  /** The last presence came from its signer itself (not relayed): the peer was directly connected to us then. */
  direct: boolean
}

/** Tag values of directly connected peers by role (libp2p prunes the lowest first; strangers without a presence have none). */
const ROLE_TAG_VALUES: Record<string, number> = { ingest: 50, bootstrap: 50, worker: 20, edge: 20 }

export interface PresenceInit {
  /** Announce timing (rate bound, keep-alive); defaults in constants.ts. */
  timing?: PresenceTiming
  /** Peers not heard from for this long are forgotten; default three keep-alives ({@link presenceExpiryMs}). */
  expiryMs?: number
  /** Peers we lost our connection to are forgotten after this long without a word. */
  disconnectedExpiryMs?: number
  /** How often our own state is compared with what we last announced. */
  checkMs?: number
  /** Dial peers learned from presence while below this many connections. */
  targetConnections?: number
  maxPeers?: number
  /** Most entries for peers we have no connection to (default {@link MAX_RELAYED_PRESENCE}). */
  maxRelayed?: number
  /** Dial loopback, private and link-local addresses learned from presence (a local network); default false. */
  allowPrivateAddrs?: boolean
  /** Counts a refusal (`presence_private_addr`, `presence_dial_rate`); the gossip refusals are counted by {@link Gossip}. */
  onRefused?: (reason: string) => void
  clock?: Clock
}

interface Entry extends PeerPresence {
  disconnectedAt?: number
}

/**
 * Announces this node (roles, addresses, capacity) on the presence topic and
 * keeps the table of every peer heard from. Quiet: a node announces when its
 * state changes (at most once per {@link PRESENCE_MIN_GAP_MS}), when a new
 * peer subscribes to the topic, and otherwise only as a keep-alive (every
 * {@link PRESENCE_KEEPALIVE_MS}, stretched with the network so the whole
 * network's keep-alives stay within {@link PRESENCE_NETWORK_BUDGET_PER_S}),
 * so an idle network carries almost nothing.
 * New peers' addresses go into the peer store and, while the node has few
 * connections, get dialled, so a node that only knows a bootstrap address
 * soon talks to everyone it needs.
 */
export class PresenceService extends EventEmitter<{ peer: [PeerPresence] }> {
  private readonly table: BoundedMap<string, Entry>
  private timer?: NodeJS.Timeout
  private readonly timing: PresenceTiming
  private readonly expiryMs?: number
  private readonly disconnectedExpiryMs: number
  private readonly checkMs: number
  private readonly targetConnections: number
  private readonly maxRelayed: number
  private readonly allowPrivateAddrs: boolean
  private readonly onRefused: (reason: string) => void
  private readonly clock: Clock
  /** Peers we hold a connection to (kept from libp2p's connect/disconnect events: cheaper than asking per message). */
  private readonly connectedPeers = new Set<string>()
  /** Entries of peers we have no connection to; recounted on every check. */
  private relayed = 0
  private readonly newSigners: KeyedBuckets
  private readonly relayedDials: KeyedBuckets
  private readonly controller = new AbortController()
  /** When we last announced, and what (encoded). */
  private lastAt?: number
  private lastBytes?: Uint8Array
  /** A newcomer subscribed: announce as soon as the rate bound allows. */
  private requested = false
  private unsubscribe?: () => void
  private readonly onSubscriptionChange = (evt: CustomEvent<{ subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (evt.detail.subscriptions.some(s => s.topic === TOPIC_PRESENCE && s.subscribe)) this.requested = true
  }

  /** Our own addresses, encoded; refreshed when libp2p says they changed. */
  private addrs?: Presence['multiaddrs']
  private readonly onSelfUpdate = (): void => { this.addrs = undefined }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    this.connectedPeers.delete(id)
    const e = this.table.get(id)
    if (e != null) e.disconnectedAt = this.clock.now()
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => { this.connectedPeers.add(evt.detail.toString()) }

  /**
   * `self`: this node's presence but its addresses, asked for every {@link PRESENCE_CHECK_MS} (keep it
   * cheap); the addresses (at most {@link MAX_MULTIADDRS}) are added here, encoded once per change
   * of libp2p's own addresses (encoding them is most of the cost of a check).
   */
  constructor (private readonly libp2p: P2PNode, private readonly gossip: Gossip, private readonly self: () => Omit<Presence, 'multiaddrs'>, private readonly log: GossipLogger, init: PresenceInit = {}) {
    super()
    this.timing = init.timing ?? DEFAULT_PRESENCE_TIMING
    this.expiryMs = init.expiryMs
    this.disconnectedExpiryMs = init.disconnectedExpiryMs ?? PRESENCE_DISCONNECTED_EXPIRY_MS
    this.checkMs = init.checkMs ?? PRESENCE_CHECK_MS
    this.targetConnections = init.targetConnections ?? 24
    this.maxRelayed = init.maxRelayed ?? MAX_RELAYED_PRESENCE
    this.allowPrivateAddrs = init.allowPrivateAddrs ?? false
    this.onRefused = init.onRefused ?? (() => {})
    this.clock = init.clock ?? systemClock
    this.table = new BoundedMap(init.maxPeers ?? MAX_PRESENCE_PEERS)
    this.newSigners = new KeyedBuckets(PRESENCE_NEW_SIGNERS_PER_SOURCE, PRESENCE_MAX_SOURCES, this.clock)
    this.relayedDials = new KeyedBuckets(PRESENCE_RELAYED_DIALS, 1, this.clock)
  }

  start (): void {
    for (const p of this.libp2p.getPeers()) this.connectedPeers.add(p.toString())
    this.unsubscribe = this.gossip.subscribe(TOPIC_PRESENCE, codecs.presence, (msg, from, source) => { this.onPresence(msg, from, source) }, (_msg, from, source) => this.admit(from, source))
    this.libp2p.services.pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    this.libp2p.addEventListener('peer:connect', this.onConnect)
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.libp2p.addEventListener('self:peer:update', this.onSelfUpdate)
    const tick = (): void => {
      if (this.controller.signal.aborted) return
      this.expire()
      this.maybeAnnounce()
      this.timer = setTimeout(tick, this.checkMs)
      this.timer.unref()
    }
    tick()
  }

  stop (): void {
    this.controller.abort()
    clearTimeout(this.timer)
    this.unsubscribe?.()
    this.libp2p.services.pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    this.libp2p.removeEventListener('peer:connect', this.onConnect)
    this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    this.libp2p.removeEventListener('self:peer:update', this.onSelfUpdate)
  }

  /**
   * Whether a presence may enter (gossip's validator, before it is forwarded): a signer we hold a
   * connection to always; a new signer relayed by another peer only within that peer's new-signer
   * rate ({@link PRESENCE_NEW_SIGNERS_PER_SOURCE}) and while relayed entries are below their cap.
   * A refusal reason, counted by {@link Gossip}.
   */
  private admit (from: string, source: string): string | undefined {
    if (this.connectedPeers.has(from) || this.table.has(from) || from === this.libp2p.peerId.toString()) return undefined
    if (this.relayed >= this.maxRelayed) return 'presence_table_full'
    if (!this.newSigners.take(source)) return 'presence_source_rate'
    return undefined
  }

  /** What we announce: `self` with our addresses. */
  private current (): Presence {
    this.addrs ??= this.libp2p.getMultiaddrs().slice(0, MAX_MULTIADDRS).map(m => m.bytes as Uint8Array<ArrayBuffer>)
    return { ...this.self(), multiaddrs: this.addrs }
  }

  /** Announces if due: our state changed or a newcomer asked (rate-bounded), or the keep-alive. */
  private maybeAnnounce (): void {
    const msg = this.current()
    const bytes = codecs.presence.encode(msg)
    const changed = this.lastBytes == null || !equalBytes(bytes, this.lastBytes)
    const now = this.clock.now()
    if (now < nextPresenceAt({ lastAt: this.lastAt, urgent: changed || this.requested, knownPeers: this.table.size }, this.timing)) return
    this.publish(msg, bytes)
  }

  private publish (msg: Presence, bytes: Uint8Array): void {
    this.lastAt = this.clock.now()
    this.lastBytes = bytes
    this.requested = false
    this.gossip.publish(TOPIC_PRESENCE, codecs.presence, msg).catch(err => { this.log.debug({ err }, 'presence publish failed') })
  }

  /** Announces now (start-up: the node's HTTP address is known), whatever the schedule. */
  async announce (): Promise<void> {
    const msg = this.current()
    this.lastAt = this.clock.now()
    this.lastBytes = codecs.presence.encode(msg)
    this.requested = false
    await this.gossip.publish(TOPIC_PRESENCE, codecs.presence, msg)
  }

  /** Every peer heard from recently, with whether we hold a connection to it. */
  peers (): PeerPresence[] {
    return [...this.table.values()].map(({ disconnectedAt: _, ...p }) => ({ ...p, connected: this.connectedPeers.has(p.peerId) }))
  }

  /** Entries now: of peers we hold a connection to, and relayed (for a metric or a test). */
  stats (): { peers: number, relayed: number, refusedNewSigners: number } {
    return { peers: this.table.size, relayed: this.relayed, refusedNewSigners: this.newSigners.refused }
  }

  withRole (role: string): PeerPresence[] {
    return this.peers().filter(p => p.roles.includes(role))
  }

  private onPresence (msg: Presence, from: string, source?: string): void {
    if (from === this.libp2p.peerId.toString()) return
    const connected = this.connectedPeers.has(from)
    const addrs: string[] = []
    for (const bytes of msg.multiaddrs) {
      try { addrs.push(multiaddr(bytes).toString()) } catch { /* a malformed address from a peer is skipped; the others are kept */ }
    }
    const known = this.table.has(from)
    const entry: Entry = {
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
      lastSeen: this.clock.now(),
      connected,
      direct: source === from
    }
    const prev = this.table.get(from)
    if (!known && !connected) this.relayed++
    this.table.set(from, entry)
    if (connected && (prev == null || !prev.direct || prev.roles.join() !== entry.roles.join())) this.tag(from, entry.roles)
    if (!known) {
      this.emit('peer', entry)
      this.learn(from, addrs, connected).catch(err => { this.log.debug({ err, peer: from }, 'could not dial peer from presence') })
    }
  }

  /**
   * The addresses of a new peer. From a peer we are connected to: into the peer store (to redial it
   * later). From a relayed presence (anyone may sign one with any addresses): only public addresses
   * (unless a local network), and only when we are below our connection target and within
   * {@link PRESENCE_RELAYED_DIALS}: stored and dialled; otherwise not even stored.
   */
  private async learn (peer: string, all: string[], connected: boolean): Promise<void> {
    const addrs = this.allowPrivateAddrs ? all : all.filter(a => !isNonPublicAddr(multiaddr(a)))
    if (addrs.length < all.length) this.onRefused('presence_private_addr')
    if (addrs.length === 0) return
    const id = peerIdFromString(peer)
    if (connected) {
      await this.libp2p.peerStore.merge(id, { multiaddrs: addrs.map(a => multiaddr(a)) })
      return
    }
    if (this.libp2p.getConnections().length >= this.targetConnections) return
    if (!this.relayedDials.take('')) {
      this.onRefused('presence_dial_rate')
      return
    }
    await this.libp2p.peerStore.merge(id, { multiaddrs: addrs.map(a => multiaddr(a)) })
    await this.libp2p.dial(id, { signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(PRESENCE_DIAL_TIMEOUT_MS)]) })
  }

  /** Tags a directly connected peer by its roles, so a connection flood prunes strangers first. */
  private tag (peer: string, roles: string[]): void {
    const value = Math.max(0, ...roles.map(r => ROLE_TAG_VALUES[r] ?? 0))
    if (value === 0) return
    this.libp2p.peerStore.merge(peerIdFromString(peer), { tags: { 'diststream-role': { value } } })
      .catch((err: any) => { this.log.debug({ err: err?.message, peer }, 'could not tag peer') })
  }

  private expire (): void {
    const now = this.clock.now()
    const expiryMs = this.expiryMs ?? presenceExpiryMs(this.table.size, this.timing)
    let relayed = 0
    for (const [id, p] of this.table) {
      if (p.disconnectedAt != null && this.connectedPeers.has(id)) p.disconnectedAt = undefined
      if (presenceExpired(p, now, { expiryMs, disconnectedExpiryMs: this.disconnectedExpiryMs })) this.table.delete(id)
      else if (!this.connectedPeers.has(id)) relayed++
    }
    this.relayed = relayed
  }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
