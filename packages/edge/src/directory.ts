import { StreamAnnounce, verifyStreamOwner } from '@diststream/protocol'
import { BoundedMap, systemClock } from '@diststream/util'
import { DHT_PROVIDERS_TRIED, DIAL_TIMEOUT_MS, EDGE_DEFAULTS, INDEX_TIMEOUT_MS, LIVE_BINDING_MS, LOOKUP_PAUSE_MS, MAX_CONCURRENT_LOOKUPS, MAX_DIRECTORY, MAX_DROPPED, MAX_LOOKUP_PACING } from './constants.js'
import type { FetchClient } from './fetch-client.js'
import type { StreamDiscovery, ProtocolErrorHook } from '@diststream/p2p'
import type { Clock, Notifier } from '@diststream/util'
import type { Logger } from 'pino'

/** How much longer than its timeout a viewer's request waits for a lookup still running (its INDEX exchange's bounds). */
const LOOKUP_EXTRA_WAIT_MS = DIAL_TIMEOUT_MS + INDEX_TIMEOUT_MS

/** A stream as the edge knows it: the ingest that owns it and its latest announcement. */
export interface DirectoryEntry { ingest: string, announce: StreamAnnounce }

export interface StreamDirectoryInit {
  /** Wakes waiters keyed by stream id when a stream appears or changes (shared with the followed streams). */
  notifier: Notifier<string>
  /** Followed streams are never evicted. */
  isFollowed: (streamId: string) => boolean
  /** Asks a DHT provider for a stream's INDEX (its announcement). */
  client: Pick<FetchClient, 'index'>
  logger: Logger
  /** The owner's shutdown: lookups stop when it fires. */
  signal: AbortSignal
  discovery?: StreamDiscovery
  onProtocolError?: ProtocolErrorHook
  /** Counts DHT lookups by outcome (found, not_found). */
  onLookup?: (outcome: 'found' | 'not_found' | 'busy') => void
  /** The DHT lookup's budget (ms). Default {@link EDGE_DEFAULTS}.discoveryTimeoutMs. */
  discoveryTimeoutMs?: number
  clock?: Clock
  maxEntries?: number
  maxDropped?: number
}

/**
 * Which ingest owns which stream, and finding streams. Entries come from
 * stream announcements (gossip) and from DHT lookups, and only from the
 * stream's owner: the peer whose id, with the announced salt, derives the
 * stream id (`verifyStreamOwner`, PROTOCOL.md §9), so no one else can bind
 * it, whoever speaks first. Bounded: past `maxEntries` the entry announced
 * longest ago that is not followed is evicted (a live stream is announced
 * again every 2 s, so it sits at the fresh end; a flood evicts stale entries
 * first, and an evicted live stream comes back with its next announcement);
 * dropped streams and lookup pacing are bounded maps too, so made-up stream
 * ids cost nothing lasting.
 */
export class StreamDirectory {
  readonly #entries = new Map<string, DirectoryEntry>()
  /** When each entry was last announced (or found), oldest first. */
  readonly #heardAt = new Map<string, number>()
  /** Streams dropped after their retention, and when: a late "ended" announcement does not bring them back. */
  readonly #droppedAt: BoundedMap<string, number>
  /** Streams being looked up on the DHT (Infinity), or until when not to look them up again: one lookup at a time per stream, then a pause. */
  readonly #lookupNotBefore = new BoundedMap<string, number>(MAX_LOOKUP_PACING)
  /** Streams whose lookup (DHT, then the provider's INDEX) is running, for resolve to wait on. */
  readonly #lookingUp = new BoundedMap<string, true>(MAX_LOOKUP_PACING)
  readonly #init: StreamDirectoryInit
  readonly #clock: Clock
  readonly #max: number
  readonly #log: Logger
  /** DHT lookups running now, over every stream. */
  #lookups = 0

  constructor (init: StreamDirectoryInit) {
    this.#init = init
    this.#clock = init.clock ?? systemClock
    this.#max = init.maxEntries ?? MAX_DIRECTORY
    this.#droppedAt = new BoundedMap(init.maxDropped ?? MAX_DROPPED)
    this.#log = init.logger
  }

