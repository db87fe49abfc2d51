import { LRUCache } from 'lru-cache'
import { SegmentFiles } from '@diststream/store'

/**
 * Two-level segment cache: a byte-bounded LRU in memory in front of the
 * disk. Hot segments are served from memory; evicted ones stay on disk.
 */
export class SegmentCache {
  private readonly memory: LRUCache<string, Uint8Array>
  private readonly disk: SegmentFiles

  constructor (init: { dir: string, maxMemoryBytes: number }) {
    this.memory = new LRUCache<string, Uint8Array>({ maxSize: init.maxMemoryBytes, sizeCalculation: (v) => Math.max(1, v.byteLength) })
    this.disk = new SegmentFiles(init.dir)
  }

  async put (streamId: string, rendition: string, seq: number, data: Uint8Array): Promise<void> {
    this.memory.set(key(streamId, rendition, seq), data)
    await this.disk.write(streamId, rendition, seq, data)
  }

  async get (streamId: string, rendition: string, seq: number): Promise<{ data: Uint8Array, from: 'memory' | 'disk' } | undefined> {
    const k = key(streamId, rendition, seq)
    const hot = this.memory.get(k)
    if (hot != null) return { data: hot, from: 'memory' }
    const cold = await this.disk.read(streamId, rendition, seq)
    if (cold == null) return undefined
    this.memory.set(k, cold)
    return { data: cold, from: 'disk' }
  }

}

const key = (s: string, r: string, q: number): string => `${s}/${r}/${q}`
