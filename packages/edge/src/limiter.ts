/**
 * Concurrency limits for the edge's upstream fetches (H3): a node-wide
 * number of fetches at once, and a number per stream, so one stream (an
 * attacker's, announcing eight 64 MiB renditions a second) cannot take the
 * node's memory or bandwidth, nor starve the others. Waiters are served in
 * order; a waiter whose signal fires leaves the queue.
 */
export class Semaphore {
  #free: number
  readonly #queue: Array<() => void> = []

  constructor (readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`Semaphore: max must be a positive integer (got ${max})`)
    this.#free = max
  }

  /** Nothing held and nobody waiting. */
  get idle (): boolean { return this.#free === this.max && this.#queue.length === 0 }

  async acquire (signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.#free > 0) {
      this.#free--
      return
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
      const onAbort = (): void => {
        const i = this.#queue.indexOf(grant)
        if (i >= 0) this.#queue.splice(i, 1)
        reject(signal?.reason)
      }
      this.#queue.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  release (): void {
    const next = this.#queue.shift()
    if (next != null) next() // the slot passes straight to the next waiter
    else this.#free = Math.min(this.max, this.#free + 1)
  }
}

/** A node-wide {@link Semaphore} and one per key (stream), the per-key ones dropped when idle. */
export class FetchLimits {
  readonly #global: Semaphore
  readonly #perKey = new Map<string, Semaphore>()

  constructor (readonly maxGlobal: number, readonly maxPerKey: number) {
    this.#global = new Semaphore(maxGlobal)
  }

  /** Runs `fn` holding a slot of `key`'s and then of the node's. */
  async run<T> (key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let mine = this.#perKey.get(key)
    if (mine == null) { mine = new Semaphore(this.maxPerKey); this.#perKey.set(key, mine) }
    const own = mine
    try {
      await own.acquire(signal)
      try {
        await this.#global.acquire(signal)
        try {
          return await fn()
        } finally {
          this.#global.release()
        }
      } finally {
        own.release()
      }
    } finally {
      if (own.idle && this.#perKey.get(key) === own) this.#perKey.delete(key)
    }
  }

  /** Keys with a semaphore now (bounded by the keys with fetches in flight or waiting). */
  get keys (): number { return this.#perKey.size }
}

/**
 * Admission for work a stranger starts (viewer-driven cold fetches, M6): at
 * most `maxGlobal` at once and `maxPerKey` per key, refused (not queued)
 * past either. Keys are dropped when their count is back to 0, so the table
 * holds at most `maxGlobal` keys.
 */
export class AdmissionGate {
  #total = 0
  readonly #perKey = new Map<string, number>()

  constructor (readonly maxGlobal: number, readonly maxPerKey: number) {}

  /** Runs `fn` if there is room, else returns `refused` without running it: 'global' or 'per_key'. */
  async run<T> (key: string, fn: () => Promise<T>): Promise<{ value: T } | { refused: 'global' | 'per_key' }> {
    const mine = this.#perKey.get(key) ?? 0
    if (this.#total >= this.maxGlobal) return { refused: 'global' }
    if (mine >= this.maxPerKey) return { refused: 'per_key' }
    this.#total++
    this.#perKey.set(key, mine + 1)
    try {
      return { value: await fn() }
    } finally {
      this.#total--
      const left = (this.#perKey.get(key) ?? 1) - 1
      if (left <= 0) this.#perKey.delete(key)
      else this.#perKey.set(key, left)
    }
  }

  /** Keys with work running (at most `maxGlobal`). */
  get keys (): number { return this.#perKey.size }
}
