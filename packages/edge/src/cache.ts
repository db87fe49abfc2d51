import { createHash } from 'node:crypto'
import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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
 * served under its immutable ETag); that hash is kept next to each file, so
 * a restarted edge serves its cache again ({@link open}). A disk write
 * failure is counted, not fatal: the verified bytes are in memory.
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

  /**
   * Takes in what an earlier run left on disk: each segment file with its
   * hash file (`<file>.sha256`, written after the segment), oldest first,
   * within the budget; anything else (a temp file, a segment without its
   * hash) is deleted. Served later only if its bytes still match (M7).
   */
  async open (): Promise<void> {
    const found: Array<{ k: string, sha256Hex: string, size: number, at: number }> = []
    const root = this.init.dir
    for (const s of await readdir(root).catch(() => [] as string[])) {
      for (const r of await readdir(join(root, s)).catch(() => [] as string[])) {
        const dir = join(root, s, r)
        const names = await readdir(dir).catch(() => [] as string[])
        for (const name of names) {
          const file = join(dir, name)
          const m = /^(\d{1,16})\.ts$/.exec(name)
          const sha256Hex = m != null ? (await readFile(`${file}.sha256`, 'utf8').catch(() => '')).trim() : ''
          if (m == null || !/^[0-9a-f]{64}$/.test(sha256Hex)) {
            if (!name.endsWith('.sha256') || !names.includes(name.slice(0, -'.sha256'.length))) await unlink(file).catch(() => { /* gone already */ })
            continue
          }
          const st = await stat(file).catch(() => undefined)
          if (st != null) found.push({ k: key(s, r, Number(m[1])), sha256Hex, size: st.size, at: st.mtimeMs })
        }
      }
    }
    found.sort((a, b) => a.at - b.at)
    for (const f of found) this.onDisk.set(f.k, { sha256Hex: f.sha256Hex, size: f.size })
  }

  /** Stores verified bytes whose sha256 is `sha256Hex`. */
  async put (streamId: string, rendition: string, seq: number, data: Uint8Array, sha256Hex: string): Promise<CachedSegment> {
    const k = key(streamId, rendition, seq)
    const entry = { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), etag: etagOf(sha256Hex) }
    this.memory.set(k, entry)
    try {
      const file = await this.disk.write(streamId, rendition, seq, data)
      // The hash the bytes were verified as, next to them: a later run checks the file against it.
      await writeFile(`${file}.sha256`, sha256Hex)
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
      // The LRU's dispose unlinks in the background; a corrupt file is gone when this returns (ENOENT for the second unlink is ignored).
      if (cold != null) await this.#unlink(k)
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
    const file = this.disk.path(s!, r!, Number(q))
    for (const f of [file, `${file}.sha256`]) {
      try {
        await unlink(f)
      } catch (err: any) {
        if (err?.code !== 'ENOENT') this.init.onDiskError?.(err, 'remove')
      }
    }
  }
}

export const key = (s: string, r: string, q: number): string => `${s}/${r}/${q}`
