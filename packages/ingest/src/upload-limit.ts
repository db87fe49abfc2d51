import { MAX_HOLDERS } from '@diststream/protocol'

export interface UploadLimitInit {
  /** Copies of one rendition segment served to peers that accept BUSY (swarming edges). */
  maxCopies?: number
  /** Rendition segments remembered (oldest forgotten first). */
  maxEntries?: number
}

export type UploadDecision =
  | { serve: true }
  | { serve: false, holders: string[] }

interface Entry { peers: string[], copies: number }

/**
 * Keeps an ingest's upload per segment bounded (pure; no I/O). The first
 * `maxCopies` swarming peers to ask for a rendition segment get it; later
 * ones get BUSY with those peers as holders, and fetch from them (edges
 * serve what they fetched, and hold a requester until their own fetch is
 * done). Requests without `accept_busy` are always served: older edges, and
 * an edge's last resort after its holders failed, so no viewer stalls for
 * the bound's sake. Requests from this node itself cost no upload and are
 * always served, uncounted.
 */
export class UploadLimiter {
  private readonly entries = new Map<string, Entry>()
  private readonly maxCopies: number
  private readonly maxEntries: number
  /** Copies served, all requests counted. */
  served = 0
  /** BUSY answers. */
  busy = 0

  constructor (init: UploadLimitInit = {}) {
    this.maxCopies = init.maxCopies ?? 2
    this.maxEntries = init.maxEntries ?? 4096
  }

  decide (key: string, peer: string, opts: { acceptBusy: boolean, self?: boolean }): UploadDecision {
    if (opts.self === true) return { serve: true }
    let e = this.entries.get(key)
    if (e == null) {
      e = { peers: [], copies: 0 }
      this.entries.set(key, e)
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string)
    }
    const known = e.peers.includes(peer)
    if (opts.acceptBusy && !known && e.peers.length >= this.maxCopies) {
      this.busy++
      return { serve: false, holders: e.peers.slice(-MAX_HOLDERS) }
    }
    if (!known) e.peers.push(peer)
    e.copies++
    this.served++
    return { serve: true }
  }

  /** The peers served (or being served) one rendition segment: the holders a BUSY answer names. */
  holders (key: string): string[] {
    return this.entries.get(key)?.peers.slice(-MAX_HOLDERS) ?? []
  }

  /** Copies served of one rendition segment. */
  copies (key: string): number {
    return this.entries.get(key)?.copies ?? 0
  }

  /** The most copies served of any one remembered rendition segment. */
  maxCopiesServed (): number {
    let max = 0
    for (const e of this.entries.values()) max = Math.max(max, e.copies)
    return max
  }
}

/**
 * Segments this ingest writes at once to all peers (security review H6). A
 * serve holds one chunk read from disk plus what the stream buffers while the
 * reader is slow (~0.5 MiB at most), so this bounds the fetch server's memory
 * near 128 MiB; 256 is 32 edges each fetching 8 renditions at once.
 */
export const MAX_CONCURRENT_SERVES = 256
/**
 * Segments written at once to one peer: an edge fetches every rendition of a
 * segment in parallel (at most 8) and, catching up, a few segments at once.
 */
export const MAX_SERVES_PER_PEER = 32
/** Peers with serves in flight remembered at most (a bound on a map keyed by strangers). */
const MAX_SERVING_PEERS = MAX_CONCURRENT_SERVES

export type ServeRefusal = 'global_limit' | 'peer_limit'

/** Counts the fetch server's serves in flight, globally and per peer (pure). */
export class ServeLimits {
  readonly #perPeer = new Map<string, number>()
  #active = 0

  constructor (readonly max = MAX_CONCURRENT_SERVES, readonly maxPerPeer = MAX_SERVES_PER_PEER) {}

  get active (): number { return this.#active }

  /** Takes a serve slot for `peer`, or says which limit is full. */
  acquire (peer: string): ServeRefusal | undefined {
    const mine = this.#perPeer.get(peer) ?? 0
    if (mine >= this.maxPerPeer) return 'peer_limit'
    if (this.#active >= this.max || (mine === 0 && this.#perPeer.size >= MAX_SERVING_PEERS)) return 'global_limit'
    this.#perPeer.set(peer, mine + 1)
    this.#active++
    return undefined
  }

  release (peer: string): void {
    const mine = this.#perPeer.get(peer)
    if (mine == null) return
    if (mine > 1) this.#perPeer.set(peer, mine - 1)
    else this.#perPeer.delete(peer)
    this.#active--
  }
}
