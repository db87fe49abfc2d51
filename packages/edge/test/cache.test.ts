import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SegmentCache } from '../src/index.js'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('SegmentCache', () => {
  it('serves from memory while it fits, then from disk with the same strong ETag; removeStream drops both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-cache-'))
    try {
      const cache = new SegmentCache({ dir, maxMemoryBytes: 1500 })
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
})
