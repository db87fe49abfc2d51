/**
 * When a WHIP session must ask for a keyframe, and when it is dead: pure
 * timing on times passed in (ms), so it is tested with a fake clock.
 */
import { WHIP_CONNECT_TIMEOUT_MS, WHIP_KEYFRAMES_PER_SEGMENT, WHIP_MEDIA_TIMEOUT_MS } from './limits.js'

export type WatchAction = 'keyframe' | 'connect_timeout' | 'media_timeout'

export interface WatchOptions {
  segmentSeconds: number
  connectTimeoutMs?: number
  mediaTimeoutMs?: number
}

export class WhipWatch {
  readonly #keyframeEveryMs: number
  readonly #connectTimeoutMs: number
  readonly #mediaTimeoutMs: number
  readonly #createdAt: number
  #connectedAt?: number
  #lastMediaAt?: number
  #lastKeyframeAskAt?: number
  #dead = false

  constructor (now: number, o: WatchOptions) {
    this.#createdAt = now
    this.#keyframeEveryMs = Math.max(250, Math.round(o.segmentSeconds * 1000 / WHIP_KEYFRAMES_PER_SEGMENT))
    this.#connectTimeoutMs = o.connectTimeoutMs ?? WHIP_CONNECT_TIMEOUT_MS
    this.#mediaTimeoutMs = o.mediaTimeoutMs ?? WHIP_MEDIA_TIMEOUT_MS
  }

  /** ICE and DTLS are up. */
  connected (now: number): void { this.#connectedAt ??= now }
  /** An RTP packet arrived. */
  media (now: number): void { this.#lastMediaAt = now }
  /** Asks for a keyframe at the next tick (a new reader of the media, e.g. the bridge restarted). */
  keyframeNow (): void { this.#lastKeyframeAskAt = undefined }

  /** What to do at `now` (call often: a few times per keyframe interval). After a timeout it returns nothing more. */
  tick (now: number): WatchAction | undefined {
    if (this.#dead) return undefined
    if (this.#connectedAt == null) {
      if (now - this.#createdAt >= this.#connectTimeoutMs) { this.#dead = true; return 'connect_timeout' }
      return undefined
    }
    const since = this.#lastMediaAt ?? this.#connectedAt
    if (now - since >= this.#mediaTimeoutMs) { this.#dead = true; return 'media_timeout' }
    const last = this.#lastKeyframeAskAt
    if (last == null || now - last >= this.#keyframeEveryMs) {
      // On a grid, not `now`: a coarse tick does not stretch the interval (a late tick by more than one interval restarts the grid).
      this.#lastKeyframeAskAt = last == null || now - last >= 2 * this.#keyframeEveryMs ? now : last + this.#keyframeEveryMs
      return 'keyframe'
    }
    return undefined
  }
}
