import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { InvalidPathError } from './errors.js'

const SAFE = /^[A-Za-z0-9_-]{1,64}$/

/**
 * An open segment file, read in chunks (security review H6: a server holds
 * one chunk per reader, never the whole file). `close()` is idempotent; the
 * file closes by itself once `chunks` is read to the end.
 */
export interface SegmentFile {
  size: number
  chunks: AsyncIterable<Uint8Array>
  close: () => Promise<void>
}

/**
 * Segment files on disk: `<root>/<streamId>/<rendition>/<seq>.ts`. Every
 * path component is checked, so no caller input can escape `root`.
 */
export class SegmentFiles {
  constructor (readonly root: string) {}

  path (streamId: string, rendition: string, seq: number): string {
    if (!SAFE.test(streamId) || !SAFE.test(rendition) || !Number.isSafeInteger(seq) || seq < 0) {
      throw new InvalidPathError(`invalid segment address ${JSON.stringify({ streamId, rendition, seq })}`)
    }
    return join(this.root, streamId, rendition, `${String(seq).padStart(8, '0')}.ts`)
  }

  /**
   * Writes atomically and durably: temp file, fdatasync, rename, fsync of the
   * directory. A crash never leaves a torn segment, and once this returns the
   * bytes survive a power loss, so a DB record written after it never points
   * at a file the filesystem lost (security review M7).
   */
  async write (streamId: string, rendition: string, seq: number, data: Uint8Array): Promise<string> {
    const file = this.path(streamId, rendition, seq)
    await mkdir(dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    const handle = await open(tmp, 'w')
    try {
      await handle.writeFile(data)
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(tmp, file)
    await syncDir(dirname(file))
    return file
  }

  /**
   * Moves an existing file (on the same filesystem, e.g. a segment the
   * segmenter just closed under the data dir) into the store: no second
   * write; made durable as `write` does.
   */
  async adopt (file: string, streamId: string, rendition: string, seq: number): Promise<string> {
    const dest = this.path(streamId, rendition, seq)
    await mkdir(dirname(dest), { recursive: true })
    const handle = await open(file, 'r')
    try {
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(file, dest)
    await syncDir(dirname(dest))
    return dest
  }

  /** Returns the bytes, or undefined if the segment is not on disk. */
  async read (streamId: string, rendition: string, seq: number): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(streamId, rendition, seq))
    } catch (err: any) {
      if (err?.code === 'ENOENT') return undefined
      throw err
    }
  }

  /** Opens the segment for reading in chunks of at most `chunkBytes`, or undefined if it is not on disk. */
  async open (streamId: string, rendition: string, seq: number, chunkBytes: number): Promise<SegmentFile | undefined> {
    let handle
    try {
      handle = await open(this.path(streamId, rendition, seq), 'r')
    } catch (err: any) {
      if (err?.code === 'ENOENT') return undefined
      throw err
    }
    try {
      const { size } = await handle.stat()
      const stream = handle.createReadStream({ highWaterMark: chunkBytes, autoClose: true })
      let closed = false
      const close = async (): Promise<void> => {
        if (closed) return
        closed = true
        stream.destroy()
        await handle.close().catch((err: any) => { if (err?.code !== 'EBADF') throw err }) // EBADF: the stream closed it first
      }
      return { size, chunks: stream, close }
    } catch (err) {
      await handle.close()
      throw err
    }
  }

  async removeStream (streamId: string): Promise<void> {
    if (!SAFE.test(streamId)) throw new InvalidPathError(`invalid stream id ${JSON.stringify(streamId)}`)
    await rm(join(this.root, streamId), { recursive: true, force: true })
  }
}

/** fsync of a directory, so a rename in it is durable. */
async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
