/** A seeded PRNG (mulberry32): the same seed gives the same run. */
export class Rng {
  private s: number

  constructor (seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9
  }

  /** Uniform in [0, 1). */
  next (): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Uniform integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  uniform (lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }

  chance (p: number): boolean {
    return this.next() < p
  }

  /** Binomial(n, p) by inversion for small n·p, normal approximation for large n. */
  binomial (n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0
    if (p >= 1) return n
    if (n < 64) {
      let c = 0
      for (let i = 0; i < n; i++) if (this.next() < p) c++
      return c
    }
    const mean = n * p
    const sd = Math.sqrt(n * p * (1 - p))
    const u = 1 - this.next()
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
    return Math.min(n, Math.max(0, Math.round(mean + sd * z)))
  }

  /** `k` distinct elements of `xs` (all of them, shuffled, when k ≥ length). */
  sample<T> (xs: readonly T[], k: number): T[] {
    const a = [...xs]
    const m = Math.min(k, a.length)
    for (let i = 0; i < m; i++) {
      const j = i + this.int(a.length - i)
      const t = a[i]!
      a[i] = a[j]!
      a[j] = t
    }
    return a.slice(0, m)
  }
}