  get size (): number { return this.#entries.size }

  get (streamId: string): DirectoryEntry | undefined {
    return this.#entries.get(streamId)
  }

  /** Every entry, most recently announced first. */
  list (): DirectoryEntry[] {
    return [...this.#entries.values()].reverse()
  }

  /** When the stream was dropped after its retention, if it was (and is still remembered). */
  droppedAt (streamId: string): number | undefined {
    return this.#droppedAt.get(streamId)
  }

  /**
   * Takes in a stream announcement from `from`. Returns false when it is
   * refused: another ingest owns the stream (counted as a protocol error),
   * it is older than the one held, or it is a late "ended" for a stream
   * dropped after its retention. Accepted, it wakes the stream's waiters.
   */
  onAnnounce (msg: StreamAnnounce, from: string): boolean {
    const known = this.#entries.get(msg.streamId)
    // A stream belongs to the ingest its id commits to; no one else can bind or take it over.
    if (!verifyStreamOwner(msg.streamId, from, msg.salt) || (known != null && known.ingest !== from)) {
      this.#init.onProtocolError?.('invalid', 'streams:foreign-announce')
      return false
    }
    // Older than the one held: out-of-order gossip, or the owner's own old ENDED replayed to end a live stream.
    if (known != null && known.announce.updatedAtMs > msg.updatedAtMs) {
      this.#init.onProtocolError?.('invalid', 'streams:stale-announce')
      return false
    }
    if (this.#droppedAt.has(msg.streamId) && msg.state === StreamAnnounce.State.ENDED) return false
    this.#droppedAt.delete(msg.streamId)
    if (!this.#set(msg.streamId, { ingest: from, announce: msg })) return false
    this.#init.notifier.wake(msg.streamId)
    return true
  }

  /** Takes in an entry; false when the directory is full of live entries (a flood) and this new one is refused. */
  #set (streamId: string, entry: DirectoryEntry): boolean {
    const isNew = !this.#entries.has(streamId)
    // Re-inserted: the map's order is by last announcement, so the stalest entry comes first.
    this.#entries.delete(streamId)
    this.#entries.set(streamId, entry)
    this.#heardAt.delete(streamId)
    this.#heardAt.set(streamId, this.#clock.now())
    if (!isNew || this.#entries.size <= this.#max) return true
    // Bounded: the stalest unfollowed entry goes, unless it is still live (announced within LIVE_BINDING_MS):
    // then a flood is on, and the newcomer is refused instead. Live bindings are never evicted by a flood;
    // an honest newcomer comes back with its next announcement, or through the DHT.
    for (const [id, at] of this.#heardAt) {
      if (this.#init.isFollowed(id) || id === streamId) continue
      if (this.#clock.now() - at < LIVE_BINDING_MS) break
      this.#entries.delete(id)
      this.#heardAt.delete(id)
      return true
    }
    this.#entries.delete(streamId)
    this.#heardAt.delete(streamId)
    this.#init.onProtocolError?.('invalid', 'streams:directory-full')
    return false
  }

  /** Forgets a stream past its retention, and remembers that it was dropped. */
  drop (streamId: string): void {
    this.#entries.delete(streamId)
    this.#heardAt.delete(streamId)
    this.#droppedAt.set(streamId, this.#clock.now())
  }

  /**
   * The stream's entry; when unknown, looks it up on the DHT and waits for
   * it to appear (gossip or the DHT, whichever answers first) for at most
   * `timeoutMs`. Undefined when it did not.
   */
  async resolve (streamId: string, opts: { timeoutMs: number, signal?: AbortSignal }): Promise<DirectoryEntry | undefined> {
    if (!this.#entries.has(streamId)) {
      this.lookup(streamId).catch((err: any) => { this.#log.debug({ streamId, err: err?.message }, 'stream lookup failed') })
      const signal = opts.signal != null ? { signal: opts.signal } : {}
      await this.#init.notifier.wait(streamId, () => this.#entries.has(streamId), { timeoutMs: opts.timeoutMs, ...signal })
      // A lookup that found a provider and waits for its INDEX answer is waited for (bounded), so a
      // viewer's first request gets the stream, not an error a moment before it is known.
      if (!this.#entries.has(streamId) && this.#lookingUp.has(streamId)) {
        await this.#init.notifier.wait(streamId, () => this.#entries.has(streamId) || !this.#lookingUp.has(streamId), { timeoutMs: LOOKUP_EXTRA_WAIT_MS, ...signal })
      }
    }
    return this.#entries.get(streamId)
  }

  /**
   * Looks a stream up on the DHT (its ingest provides the stream's key) and,
   * from the first provider that owns it (the FETCH client checks the INDEX
   * answer's salt against the provider: anyone can provide any key), takes
   * the stream's announcement out of an INDEX answer: the entry a
   * StreamAnnounce would have made, with the provider as the stream's
   * ingest. At most {@link DHT_PROVIDERS_TRIED} providers are asked. One
   * lookup at a time per stream, then a pause.
   */
  async lookup (streamId: string): Promise<void> {
    const d = this.#init.discovery
    if (d == null) return
    const notBefore = this.#lookupNotBefore.get(streamId)
    if (notBefore != null && this.#clock.now() < notBefore) return
    // Viewers choose the ids: random ones must not turn into unbounded DHT work (M6). Gossip may still bring the stream.
    if (this.#lookups >= MAX_CONCURRENT_LOOKUPS) {
      this.#init.onLookup?.('busy')
      return
    }
    this.#lookups++
    try {
      await this.#lookup(d, streamId)
    } finally {
      this.#lookups--
    }
  }

  async #lookup (d: StreamDiscovery, streamId: string): Promise<void> {
    this.#lookupNotBefore.set(streamId, Infinity)
    this.#lookingUp.set(streamId, true)
    try {
      await this.#lookupNow(d, streamId)
    } finally {
      this.#lookingUp.delete(streamId)
      this.#init.notifier.wake(streamId)
    }
  }

  async #lookupNow (d: StreamDiscovery, streamId: string): Promise<void> {
    const timeoutMs = this.#init.discoveryTimeoutMs ?? EDGE_DEFAULTS.discoveryTimeoutMs
    const find = async (max: number): Promise<string[]> => await d.findStreamProviders(streamId, { timeoutMs, max }).catch((err: any) => {
      this.#log.debug({ streamId, err: err?.message }, 'DHT provider lookup failed')
      return []
    })
    // The first provider at once (the common case: it is the ingest); only if it does not own the stream, a
    // second lookup for a few more (waiting for several would cost every lookup its whole budget).
    const tried = new Set<string>()
    let found = await this.#tryProviders(streamId, await find(1), tried)
    if (!found && tried.size > 0 && !this.#init.signal.aborted) found = await this.#tryProviders(streamId, await find(DHT_PROVIDERS_TRIED), tried)
    this.#lookupNotBefore.set(streamId, this.#clock.now() + LOOKUP_PAUSE_MS)
    if (!found) this.#init.onLookup?.('not_found')
  }

  /** Asks each provider not tried yet for the stream's INDEX; binds the first that owns it (the FETCH client checks). */
  async #tryProviders (streamId: string, providers: string[], tried: Set<string>): Promise<boolean> {
    for (const peer of providers) {
      if (this.#init.signal.aborted || tried.has(peer)) continue
      tried.add(peer)
      try {
        const res = await this.#init.client.index(peer, streamId, { signal: this.#init.signal })
        if (res.stream?.streamId !== streamId) continue
        this.#init.onLookup?.('found')
        this.#log.info({ streamId, ingest: peer }, 'stream found on the DHT')
        if (!this.#entries.has(streamId) && this.#set(streamId, { ingest: peer, announce: res.stream })) this.#init.notifier.wake(streamId)
        return true
      } catch (err: any) {
        this.#log.debug({ streamId, peer, err: err?.message }, 'DHT provider did not give the stream')
      }
    }
    return false
  }
}
