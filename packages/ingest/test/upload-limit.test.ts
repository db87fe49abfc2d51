import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ServeLimits, UploadLimiter } from '../src/upload-limit.js'

describe('UploadLimiter: the ingest serves a few copies per rendition segment', () => {
  it('serves the first maxCopies swarming peers, then answers BUSY naming them', () => {
    const l = new UploadLimiter({ maxCopies: 2 })
    assert.deepEqual(l.decide('s/720p/1', 'A', { acceptBusy: true }), { serve: true })
    assert.deepEqual(l.decide('s/720p/1', 'B', { acceptBusy: true }), { serve: true })
    assert.deepEqual(l.decide('s/720p/1', 'C', { acceptBusy: true }), { serve: false, holders: ['A', 'B'] })
    assert.deepEqual(l.decide('s/720p/1', 'D', { acceptBusy: true }), { serve: false, holders: ['A', 'B'] })
    // another rendition or segment has its own count
    assert.deepEqual(l.decide('s/480p/1', 'C', { acceptBusy: true }), { serve: true })
    assert.equal(l.copies('s/720p/1'), 2)
    assert.equal(l.busy, 2)
    assert.equal(l.served, 3)
    assert.equal(l.maxCopiesServed(), 2)
  })
  it('a peer that was served may ask again (a failed transfer), and is counted', () => {
    const l = new UploadLimiter({ maxCopies: 1 })
    assert.equal(l.decide('k', 'A', { acceptBusy: true }).serve, true)
    assert.equal(l.decide('k', 'A', { acceptBusy: true }).serve, true)
    assert.equal(l.copies('k'), 2)
  })
  it('always serves requests without accept_busy (old edges, last resort) and counts them', () => {
    const l = new UploadLimiter({ maxCopies: 1 })
    l.decide('k', 'A', { acceptBusy: true })
    assert.deepEqual(l.decide('k', 'B', { acceptBusy: false }), { serve: true })
    assert.equal(l.copies('k'), 2)
  })
  it('requests from this node itself are free and uncounted', () => {
    const l = new UploadLimiter({ maxCopies: 1 })
    assert.equal(l.decide('k', 'self', { acceptBusy: true, self: true }).serve, true)
    assert.equal(l.decide('k', 'A', { acceptBusy: true }).serve, true)
    assert.equal(l.decide('k', 'B', { acceptBusy: true }).serve, false)
    assert.equal(l.served, 1)
  })
  it('remembers a bounded number of segments, oldest forgotten first', () => {
    const l = new UploadLimiter({ maxCopies: 1, maxEntries: 3 })
    for (let i = 0; i < 5; i++) l.decide(`k${i}`, 'A', { acceptBusy: true })
    assert.equal(l.copies('k0'), 0)
    assert.equal(l.copies('k4'), 1)
    // forgotten: served again
    assert.equal(l.decide('k0', 'B', { acceptBusy: true }).serve, true)
  })
})

describe('ServeLimits: serves in flight, globally and per peer (H6)', () => {
  it('refuses a peer past its own limit, anyone past the global one, and frees on release', () => {
    const l = new ServeLimits(3, 2)
    assert.equal(l.acquire('A'), undefined)
    assert.equal(l.acquire('A'), undefined)
    assert.equal(l.acquire('A'), 'peer_limit')
    assert.equal(l.acquire('B'), undefined)
    assert.equal(l.acquire('C'), 'global_limit')
    assert.equal(l.active, 3)
    l.release('A')
    assert.equal(l.acquire('C'), undefined)
    l.release('nobody')
    assert.equal(l.active, 3, 'releasing a peer with nothing in flight changes nothing')
    for (const p of ['A', 'B', 'C']) l.release(p)
    assert.equal(l.active, 0)
  })
})
