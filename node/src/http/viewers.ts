/** What a player fetches: playlists, DASH manifests, segments and inits (a thumbnail or a 404 is no viewer). */
const PLAYER_FILE = /\.(m3u8|mpd|ts|m4s|mp4)$/
/** Answers a player got what it asked for from: 206 is a byte range, 304 a revalidation. */
const PLAYER_STATUS = new Set([200, 206, 304])

/** The stream a request under `/live/` is a player's request of, or undefined (pure). */
export function playerRequest (url: string, status: number): string | undefined {
  if (!PLAYER_STATUS.has(status) || !url.startsWith('/live/')) return undefined
  const path = url.split('?', 1)[0] ?? ''
  return PLAYER_FILE.test(path) ? path.split('/')[2] : undefined
}

/**
 * Viewers of this edge: distinct clients (address + user agent) that fetched
 * a stream's HLS or DASH within the last `windowMs` (30 s by default,
 * `--viewer-window-seconds`). Players behind one address with one user agent
 * count once. Bounded; pure but for the clock.
 */
export class ViewerCounter {
  readonly #streams = new Map<string, Map<string, number>>()

  constructor (readonly windowMs = 30_000, readonly maxPerStream = 10_000, readonly maxStreams = 1000, private readonly now: () => number = Date.now) {}

  seen (streamId: string, client: string): void {
    let m = this.#streams.get(streamId)
    if (m == null) {
      if (this.#streams.size >= this.maxStreams) this.#prune()
      if (this.#streams.size >= this.maxStreams) return
      m = new Map()
      this.#streams.set(streamId, m)
    }
    m.delete(client)
    m.set(client, this.now())
    if (m.size > this.maxPerStream) m.delete(m.keys().next().value!)
  }

  count (streamId: string): number {
    const m = this.#streams.get(streamId)
    if (m == null) return 0
    const since = this.now() - this.windowMs
    // Entries are in last-seen order: drop the stale prefix.
    for (const [k, at] of m) {
      if (at >= since) break
      m.delete(k)
    }
    return m.size
  }

  total (): number {
    let n = 0
    for (const id of [...this.#streams.keys()]) n += this.count(id)
    return n
  }

  /** Streams with viewers now, most watched first. */
  streams (): Array<{ id: string, viewers: number }> {
    return [...this.#streams.keys()].map(id => ({ id, viewers: this.count(id) })).filter(s => s.viewers > 0).sort((a, b) => b.viewers - a.viewers)
  }

  #prune (): void {
    for (const id of [...this.#streams.keys()]) if (this.count(id) === 0) this.#streams.delete(id)
  }
}
