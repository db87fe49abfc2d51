import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chooseSource, HolderTable } from '../src/holders.js'
import type { SourceState } from '../src/holders.js'

const base: SourceState = { ingest: 'I', self: 'S', holders: [], failed: new Set(), ingestBusy: false, elapsedMs: 0 }
const opts = { fallbackMs: 3000, random: () => 0 }

describe('chooseSource: where an edge fetches a rendition segment from', () => {
  it('asks the ingest (accepting BUSY) while nobody else is known to hold it', () => {
    assert.deepEqual(chooseSource(base, opts), { kind: 'fetch', peer: 'I', acceptBusy: true })
  })
  it('prefers other holders to the ingest, never itself', () => {
    assert.deepEqual(chooseSource({ ...base, holders: ['S', 'I', 'A'] }, opts), { kind: 'fetch', peer: 'A', acceptBusy: true })
  })
  it('picks among holders at random (the load spreads)', () => {
    const s = { ...base, holders: ['A', 'B', 'C', 'A'] }
    const picks = [0, 0.34, 0.67, 0.9999].map(x => chooseSource(s, { ...opts, random: () => x }))
    assert.deepEqual(picks.map(p => p.kind === 'fetch' ? p.peer : '-'), ['A', 'B', 'C', 'C'])
  })
  it('skips holders that failed this fetch', () => {
    assert.deepEqual(chooseSource({ ...base, holders: ['A', 'B'], failed: new Set(['A']) }, opts), { kind: 'fetch', peer: 'B', acceptBusy: true })
  })
  it('after the ingest said BUSY and no holder is left, waits for a holder to be announced', () => {
    const c = chooseSource({ ...base, holders: ['A'], failed: new Set(['A']), ingestBusy: true, elapsedMs: 1000 }, opts)
    assert.equal(c.kind, 'wait')
    assert.ok(c.kind === 'wait' && c.ms > 0 && c.ms <= 250)
    // never past the fallback time
    const late = chooseSource({ ...base, ingestBusy: true, elapsedMs: 2990 }, opts)
    assert.deepEqual(late, { kind: 'wait', ms: 10 })
  })
  it('falls back to the ingest without accept_busy (it must serve) once fallbackMs passed', () => {
    assert.deepEqual(chooseSource({ ...base, ingestBusy: true, elapsedMs: 3000 }, opts), { kind: 'fetch', peer: 'I', acceptBusy: false })
    assert.deepEqual(chooseSource({ ...base, failed: new Set(['I']), elapsedMs: 5000 }, opts), { kind: 'fetch', peer: 'I', acceptBusy: false })
  })
  it('fake holders cost at most maxHolderAttempts attempts, or until fallbackMs: then the ingest, which must serve', () => {
    const s = { ...base, holders: ['A', 'B', 'C'], ingestBusy: true }
    assert.deepEqual(chooseSource({ ...s, holderAttempts: 1 }, opts), { kind: 'fetch', peer: 'A', acceptBusy: true })
    assert.deepEqual(chooseSource({ ...s, holderAttempts: 2 }, opts), { kind: 'fetch', peer: 'I', acceptBusy: false })
    assert.deepEqual(chooseSource({ ...s, holderAttempts: 2, ingestBusy: false }, opts), { kind: 'fetch', peer: 'I', acceptBusy: true })
    assert.deepEqual(chooseSource({ ...s, holderAttempts: 0, elapsedMs: 3000 }, opts), { kind: 'fetch', peer: 'I', acceptBusy: false })
  })
  it('a failed ingest (not busy) is not asked again before the fallback time', () => {
    assert.equal(chooseSource({ ...base, failed: new Set(['I']), elapsedMs: 100 }, opts).kind, 'wait')
  })
})

describe('HolderTable: who holds what, bounded', () => {
  it('records have-lists per rendition and forgets failed holders', () => {
    const t = new HolderTable()
    t.add(5, ['720p', 'source'], 'A')
    t.add(5, ['720p'], 'B')
    t.add(5, ['720p'], 'A')
    assert.deepEqual(t.holders(5, '720p'), ['A', 'B'])
    assert.deepEqual(t.holders(5, 'source'), ['A'])
    assert.deepEqual(t.holders(6, '720p'), [])
    t.remove(5, '720p', 'A')
    assert.deepEqual(t.holders(5, '720p'), ['B'])
  })
  it('keeps the newest segments only, and ignores claims older than all of them', () => {
    const t = new HolderTable({ maxSeqs: 3 })
    for (const seq of [1, 2, 3, 4]) t.add(seq, ['r'], 'A')
    assert.equal(t.size, 3)
    assert.deepEqual(t.holders(1, 'r'), [])
    assert.deepEqual(t.holders(4, 'r'), ['A'])
    t.add(0, ['r'], 'B')
    assert.deepEqual(t.holders(0, 'r'), [])
    assert.equal(t.size, 3)
  })
  it('keeps at most maxHolders per rendition segment (the newest)', () => {
    const t = new HolderTable({ maxHolders: 2 })
    for (const p of ['A', 'B', 'C']) t.add(1, ['r'], p)
    assert.deepEqual(t.holders(1, 'r'), ['B', 'C'])
  })
})
