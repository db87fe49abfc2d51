/**
 * The network-wide viewer count of each stream: the sum of the latest claim
 * of every edge (ViewerCounts on `/diststream/viewers/1.0.0`). Pure but for
 * the injected clock, and bounded whatever peers send: at most `maxPeers`
 * edges are remembered (each with at most MAX_VIEWER_COUNT_STREAMS streams,
 * bounded by the codec), a claim expires `ttlMs` after its last message, and
 * one edge's claim for one stream counts for at most `maxPerClaim`.
 */
import { MAX_VIEWERS_PER_CLAIM, VIEWER_CLAIM_TTL_MS } from '@diststream/protocol'
import type { Clock } from '@diststream/util'

/** Most edges whose claims are remembered: past it, expired claims go, then the least recently heard edge's. */
export const MAX_VIEWER_PEERS = 1024

export interface NetworkViewersInit {
  /** A claim is forgotten this long after its edge's last message. Default VIEWER_CLAIM_TTL_MS. */
  ttlMs?: number
  /** One edge's claim for one stream counts for at most this. Default MAX_VIEWERS_PER_CLAIM. */
  maxPerClaim?: number
  /** Edges remembered at most. Default MAX_VIEWER_PEERS. */
  maxPeers?: number
  clock: Pick<Clock, 'now'>
}

export interface ClaimOutcome {
  /** 'stale': an older message than one already applied (out-of-order gossip), ignored. */
  applied: boolean
  /** Streams whose claimed count was over the cap (counted as the cap). */
  capped: number
  /** Another edge's claims were forgotten to make room for this one. */
  evicted: boolean
}

interface PeerClaim {
  /** When we heard it (our clock: the sender's is not trusted for expiry). */
  heardAt: number
  /** The sender's own timestamp, only to drop a reordered older message. */
  sentAtMs: number
  streams: Map<string, number>
}

export class NetworkViewers {
  readonly #peers = new Map<string, PeerClaim>()
  readonly #ttlMs: number
  readonly #maxPerClaim: number
  readonly #maxPeers: number
  readonly #clock: Pick<Clock, 'now'>

  constructor (init: NetworkViewersInit) {
    this.#ttlMs = init.ttlMs ?? VIEWER_CLAIM_TTL_MS
    this.#maxPerClaim = init.maxPerClaim ?? MAX_VIEWERS_PER_CLAIM
    this.#maxPeers = init.maxPeers ?? MAX_VIEWER_PEERS
    this.#clock = init.clock
  }

  /** Edges with a live claim (for tests and the dashboard). */
  get size (): number {
    this.#expire()
    return this.#peers.size
  }

  /** `peer`'s claim now: replaces everything it claimed before (a stream left out has 0 viewers there). */
  apply (peer: string, sentAtMs: number, streams: ReadonlyArray<{ streamId: string, viewers: number }>): ClaimOutcome {
    const now = this.#clock.now()
    const old = this.#peers.get(peer)
    if (old != null && now - old.heardAt < this.#ttlMs && sentAtMs < old.sentAtMs) return { applied: false, capped: 0, evicted: false }
    let capped = 0
    const claim = new Map<string, number>()
    for (const s of streams) {
      if (s.viewers <= 0) continue
      if (s.viewers > this.#maxPerClaim) capped++
      claim.set(s.streamId, Math.min(s.viewers, this.#maxPerClaim))
    }
    // Re-inserted so the map stays in order of last message (the first entry is the least recently heard).
    this.#peers.delete(peer)
    let evicted = false
    if (claim.size > 0) {
      if (this.#peers.size >= this.#maxPeers) this.#expire()
      if (this.#peers.size >= this.#maxPeers) {
        this.#peers.delete(this.#peers.keys().next().value!)
        evicted = true
      }
      this.#peers.set(peer, { heardAt: now, sentAtMs, streams: claim })
    }
    return { applied: true, capped, evicted }
  }

  /** A stream's viewers over every edge with a live claim. */
  count (streamId: string): number {
    this.#expire()
    let n = 0
    for (const p of this.#peers.values()) n += p.streams.get(streamId) ?? 0
    return n
  }

  /** Every stream's viewers (streams with none left out). */
  totals (): Map<string, number> {
    this.#expire()
    const out = new Map<string, number>()
    for (const p of this.#peers.values()) for (const [id, n] of p.streams) out.set(id, (out.get(id) ?? 0) + n)
    return out
  }

  /** Drops claims past their TTL (the map is in order of last message: the expired are a prefix). */
  #expire (): void {
    const since = this.#clock.now() - this.#ttlMs
    for (const [peer, p] of this.#peers) {
      if (p.heardAt > since) break
      this.#peers.delete(peer)
    }
  }
}
