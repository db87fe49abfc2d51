/**
 * One stream's chat on one edge, pure (clock injected): the last messages for
 * late joiners, duplicate ids, the owner's moderation (bans, deletions, slow
 * mode) and the rate limits (per viewer key, per edge, per relaying peer).
 * Every map keyed by a stranger's choice is bounded.
 */
import { CHAT_TS_SKEW_MS } from '@diststream/protocol'
import { BoundedMap } from '@diststream/util'
import { CHAT_DEDUPE, CHAT_HISTORY, CHAT_RATE_EDGE, CHAT_RATE_KEY, CHAT_RATE_PEER, MAX_CHAT_BUCKETS } from './constants.js'
import { TokenBucket } from './token-bucket.js'
import type { Rate } from './constants.js'
import type { ChatMessage, ChatModeration, ChatRefusalReason } from '@diststream/protocol'
import type { Clock } from '@diststream/util'

export interface ChatRoomInit {
  stream: string
  clock: Clock
  history?: number
  dedupe?: number
  maxBuckets?: number
  rateKey?: Rate
  rateEdge?: Rate
  ratePeer?: Rate
  skewMs?: number
}

/** Where a message came from: a viewer of this edge, or another edge (its peer id). */
export type ChatSource = { local: true } | { local: false, peer: string }

export type AdmitResult = { ok: true } | { ok: false, reason: ChatRefusalReason }

/** What a newer moderation state changed: messages to take away, and the state. */
export interface ModerationChange { removed: string[], state: ChatModeration }

export class ChatRoom {
  readonly stream: string
  readonly #clock: Clock
  readonly #max: number
  readonly #skew: number
  readonly #history: ChatMessage[] = []
  readonly #seen: BoundedMap<string, true>
  readonly #keyBuckets: BoundedMap<string, TokenBucket>
  readonly #peerBuckets: BoundedMap<string, TokenBucket>
  /** The ts of each key's last accepted message (slow mode). */
  readonly #lastTs: BoundedMap<string, number>
  readonly #edgeBucket: TokenBucket
  readonly #rates: { key: Rate, peer: Rate }
  #mod: ChatModeration
  #bans = new Set<string>()
  #deleted = new Set<string>()

  constructor (init: ChatRoomInit) {
    this.stream = init.stream
    this.#clock = init.clock
    this.#max = init.history ?? CHAT_HISTORY
    this.#skew = init.skewMs ?? CHAT_TS_SKEW_MS
    const buckets = init.maxBuckets ?? MAX_CHAT_BUCKETS
    this.#seen = new BoundedMap(init.dedupe ?? CHAT_DEDUPE)
    this.#keyBuckets = new BoundedMap(buckets)
    this.#peerBuckets = new BoundedMap(buckets)
    this.#lastTs = new BoundedMap(buckets)
    this.#edgeBucket = new TokenBucket(init.rateEdge ?? CHAT_RATE_EDGE, init.clock.now())
    this.#rates = { key: init.rateKey ?? CHAT_RATE_KEY, peer: init.ratePeer ?? CHAT_RATE_PEER }
    this.#mod = { stream: init.stream, version: 0, slowSeconds: 0, bans: [], deleted: [] }
  }

  /** The last messages, oldest first (deleted and banned ones taken out). */
  recent (): ChatMessage[] { return [...this.#history] }

  get moderation (): ChatModeration { return this.#mod }

  /**
   * Takes in a message whose shape and signature were checked
   * (`checkChatMessage`), or says why not. Checks, in order: the stream, the
   * ts against the clock, a duplicate id, a ban, a deletion, the relaying
   * peer's or this edge's rate, the key's rate, slow mode.
   */
  admit (m: ChatMessage, source: ChatSource): AdmitResult {
    const now = this.#clock.now()
    if (m.stream !== this.stream) return { ok: false, reason: 'wrong_stream' }
    if (m.ts < now - this.#skew) return { ok: false, reason: 'stale' }
    if (m.ts > now + this.#skew) return { ok: false, reason: 'future' }
    if (this.#seen.has(m.id)) return { ok: false, reason: 'duplicate' }
    if (this.#bans.has(m.key)) return { ok: false, reason: 'banned' }
    if (this.#deleted.has(m.id)) return { ok: false, reason: 'duplicate' }
    if (source.local) {
      if (!this.#edgeBucket.take(now)) return { ok: false, reason: 'rate_edge' }
    } else if (!this.#bucket(this.#peerBuckets, source.peer, this.#rates.peer, now).take(now)) {
      return { ok: false, reason: 'rate_peer' }
    }
    if (!this.#bucket(this.#keyBuckets, m.key, this.#rates.key, now).take(now)) return { ok: false, reason: 'rate_key' }
    const last = this.#lastTs.get(m.key)
    if (last != null && this.#mod.slowSeconds > 0 && m.ts - last < this.#mod.slowSeconds * 1000) return { ok: false, reason: 'slow_mode' }
    this.#seen.set(m.id, true)
    this.#lastTs.delete(m.key) // re-inserted: the map's order is by last message, so eviction takes the quietest key
    this.#lastTs.set(m.key, Math.max(last ?? 0, m.ts))
    this.#history.push(m)
    if (this.#history.length > this.#max) this.#history.shift()
    return { ok: true }
  }

  /** Takes in the owner's moderation state if it is newer than the one held (the caller checked who sent it). */
  moderate (s: ChatModeration): ModerationChange | undefined {
    if (s.stream !== this.stream || s.version <= this.#mod.version) return undefined
    this.#mod = s
    this.#bans = new Set(s.bans)
    this.#deleted = new Set(s.deleted)
    const removed: string[] = []
    for (let i = this.#history.length - 1; i >= 0; i--) {
      const m = this.#history[i]!
      if (this.#bans.has(m.key) || this.#deleted.has(m.id)) {
        removed.push(m.id)
        this.#history.splice(i, 1)
      }
    }
    return { removed, state: s }
  }

  #bucket (map: BoundedMap<string, TokenBucket>, k: string, rate: Rate, now: number): TokenBucket {
    let b = map.get(k)
    if (b == null) {
      b = new TokenBucket(rate, now)
      map.set(k, b)
    }
    return b
  }
}
