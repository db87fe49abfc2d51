import { BoundedMap } from '@diststream/util'
import type { Clock } from '@diststream/util'

/** A token bucket's shape: up to `burst` at once, refilled at `perSecond`. */
export interface BucketSpec {
  burst: number
  perSecond: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * The tokens a bucket holds at `now` (pure): what it held at `at`, refilled
 * at `spec.perSecond`, never above `spec.burst`.
 */
export function refill (b: Bucket, now: number, spec: BucketSpec): number {
  return Math.min(spec.burst, b.tokens + Math.max(0, now - b.at) * spec.perSecond / 1000)
}

/**
 * Token buckets keyed by a stranger's input (a signer's peer id, a topic and
 * signer, a propagation source). The table is a {@link BoundedMap}: a key
 * pushed out by newer keys comes back with a full bucket, so the bound must be
 * larger than the keys that can be active at once (a Sybil with more fresh
 * keys than the bound gains nothing per key it would not have had anyway:
 * every fresh key starts with one burst).
 */
export class KeyedBuckets {
  private readonly buckets: BoundedMap<string, Bucket>
  refused = 0

  constructor (private readonly spec: BucketSpec, maxKeys: number, private readonly clock: Clock) {
    this.buckets = new BoundedMap(maxKeys)
  }

  /** Takes one token from `key`'s bucket; false (and counted) when it is empty. */
  take (key: string): boolean {
    const now = this.clock.now()
    const b = this.buckets.get(key)
    const tokens = b == null ? this.spec.burst : refill(b, now, this.spec)
    if (tokens < 1) {
      this.refused++
      return false
    }
    if (b == null) this.buckets.set(key, { tokens: tokens - 1, at: now })
    else { b.tokens = tokens - 1; b.at = now }
    return true
  }

  get size (): number { return this.buckets.size }
}
