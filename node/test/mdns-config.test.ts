import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseConfig } from '../src/config.js'

describe('config: --mdns', () => {
  it('is off by default, on with --mdns or DISTSTREAM_MDNS=true', async () => {
    assert.equal((await parseConfig([])).mdns, false)
    assert.equal((await parseConfig(['--mdns'])).mdns, true)
    assert.equal((await parseConfig(['--no-mdns'])).mdns, false)
    process.env.DISTSTREAM_MDNS = 'true'
    try {
      assert.equal((await parseConfig([])).mdns, true)
    } finally {
      delete process.env.DISTSTREAM_MDNS
    }
  })
})
