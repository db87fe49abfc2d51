import assert from 'node:assert/strict'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { API_TOKEN_FILE, ApiTokenError, bearerMatches, loadOrCreateApiToken } from '../src/http/auth.js'

describe('API token', () => {
  it('matches only `Bearer <the token>`', () => {
    const t = 'abcdefghijklmnop0123'
    assert.equal(bearerMatches(`Bearer ${t}`, t), true)
    assert.equal(bearerMatches(`bearer ${t}`, t), true)
    for (const h of [undefined, '', t, `Bearer ${t}x`, `Bearer ${t.slice(1)}`, `Basic ${t}`, 'Bearer', 'Bearer ', `Bearer ${t} extra`, `Bearer  ${t.toUpperCase()}`]) {
      assert.equal(bearerMatches(h, t), false, String(h))
    }
  })

  it('uses the configured token, else creates one (0600) once and keeps it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-token-'))
    try {
      assert.deepEqual(await loadOrCreateApiToken(dir, 'configured-token-123'), { token: 'configured-token-123', created: false })
      const first = await loadOrCreateApiToken(dir)
      assert.equal(first.created, true)
      assert.ok(Buffer.from(first.token, 'base64url').byteLength >= 32)
      assert.equal((await stat(join(dir, API_TOKEN_FILE))).mode & 0o777, 0o600)
      const again = await loadOrCreateApiToken(dir)
      assert.deepEqual([again.token, again.created], [first.token, false])
      await writeFile(join(dir, API_TOKEN_FILE), 'bad token\n')
      await assert.rejects(loadOrCreateApiToken(dir), (err: Error) => err.name === ApiTokenError.NAME)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
