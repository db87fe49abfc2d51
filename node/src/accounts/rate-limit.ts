/**
 * Token buckets keyed by a stranger's choice (a username, an address), pure:
 * the caller passes the time. A bucket holds up to `capacity` tokens and gains
 * one every `refillMs`; an attempt takes one or is refused with the wait until
 * the next. The map is bounded: when full, buckets that have refilled (they
 * hold no memory of anything) are dropped; if none has, a new key is refused
 * as if its bucket were empty, so flooding the map cannot reset a victim's
 * limit.
 */
export interface BucketSpec { capacity: number, refillMs: number }

export type TakeResult = { ok: true } | { ok: false, retryAfterMs: number }

interface Bucket { tokens: number, at: number }

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>()

  constructor (readonly spec: BucketSpec, readonly maxKeys: number) {
    if (!(spec.capacity >= 1) || !(spec.refillMs > 0) || !(maxKeys >= 1)) throw new RangeError('TokenBuckets: capacity, refillMs and maxKeys must be positive')
  }

  get size (): number { return this.#buckets.size }

  /** Takes a token from `key`'s bucket at time `now` (ms). */
  take (key: string, now: number): TakeResult {
    let b = this.#buckets.get(key)
    if (b == null) {
      if (this.#buckets.size >= this.maxKeys) this.#dropFull(now)
      if (this.#buckets.size >= this.maxKeys) return { ok: false, retryAfterMs: this.spec.refillMs }
      b = { tokens: this.spec.capacity, at: now }
      this.#buckets.set(key, b)
    }
    this.#refill(b, now)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil((1 - b.tokens) * this.spec.refillMs)) }
  }

  #refill (b: Bucket, now: number): void {
    const elapsed = Math.max(0, now - b.at)
    b.tokens = Math.min(this.spec.capacity, b.tokens + elapsed / this.spec.refillMs)
    b.at = Math.max(b.at, now)
  }

  #dropFull (now: number): void {
    for (const [k, b] of this.#buckets) {
      this.#refill(b, now)
      if (b.tokens >= this.spec.capacity) this.#buckets.delete(k)
    }
  }
}

/**
 * The rate-limit key of a client address: an IPv4 address as is (also when
 * IPv4-mapped), an IPv6 address by its /64 (one host usually holds a whole
 * /64, so per-address limits on full IPv6 addresses would be free to dodge).
 */
export function addressKey (ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped != null) return mapped[1]!
  if (!ip.includes(':')) return ip
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::') ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h
  return groups.slice(0, 4).map(g => g.replace(/^0+(?=.)/, '')).join(':') + '::/64'
}
