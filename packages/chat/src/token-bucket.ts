import type { Rate } from './constants.js'

/** A token bucket on an injected clock reading (pure): `take(now)` spends one token if there is one. */
export class TokenBucket {
  #tokens: number
  #at: number

  constructor (private readonly rate: Rate, now: number) {
    this.#tokens = rate.burst
    this.#at = now
  }

  take (now: number): boolean {
    const elapsed = Math.max(0, now - this.#at) / 1000
    this.#tokens = Math.min(this.rate.burst, this.#tokens + elapsed * this.rate.perSecond)
    this.#at = Math.max(this.#at, now)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
