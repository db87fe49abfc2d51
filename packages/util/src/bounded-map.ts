/**
 * A `Map` that holds at most `max` entries: setting a new key past the bound
 * evicts the oldest insertion first. For every map keyed by something a
 * stranger chooses (stream ids, peer ids, job ids), so memory stays bounded.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly max: number
  #evicted = 0

  constructor (max: number, entries?: Iterable<readonly [K, V]>) {
    super()
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`BoundedMap: max must be a positive integer (got ${max})`)
    this.max = max
    if (entries != null) for (const [k, v] of entries) this.set(k, v)
  }

  override set (key: K, value: V): this {
    super.set(key, value)
    evictOldest(this, this.max, () => { this.#evicted++ })
    return this
  }

  /** Entries dropped to keep the bound (for a metric or a test). */
  get evicted (): number { return this.#evicted }
}

/**
 * Deletes the oldest entries of `map` (or set) until it holds at most `max`.
 * For the maps that must not be a {@link BoundedMap} (one that skips some
 * keys, or bounds a nested collection).
 */
export function evictOldest<K> (map: { size: number, keys: () => IterableIterator<K>, delete: (k: K) => boolean }, max: number, onEvict?: (k: K) => void): void {
  while (map.size > max) {
    const first = map.keys().next()
    if (first.done === true) return
    map.delete(first.value)
    onEvict?.(first.value)
  }
}
