import { StreamAnnounce } from '@diststream/protocol'
import { BoundedMap, systemClock } from '@diststream/util'
import { DIAL_TIMEOUT_MS, EDGE_DEFAULTS, INDEX_TIMEOUT_MS, LOOKUP_PAUSE_MS, MAX_DIRECTORY, MAX_DROPPED, MAX_LOOKUP_PACING } from './constants.js'
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
  onLookup?: (outcome: 'found' | 'not_found') => void
  /** The DHT lookup's budget (ms). Default {@link EDGE_DEFAULTS}.discoveryTimeoutMs. */
  discoveryTimeoutMs?: number
  clock?: Clock
  maxEntries?: number
  maxDropped?: number
}

/**
 * Which ingest owns which stream, and finding streams. Entries come from
 * stream announcements (gossip) and from DHT lookups; the first ingest to
 * announce a stream owns it. Bounded: past `maxEntries` the oldest entries
 * not followed are evicted; dropped streams and lookup pacing are bounded
 * maps too, so made-up stream ids cost nothing lasting.
 */
export class StreamDirectory {
  readonly #entries = new Map<string, DirectoryEntry>()
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
    // A stream belongs to the ingest that announced it first; others can't take it over.
    if (known != null && known.ingest !== from) {
      this.#init.onProtocolError?.('invalid', 'streams:foreign-announce')
      return false
    }
    if (known != null && known.announce.updatedAtMs > msg.updatedAtMs) return false
    if (this.#droppedAt.has(msg.streamId) && msg.state === StreamAnnounce.State.ENDED) return false
    this.#droppedAt.delete(msg.streamId)
    this.#set(msg.streamId, { ingest: from, announce: msg })
    this.#init.notifier.wake(msg.streamId)
    return true
  }

  #set (streamId: string, entry: DirectoryEntry): void {
    const isNew = !this.#entries.has(streamId)
    this.#entries.set(streamId, entry)
    // Bounded: a peer announcing endless made-up streams evicts the oldest unfollowed entries, not our memory.
    if (isNew && this.#entries.size > this.#max) {
      for (const id of this.#entries.keys()) {
        if (!this.#init.isFollowed(id)) { this.#entries.delete(id); break }
      }
    }
  }

  /** Forgets a stream past its retention, and remembers that it was dropped. */
  drop (streamId: string): void {
    this.#entries.delete(streamId)
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
   * from the first provider, takes the stream's announcement out of an INDEX
   * answer: the entry a StreamAnnounce would have made, with the provider as
   * the stream's ingest. One lookup at a time per stream, then a pause.
   */
  async lookup (streamId: string): Promise<void> {
    const d = this.#init.discovery
    if (d == null) return
    const notBefore = this.#lookupNotBefore.get(streamId)
    if (notBefore != null && this.#clock.now() < notBefore) return
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
    const providers = await d.findStreamProviders(streamId, { timeoutMs, max: 1 }).catch((err: any) => {
      this.#log.debug({ streamId, err: err?.message }, 'DHT provider lookup failed')
      return []
    })
    this.#lookupNotBefore.set(streamId, this.#clock.now() + LOOKUP_PAUSE_MS)
    for (const peer of providers) {
      if (this.#init.signal.aborted) return
      try {
        const res = await this.#init.client.index(peer, streamId, { signal: this.#init.signal })
        if (res.stream?.streamId !== streamId) continue
        this.#init.onLookup?.('found')
        this.#log.info({ streamId, ingest: peer }, 'stream found on the DHT')
        if (!this.#entries.has(streamId)) {
          this.#set(streamId, { ingest: peer, announce: res.stream })
          this.#init.notifier.wake(streamId)
        }
        return
      } catch (err: any) {
        this.#log.debug({ streamId, peer, err: err?.message }, 'DHT provider did not give the stream')
      }
    }
    this.#init.onLookup?.('not_found')
  }
}
