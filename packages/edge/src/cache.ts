import { createHash } from 'node:crypto'
import { rm, unlink } from 'node:fs/promises'
import { LRUCache } from 'lru-cache'
import { SegmentFiles } from '@diststream/store'

/** A cached segment: its bytes and its strong ETag (the quoted sha256 hex of the bytes). */
export interface CachedSegment {
  data: Buffer
  etag: string
}

export const etagOf = (sha256Hex: string): string => `"${sha256Hex}"`

export interface SegmentCacheInit {
  dir: string
  maxMemoryBytes: number
  /** Disk budget (bytes): past it, the least recently used files are deleted. */
  maxDiskBytes: number
  /** A disk write failed (ENOSPC, EIO): the segment is still served from memory. */
  onDiskError?: (err: Error, op: 'write' | 'read' | 'remove') => void
  /** A file on disk no longer has the bytes it was written with (torn, corrupted): deleted, not served. */
  onCorrupt?: () => void
}

/**
 * Two-level segment cache: a byte-bounded LRU in memory in front of a
 * byte-bounded LRU on disk (M8). Hot segments are served from memory;
 * evicted ones from disk, and only when their bytes still hash to what they
 * were verified as when written (M7: a torn or corrupted file is never
 * served under its immutable ETag). The disk index lives in memory: what a
 * previous run left on disk is unknown, so {@link open} removes it. A disk
 * write failure is counted, not fatal: the verified bytes are in memory.
 */
export class SegmentCache {
  private readonly memory: LRUCache<string, CachedSegment>
  /** What is on disk, with the sha256 each file was verified as; eviction deletes the file. */
  private readonly onDisk: LRUCache<string, { sha256Hex: string, size: number }>
  private readonly disk: SegmentFiles

  constructor (private readonly init: SegmentCacheInit) {
    this.memory = new LRUCache<string, CachedSegment>({ maxSize: Math.max(1, init.maxMemoryBytes), sizeCalculation: (v) => Math.max(1, v.data.byteLength) })
    this.onDisk = new LRUCache<string, { sha256Hex: string, size: number }>({
      maxSize: Math.max(1, init.maxDiskBytes),
      sizeCalculation: (v) => Math.max(1, v.size),
      dispose: (_v, k, reason) => { if (reason !== 'set') void this.#unlink(k) }
    })
    this.disk = new SegmentFiles(init.dir)
  }

  /** Clears what an earlier run left on disk (its index died with it). */
  async open (): Promise<void> {
    await rm(this.init.dir, { recursive: true, force: true })
  }

  /** Stores verified bytes whose sha256 is `sha256Hex`. */
  async put (streamId: string, rendition: string, seq: number, data: Uint8Array, sha256Hex: string): Promise<CachedSegment> {
    const k = key(streamId, rendition, seq)
    const entry = { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), etag: etagOf(sha256Hex) }
    this.memory.set(k, entry)
    try {
      await this.disk.write(streamId, rendition, seq, data)
      this.onDisk.set(k, { sha256Hex, size: data.byteLength })
    } catch (err: any) {
      this.init.onDiskError?.(err, 'write')
    }
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
    const known = this.onDisk.get(k)
    if (known == null) return undefined
    let cold: Uint8Array | undefined
    try {
      cold = await this.disk.read(streamId, rendition, seq)
    } catch (err: any) {
      this.init.onDiskError?.(err, 'read')
    }
    const sha256Hex = cold != null ? createHash('sha256').update(cold).digest('hex') : undefined
    if (cold == null || sha256Hex !== known.sha256Hex) {
      if (cold != null) this.init.onCorrupt?.()
      this.onDisk.delete(k)
      return undefined
    }
    const entry = { data: Buffer.from(cold.buffer, cold.byteOffset, cold.byteLength), etag: etagOf(sha256Hex) }
    this.memory.set(k, entry)
    return { entry, from: 'disk' }
  }

  /** Drops every rendition of a stream, from memory and disk. */
  async removeStream (streamId: string): Promise<void> {
    const prefix = `${streamId}/`
    for (const k of [...this.memory.keys()]) if (k.startsWith(prefix)) this.memory.delete(k)
    for (const k of [...this.onDisk.keys()]) if (k.startsWith(prefix)) this.onDisk.delete(k)
    await this.disk.removeStream(streamId)
  }

  get memoryBytes (): number { return this.memory.calculatedSize }
  get diskBytes (): number { return this.onDisk.calculatedSize }

  async #unlink (k: string): Promise<void> {
    const [s, r, q] = k.split('/')
    try {
      await unlink(this.disk.path(s!, r!, Number(q)))
    } catch (err: any) {
      if (err?.code !== 'ENOENT') this.init.onDiskError?.(err, 'remove')
    }
  }
}

export const key = (s: string, r: string, q: number): string => `${s}/${r}/${q}`
