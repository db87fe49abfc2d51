import { randomBytes } from 'node:crypto'
import { streamKeyString } from '@diststream/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { FIRST_WALK_MS, MAX_WALK_INTERVAL_MS, WALK_INTERVAL_MS } from './constants.js'
import type { GossipLogger } from './gossip.js'
import type { P2PNode } from './node.js'
import type { PeerId, PeerInfo } from '@libp2p/interface'

/**
 * Finding streams on the DHT: an ingest provides each live stream's key, an
 * edge asked for a stream it has never heard of looks its providers up.
 */
export interface StreamDiscovery {
  /** Advertises this node as a provider of the stream (a DHT provider record). */
  provideStream: (streamId: string) => Promise<void>
  /** Peers providing the stream (not us), found within `timeoutMs`; at most `max`. */
  findStreamProviders: (streamId: string, opts: { timeoutMs: number, max?: number }) => Promise<string[]>
}

/** The DHT key of a stream: CIDv1, raw codec, sha256 of `diststream/stream/<id>`. */
export async function streamCid (streamId: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(streamKeyString(streamId)))
  return CID.createV1(raw.code, digest)
}

/** One random walk's budget. */
const WALK_TIMEOUT_MS = 10_000

/** The pause before the next random walk (pure): back to `base` after a walk that met someone new, else doubled up to `max`. */
export function nextWalkDelay (prev: number, found: number, base: number, max: number): number {
  return found > 0 ? base : Math.min(max, Math.max(base, prev * 2))
}

export interface NetworkDiscoveryInit {
  /** Dial peers we learn of (DHT, mDNS, bootstrap) while below this many connections. */
  targetConnections?: number
  /** First random walk this long after start, then every `walkIntervalMs` while below target. */
  firstWalkMs?: number
  walkIntervalMs?: number
  /** A walk that met no new peer doubles the pause, up to this. */
  maxWalkIntervalMs?: number
  /** Bootstrap multiaddrs, dialled again whenever the node has no connection at all. */
  bootstrap?: string[]
  /** How often to check for that. */
  rejoinIntervalMs?: number
}

/**
 * Keeps a node connected to the network from a single bootstrap address:
 * libp2p 3 has no auto-dialer, so peers discovered by the DHT (its self
 * query and our random walks), by mDNS or by the bootstrap list are dialled
 * here while the node has fewer than `targetConnections` connections. A
 * random walk is a DHT lookup of a random key: every peer the lookup meets is
 * a discovery. Also the node's {@link StreamDiscovery}.
 */
export class NetworkDiscovery implements StreamDiscovery {
  private timer?: NodeJS.Timeout
  private rejoinTimer?: NodeJS.Timeout
  private readonly target: number
  private readonly firstWalkMs: number
  private readonly walkIntervalMs: number
  private readonly maxWalkIntervalMs: number
  private readonly controller = new AbortController()
  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => { void this.maybeDial(evt.detail.id) }
  walks = 0

  constructor (private readonly libp2p: P2PNode, private readonly log: GossipLogger, private readonly init: NetworkDiscoveryInit = {}) {
    this.target = init.targetConnections ?? 24
    this.firstWalkMs = init.firstWalkMs ?? FIRST_WALK_MS
    this.walkIntervalMs = init.walkIntervalMs ?? WALK_INTERVAL_MS
    this.maxWalkIntervalMs = init.maxWalkIntervalMs ?? MAX_WALK_INTERVAL_MS
  }

  start (): void {
    this.libp2p.addEventListener('peer:discovery', this.onDiscovery)
    // A settled network is not walked every 30 s by every node (each walk opens a DHT stream to
    // about 20 peers): a walk that met nobody new doubles the pause, up to maxWalkIntervalMs.
    const tick = (delay: number): void => {
      this.timer = setTimeout(() => {
        void this.walk().catch((err: any) => { this.log.debug({ err: err?.message }, 'random walk failed'); return 0 }).then((found) => {
          if (!this.controller.signal.aborted) tick(nextWalkDelay(delay, found, this.walkIntervalMs, this.maxWalkIntervalMs))
        })
      }, delay)
      this.timer.unref()
    }
    tick(this.firstWalkMs)
    // @libp2p/bootstrap dials once: a node whose first dial failed (a busy bootstrap, a network
    // blip) or that lost every connection would stay alone. Dial the list again then.
    const list = this.init.bootstrap ?? []
    if (list.length > 0) {
      this.rejoinTimer = setInterval(() => {
        if (this.libp2p.getConnections().length > 0) return
        this.log.warn({ bootstrap: list }, 'no connections: dialling the bootstrap peers again')
        for (const a of list) {
          this.libp2p.dial(multiaddr(a), { signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(10_000)]) })
            .catch((err: any) => { this.log.debug({ addr: a, err: err?.message }, 'bootstrap dial failed') })
        }
      }, this.init.rejoinIntervalMs ?? 5000)
      this.rejoinTimer.unref()
    }
  }

  stop (): void {
    this.controller.abort()
    clearTimeout(this.timer)
    clearInterval(this.rejoinTimer)
    this.libp2p.removeEventListener('peer:discovery', this.onDiscovery)
  }

  /** One random walk (skipped at or above the connection target); how many peers it met that we had no connection to. */
  async walk (): Promise<number> {
    if (this.libp2p.getConnections().length >= this.target) return 0
    this.walks++
    let found = 0
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(WALK_TIMEOUT_MS)])
    for await (const peer of this.libp2p.peerRouting.getClosestPeers(randomBytes(32), { signal })) {
      if (!peer.id.equals(this.libp2p.peerId) && this.libp2p.getConnections(peer.id).length === 0) found++
      void this.maybeDial(peer.id)
      if (this.libp2p.getConnections().length >= this.target) break
    }
    return found
  }

  private async maybeDial (id: PeerId): Promise<void> {
    if (this.controller.signal.aborted || id.equals(this.libp2p.peerId)) return
    if (this.libp2p.getConnections(id).length > 0 || this.libp2p.getConnections().length >= this.target) return
    try {
      await this.libp2p.dial(id, { signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(5000)]) })
    } catch (err: any) {
      this.log.debug({ peer: id.toString(), err: err?.message }, 'could not dial a discovered peer')
    }
  }

  async provideStream (streamId: string): Promise<void> {
    await this.libp2p.contentRouting.provide(await streamCid(streamId), { signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(20_000)]) })
  }

  async findStreamProviders (streamId: string, opts: { timeoutMs: number, max?: number }): Promise<string[]> {
    const self = this.libp2p.peerId.toString()
    const found = new Set<string>()
    const ctl = new AbortController()
    const signal = AbortSignal.any([this.controller.signal, ctl.signal, AbortSignal.timeout(opts.timeoutMs)])
    try {
      for await (const p of this.libp2p.contentRouting.findProviders(await streamCid(streamId), { signal })) {
        const id = p.id.toString()
        if (id === self) continue
        if (p.multiaddrs.length > 0) await this.libp2p.peerStore.merge(p.id, { multiaddrs: p.multiaddrs }).catch(() => { /* only an address hint is lost; the dial finds the peer through the DHT anyway */ })
        found.add(id)
        if (found.size >= (opts.max ?? 3)) break
      }
    } catch (err: any) {
      if (found.size === 0) this.log.debug({ streamId, err: err?.message }, 'provider lookup ended without a provider')
    } finally {
      ctl.abort()
    }
    return [...found]
  }
}
