/** /readyz: ready once libp2p, the roles and the store are up; the reasons when not (a real node, in-process). */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseConfig } from '../src/config.js'
import { createNode } from '../src/node.js'

describe('/readyz', () => {
  it('200 while every part runs; after stop the reasons name what is down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-readyz-'))
    const node = await createNode(await parseConfig(['--role', 'edge', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--http-host', '127.0.0.1', '--http-port', '0', '--log-level', 'silent']))
    try {
      const res = await fetch(`${node.httpUrl}/readyz`)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { ready: true, reasons: [] })
      assert.equal((await fetch(`${node.httpUrl}/healthz`)).status, 200)
    } finally {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    }
    const reasons = node.notReady()
    assert.ok(reasons.includes('libp2p stopped'), reasons.join(', '))
    assert.ok(reasons.includes('store closed'), reasons.join(', '))
    assert.ok(reasons.includes('roles not started'), reasons.join(', '))
    assert.ok(reasons.includes('edge not started'), reasons.join(', '))
  })
})
