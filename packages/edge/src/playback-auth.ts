import { checkTiming, ed25519KeyOfPeer, ed25519PublicKey, PLAYBACK_TOKEN_SKEW_SECONDS, verifyPlaybackToken } from '@diststream/protocol'
import { BoundedMap, systemClock } from '@diststream/util'
import { MAX_PLAYBACK_OWNER_KEYS, MAX_VERIFIED_PLAYBACK_TOKENS } from './constants.js'
import { PlaybackTokenMissingError, PlaybackTokenRefusedError } from './errors.js'
import type { PlaybackClaims, PlaybackTokenRefusal } from '@diststream/protocol'
import type { Clock } from '@diststream/util'
import type { KeyObject } from 'node:crypto'

/** Why a playback request was refused (`diststream_edge_playback_refused_total`'s label): no token, or the token's refusal. */
export type PlaybackRefusal = 'missing' | PlaybackTokenRefusal

export interface PlaybackGateInit {
  clock?: Clock
  onRefused?: (reason: PlaybackRefusal) => void
  maxTokens?: number
  skewSec?: number
}

/**
 * Who may play a private stream at this edge: the holder of a token its
 * owner signed (PROTOCOL.md §11), checked offline against the public key in
 * the owner's peer id. A token whose signature checked out once is
 * remembered (bounded), so later requests only re-check stream and time.
 */
export class PlaybackGate {
  readonly #verified: BoundedMap<string, PlaybackClaims>
  readonly #keys = new BoundedMap<string, KeyObject | null>(MAX_PLAYBACK_OWNER_KEYS)
  readonly #clock: Clock
  readonly #init: PlaybackGateInit

  constructor (init: PlaybackGateInit = {}) {
    this.#init = init
    this.#clock = init.clock ?? systemClock
    this.#verified = new BoundedMap(init.maxTokens ?? MAX_VERIFIED_PLAYBACK_TOKENS)
  }

  /** Tokens remembered as verified (at most `maxTokens`). */
  get remembered (): number { return this.#verified.size }

  /**
   * Returns the claims when `token` lets its holder play `streamId`, owned by
   * `owner` (the peer the stream id commits to); throws
   * PlaybackTokenMissingError (401) without a token, PlaybackTokenRefusedError
   * (403) for a bad one.
   */
  check (streamId: string, owner: string, token: string | undefined): PlaybackClaims {
    if (token == null || token === '') return this.#refuse('missing')
    const nowSec = Math.floor(this.#clock.now() / 1000)
    const skewSec = this.#init.skewSec ?? PLAYBACK_TOKEN_SKEW_SECONDS
    const known = this.#verified.get(token)
    if (known != null) {
      if (known.streamId !== streamId) return this.#refuse('stream')
      const timing = checkTiming(known, nowSec, skewSec)
      return timing == null ? known : this.#refuse(timing)
    }
    const key = this.#keyOf(owner)
    if (key == null) return this.#refuse('owner')
    const r = verifyPlaybackToken(token, { streamId, key, nowSec, skewSec })
    if (!r.ok) return this.#refuse(r.reason)
    this.#verified.set(token, r.claims)
    return r.claims
  }

  #keyOf (owner: string): KeyObject | undefined {
    if (!this.#keys.has(owner)) {
      const raw = ed25519KeyOfPeer(owner)
      this.#keys.set(owner, raw == null ? null : ed25519PublicKey(raw))
    }
    return this.#keys.get(owner) ?? undefined
  }

  #refuse (reason: PlaybackRefusal): never {
    this.#init.onRefused?.(reason)
    if (reason === 'missing') throw new PlaybackTokenMissingError('this stream is private: add ?token=<playback token> to the playlist URL')
    throw new PlaybackTokenRefusedError(`playback token refused (${reason.replaceAll('_', ' ')})`)
  }
}
