import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { progressLine } from '../src/publish.js'
import { sweepUploads } from '../src/http/upload-routes.js'

describe('progressLine', () => {
  it('draws a bar with a percentage and the counts', () => {
    assert.equal(progressLine('segments', 0, 4, 8), '[........]   0% segments 0/4')
    assert.equal(progressLine('segments', 2, 4, 8), '[####....]  50% segments 2/4')
    assert.equal(progressLine('segments', 4, 4, 8), '[########] 100% segments 4/4')
    assert.equal(progressLine('segments', 9, 4, 8), '[########] 100% segments 9/4', 'clamped')
  })

  it('shows a plain count while the total is unknown', () => {
    assert.equal(progressLine('segments', 3, undefined), 'segments 3')
    assert.equal(progressLine('segments', 3, 0), 'segments 3')
  })
})

describe('sweepUploads', () => {
  it('removes only uploads untouched for longer than the TTL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-uploads-'))
    try {
      await writeFile(join(dir, 'old.upload'), 'x')
      await writeFile(join(dir, 'new.upload'), 'y')
      const day = 24 * 3_600_000
      await utimes(join(dir, 'old.upload'), new Date(Date.now() - day - 60_000), new Date(Date.now() - day - 60_000))
      assert.equal(await sweepUploads(dir, day), 1)
      assert.deepEqual(await readdir(dir), ['new.upload'])
      assert.equal(await sweepUploads(join(dir, 'missing'), day), 0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
