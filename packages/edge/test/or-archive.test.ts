import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { orArchive } from '../src/rendition-fetcher.js'

const later = async <T>(ms: number, v: T): Promise<T> => await new Promise(resolve => setTimeout(() => { resolve(v) }, ms))
const failLater = async (ms: number): Promise<never> => await new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('network')) }, ms))

describe('orArchive: the archive as a fallback for a segment fetch', () => {
  it('the network copy when it comes in time; the archive untouched', async () => {
    let asked = 0
    assert.equal(await orArchive(later(5, 'net'), async () => { asked++; return 'arc' }, 1000), 'net')
    assert.equal(asked, 0)
  })

  it('the archive at once when the network fails, and the network error when the archive has none', async () => {
    assert.equal(await orArchive(failLater(5), async () => 'arc', 10_000), 'arc')
    await assert.rejects(orArchive(failLater(5), async () => undefined, 10_000), /network/)
  })

  it('the archive after the delay while the network hangs; without a copy, the network still decides', async () => {
    const t0 = Date.now()
    assert.equal(await orArchive(later(1500, 'net'), async () => 'arc', 30), 'arc')
    assert.ok(Date.now() - t0 < 1000)
    let asked = 0
    assert.equal(await orArchive(later(80, 'net'), async () => { asked++; return undefined }, 20), 'net')
    await assert.rejects(orArchive(failLater(80), async () => { asked++; return undefined }, 20), /network/)
    assert.equal(asked, 2, 'read once per fetch')
  })
})
