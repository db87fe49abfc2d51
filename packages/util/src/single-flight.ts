/**
 * Request coalescing: while a call for a key is in flight, later calls for
 * the same key share its promise instead of starting their own.
 */
export class SingleFlight<V> {
  private readonly inflight = new Map<string, Promise<V>>()

  async do (key: string, fn: () => Promise<V>): Promise<V> {
    const running = this.inflight.get(key)
    if (running != null) return await running
    const p = fn().finally(() => { this.inflight.delete(key) })
    this.inflight.set(key, p)
    return await p
  }

  /** The call in flight for `key`, if any (to wait on it without starting one). */
  get (key: string): Promise<V> | undefined { return this.inflight.get(key) }

  get size (): number { return this.inflight.size }
}
