import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { SegmentFiles } from '@diststream/store'

/** A cached segment: its bytes and its strong ETag (the quoted sha256 hex of the bytes). */
export interface CachedSegment {
  data: Buffer
  etag: string
}

export const etagOf = (sha256Hex: string): string => `"${sha256Hex}"`

/**
 * Two-level segment cache: a byte-bounded LRU in memory in front of the
 * disk. Hot segments are served from memory; evicted ones stay on disk.
 */
export class SegmentCache {
  private readonly memory: LRUCache<string, CachedSegment>
  private readonly disk: SegmentFiles

  constructor (init: { dir: string, maxMemoryBytes: number }) {
    this.memory = new LRUCache<string, CachedSegment>({ maxSize: Math.max(1, init.maxMemoryBytes), sizeCalculation: (v) => Math.max(1, v.data.byteLength) })
    this.disk = new SegmentFiles(init.dir)
  }

  /** Stores verified bytes whose sha256 is `sha256Hex`. */
  async put (streamId: string, rendition: string, seq: number, data: Uint8Array, sha256Hex: string): Promise<CachedSegment> {
    const entry = { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), etag: etagOf(sha256Hex) }
    this.memory.set(key(streamId, rendition, seq), entry)
    await this.disk.write(streamId, rendition, seq, data)
    return entry
  }

  /** The segment if it is in memory: no disk, no await. */
  hot (streamId: string, rendition: string, seq: number): CachedSegment | undefined {
    return this.memory.get(key(streamId, rendition, seq))
  }

  async get (streamId: string, rendition: string, seq: number): Promise<{ entry: CachedSegment, from: 'memory' | 'disk' } | undefined> {
    const k = key(streamId, rendition, seq)
    const hot = this.memory.get(k)
    if (hot != null) return { entry: hot, from: 'memory' }
    const cold = await this.disk.read(streamId, rendition, seq)
    if (cold == null) return undefined
    const entry = { data: Buffer.from(cold.buffer, cold.byteOffset, cold.byteLength), etag: etagOf(createHash('sha256').update(cold).digest('hex')) }
    this.memory.set(k, entry)
    return { entry, from: 'disk' }
  }

  /** Drops every rendition of a stream, from memory and disk. */
  async removeStream (streamId: string): Promise<void> {
    const prefix = `${streamId}/`
    for (const k of [...this.memory.keys()]) if (k.startsWith(prefix)) this.memory.delete(k)
    await this.disk.removeStream(streamId)
  }

  get memoryBytes (): number { return this.memory.calculatedSize }
}

export const key = (s: string, r: string, q: number): string => `${s}/${r}/${q}`
