/**
 * createNode's ordered start and stop (a real node, in-process): a start that
 * fails part-way stops what already started, so the data dir (the level
 * store's lock, the peer key) can be opened again at once.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseConfig } from '../src/config.js'
import { createNode } from '../src/node.js'
import type { Server } from 'node:net'

const common = (dir: string, httpPort: number): string[] => ['--role', 'edge', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--http-host', '127.0.0.1', '--http-port', String(httpPort), '--log-level', 'silent']

describe('createNode start and stop', () => {
  it('a node whose HTTP port is taken fails to start and closes its store and libp2p; a second node opens the same data dir at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-lifecycle-'))
    const taken: Server = createServer()
    await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      await assert.rejects(createNode(await parseConfig(common(dir, port))), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE')
      // The failed node released the level store's lock: this open would fail otherwise.
      const node = await createNode(await parseConfig(common(dir, 0)))
      try {
        assert.deepEqual(node.notReady(), [])
        assert.equal(node.hasRole('edge'), true)
        assert.equal(node.hasRole('ingest'), false)
      } finally {
        await node.stop()
      }
      assert.equal(node.store.isOpen(), false)
      assert.equal(node.libp2p.status, 'stopped')
      // stop() twice is one stop.
      await node.stop()
    } finally {
      taken.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
