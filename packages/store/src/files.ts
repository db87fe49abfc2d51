import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { InvalidPathError } from './errors.js'

const SAFE = /^[A-Za-z0-9_-]{1,64}$/

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

  /** Writes atomically (temp file + rename), so a crash never leaves a torn segment. */
  async write (streamId: string, rendition: string, seq: number, data: Uint8Array): Promise<string> {
    const file = this.path(streamId, rendition, seq)
    await mkdir(dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, data)
    await rename(tmp, file)
    return file
  }

  /**
   * Moves an existing file (on the same filesystem, e.g. a segment the
   * segmenter just closed under the data dir) into the store: no second write.
   */
  async adopt (file: string, streamId: string, rendition: string, seq: number): Promise<string> {
    const dest = this.path(streamId, rendition, seq)
    await mkdir(dirname(dest), { recursive: true })
    await rename(file, dest)
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

  async removeStream (streamId: string): Promise<void> {
    if (!SAFE.test(streamId)) throw new InvalidPathError(`invalid stream id ${JSON.stringify(streamId)}`)
    await rm(join(this.root, streamId), { recursive: true, force: true })
  }
}
