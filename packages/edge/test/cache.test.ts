import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SegmentCache } from '../src/index.js'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('SegmentCache', () => {
  it('serves from memory while it fits, then from disk with the same strong ETag; removeStream drops both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-cache-'))
    try {
      const cache = new SegmentCache({ dir, maxMemoryBytes: 1500, maxDiskBytes: 1 << 20 })
      const a = Buffer.alloc(1000, 1)
      const b = Buffer.alloc(1000, 2)
      await cache.put('s1', 'source', 0, a, sha(a))
      assert.equal(cache.hot('s1', 'source', 0)?.etag, `"${sha(a)}"`)
      await cache.put('s1', 'source', 1, b, sha(b))
      // The byte bound evicted the older one from memory; it is still on disk.
      assert.equal(cache.hot('s1', 'source', 0), undefined)
      assert.ok(cache.memoryBytes <= 1500)
      const cold = await cache.get('s1', 'source', 0)
      assert.equal(cold?.from, 'disk')
      assert.ok(cold?.entry.data.equals(a))
      assert.equal(cold?.entry.etag, `"${sha(a)}"`, 'the ETag of a disk read is the sha256 of the bytes')
      assert.equal((await cache.get('s1', 'source', 0))?.from, 'memory', 'a disk read makes it hot again')
      assert.equal(await cache.get('s1', 'source', 7), undefined)

      await cache.removeStream('s1')
      assert.equal(cache.hot('s1', 'source', 0), undefined)
      assert.equal(await cache.get('s1', 'source', 1), undefined)
      assert.ok(!existsSync(join(dir, 's1')))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('M7/M8: a file whose bytes changed is not served (counted, deleted); the disk budget deletes the least recently used; a failed write still serves from memory; a restart takes the files in with their hashes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-cache-'))
    try {
      const errors: string[] = []
      const cache = new SegmentCache({ dir, maxMemoryBytes: 1000, maxDiskBytes: 2500, onCorrupt: () => { errors.push('corrupt') }, onDiskError: (_e, kind) => { errors.push(kind) } })
      const seg = (n: number): Buffer => Buffer.alloc(1000, n)
      for (const n of [0, 1]) await cache.put('s', 'r', n, seg(n), sha(seg(n)))
      // Torn on disk (a crash, a bad sector): never served under the hash it was verified as.
      await writeFile(join(dir, 's', 'r', '00000000.ts'), Buffer.alloc(1000, 9))
      assert.equal(await cache.get('s', 'r', 0), undefined)
      assert.deepEqual(errors, ['corrupt'])
      assert.ok(!existsSync(join(dir, 's', 'r', '00000000.ts')), 'the corrupt file is deleted')
      // Budget: 2 files of 1000 fit in 2500; a third evicts the least recently used.
      await cache.put('s', 'r', 2, seg(2), sha(seg(2)))
      await cache.put('s', 'r', 3, seg(3), sha(seg(3)))
      assert.ok(cache.diskBytes <= 2500)
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.ok(!existsSync(join(dir, 's', 'r', '00000001.ts')), 'the least recently used file is deleted')
      assert.ok(existsSync(join(dir, 's', 'r', '00000003.ts')))
      // A write that fails (here: the stream dir is a file) is counted; the bytes are served from memory.
      await writeFile(join(dir, 'x'), 'not a dir')
      const entry = await cache.put('x', 'r', 0, seg(5), sha(seg(5)))
      assert.ok(entry.data.equals(seg(5)))
      assert.equal(cache.hot('x', 'r', 0)?.etag, `"${sha(seg(5))}"`)
      assert.deepEqual(errors, ['corrupt', 'write'])
      // A new run takes in the files with their hashes (and checks them on read); a file without one goes.
      await writeFile(join(dir, 's', 'r', '00000009.ts'), 'no hash file')
      const again = new SegmentCache({ dir, maxMemoryBytes: 1000, maxDiskBytes: 2500 })
      await again.open()
      assert.ok((await again.get('s', 'r', 3))?.entry.data.equals(seg(3)), 'served from disk after a restart')
      assert.ok(!existsSync(join(dir, 's', 'r', '00000009.ts')))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
