import assert from 'node:assert/strict'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Level } from 'level'
import { InvalidPathError, loadOrCreatePeerKey, openStore, StoreVersionError } from '../src/index.js'

const dirs: string[] = []
async function tmp (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ds-store-'))
  dirs.push(d)
  return d
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

describe('store', () => {
  it('keeps the peer key across restarts', async () => {
    const dir = await tmp()
    const a = await loadOrCreatePeerKey(dir)
    const b = await loadOrCreatePeerKey(dir)
    assert.equal(a.publicKey.toString(), b.publicKey.toString())
  })

  it('persists streams and returns the most recent segments in order', async () => {
    const dir = await tmp()
    let store = await openStore(dir)
    await store.streams.put({ id: 's1', name: 'one', keyHash: 'h1', createdAt: 1, state: 'live' })
    for (let seq = 0; seq < 10; seq++) {
      await store.segments.put({ streamId: 's1', seq, durationMs: 2000, pdtMs: seq * 2000, discontinuity: false, renditions: [] })
    }
    await store.segments.put({ streamId: 's10', seq: 0, durationMs: 2000, pdtMs: 0, discontinuity: false, renditions: [] })
    await store.close()
    store = await openStore(dir)
    assert.equal((await store.streams.get('s1'))?.name, 'one')
    const recent = await store.segments.recent('s1', 3)
    assert.deepEqual(recent.map(s => s.seq), [7, 8, 9])
    await store.segments.deleteStream('s1')
    assert.deepEqual(await store.segments.recent('s1', 3), [])
    assert.equal((await store.segments.recent('s10', 3)).length, 1)
    // The database (stream keys) is owner-only (M12).
    assert.equal((await stat(join(dir, 'db'))).mode & 0o777, 0o700)
    await store.close()
  })

  it('keeps worker records and a pruned, ordered job history across reopen', async () => {
    const dir = await tmp()
    let store = await openStore(dir)
    await store.workers.put('peerA', { peerId: 'peerA', successes: 3 })
    for (let i = 0; i < 12; i++) await store.jobs.put({ jobId: `j${i}`, createdAt: 1000 + i })
    await store.close()
    store = await openStore(dir)
    assert.deepEqual(await store.workers.values(), [{ peerId: 'peerA', successes: 3 }])
    assert.deepEqual((await store.jobs.recent(3)).map(j => j.jobId), ['j9', 'j10', 'j11'])
    await store.close()
  })

  it('refuses a database of an unknown format version', async () => {
    const dir = await tmp()
    const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' })
    await db.sublevel<string, number>('meta', { valueEncoding: 'json' }).put('version', 999)
    await db.close()
    await assert.rejects(openStore(dir), (err: Error) => err.name === StoreVersionError.NAME && /999/.test(err.message))
  })

  it('writes segment files atomically and rejects traversal', async () => {
    const store = await openStore(await tmp())
    await store.files.write('s1', '720p', 3, new Uint8Array([1, 2, 3]))
    assert.deepEqual([...(await store.files.read('s1', '720p', 3)) ?? []], [1, 2, 3])
    assert.equal(await store.files.read('s1', '720p', 4), undefined)
    const loose = join(store.dataDir, 'loose.ts')
    await writeFile(loose, new Uint8Array([4, 5]))
    await store.files.adopt(loose, 's1', 'source', 7)
    assert.deepEqual([...(await store.files.read('s1', 'source', 7)) ?? []], [4, 5])
    await assert.rejects(stat(loose), { code: 'ENOENT' }, 'moved, not copied')
    for (const [s, r] of [['..', '720p'], ['s1', '../x'], ['a/b', 'x'], ['', 'x']] as const) {
      assert.throws(() => store.files.path(s, r, 0), (err: Error) => err.name === InvalidPathError.NAME)
    }
    assert.throws(() => store.files.path('s1', '720p', -1), (err: Error) => err.name === InvalidPathError.NAME)
    await store.close()
  })
})
