import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, ReputationBook, rankBids, type WorkerRecord } from '../src/index.js'
import { bid } from './helpers.js'

describe('ReputationBook', () => {
  it('starts neutral, rises with successes and falls with failures', () => {
    const book = new ReputationBook({ clock: new FakeClock() })
    assert.equal(book.score('w'), 0.5)
    for (let i = 0; i < 8; i++) book.observe('good', { outcome: 'ok' })
    book.observe('bad', { outcome: 'error' })
    book.observe('bad', { outcome: 'error' })
    book.observe('bad', { outcome: 'ok' })
    assert.ok(book.score('good') > 0.85, String(book.score('good')))
    assert.ok(book.score('bad') < 0.5)
    assert.deepEqual(book.list().map(r => r.peerId), ['good', 'bad'])
  })

  it('weighs invalid output worse than an error, an error worse than lateness; a lost hedge race counts only when late', () => {
    const book = new ReputationBook({ clock: new FakeClock() })
    book.observe('liar', { outcome: 'invalid' })
    book.observe('crash', { outcome: 'error' })
    book.observe('slow', { outcome: 'ok', elapsedMs: 3000, estimateMs: 1000 })
    book.observe('quick', { outcome: 'ok', elapsedMs: 1100, estimateMs: 1000 })
    assert.equal(book.observe('lost-race', { outcome: 'cancelled', elapsedMs: 900, estimateMs: 1000 }), undefined)
    assert.equal(book.observe('late-loser', { outcome: 'cancelled', elapsedMs: 5000, estimateMs: 1000 })?.late, 1)
    assert.ok(book.score('liar') < book.score('crash'))
    assert.ok(book.score('crash') < book.score('slow'))
    assert.ok(book.score('slow') < book.score('quick'))
    assert.equal(book.get('slow')?.late, 1)
    assert.equal(book.get('quick')?.late, 0)
    assert.equal(book.get('lost-race'), undefined)
  })

  it('suspends a worker after repeated failures, with back-off, then tries it again', () => {
    const clock = new FakeClock()
    const book = new ReputationBook({ clock, suspendAfter: 3, suspensionMs: 1000, maxSuspensionMs: 3000 })
    book.observe('w', { outcome: 'error' })
    book.observe('w', { outcome: 'timeout' })
    assert.equal(book.suspended('w'), false)
    book.observe('w', { outcome: 'invalid' })
    assert.equal(book.suspended('w'), true)
    clock.advance(1000)
    assert.equal(book.suspended('w'), false) // tried again
    for (let i = 0; i < 3; i++) book.observe('w', { outcome: 'error' })
    assert.equal(book.get('w')?.suspendedUntil, clock.now() + 2000) // doubled
    clock.advance(2000)
    for (let i = 0; i < 3; i++) book.observe('w', { outcome: 'error' })
    assert.equal(book.get('w')?.suspendedUntil, clock.now() + 3000) // capped
    clock.advance(3000)
    book.observe('w', { outcome: 'error' })
    book.observe('w', { outcome: 'error' })
    book.observe('w', { outcome: 'ok' }) // a success clears the streak
    book.observe('w', { outcome: 'error' })
    assert.equal(book.suspended('w'), false)
  })

  it('busy refusals cost little and never suspend', () => {
    const book = new ReputationBook({ clock: new FakeClock(), suspendAfter: 2 })
    for (let i = 0; i < 5; i++) book.observe('busy', { outcome: 'rejected' })
    assert.equal(book.suspended('busy'), false)
    assert.ok(book.score('busy') > 0.3)
  })

  it('old offences fade with the half-life', () => {
    const clock = new FakeClock()
    const book = new ReputationBook({ clock, halfLifeMs: 1000 })
    for (let i = 0; i < 6; i++) book.observe('w', { outcome: 'error' })
    const fresh = book.score('w')
    clock.advance(5000)
    assert.ok(book.score('w') > fresh + 0.2, `${book.score('w')} vs ${fresh}`)
  })

  it('persists through onChange and restores, skipping malformed records', () => {
    const saved = new Map<string, WorkerRecord>()
    const clock = new FakeClock()
    const a = new ReputationBook({ clock, onChange: r => saved.set(r.peerId, r) })
    a.observe('w1', { outcome: 'ok' })
    a.observe('w2', { outcome: 'invalid' })
    const b = new ReputationBook({ clock })
    const n = b.restore([...saved.values(), { peerId: '', successes: 1 } as unknown as WorkerRecord, { ...saved.get('w1')!, failures: -1 }])
    assert.equal(n, 2)
    assert.equal(b.score('w1'), a.score('w1'))
    assert.equal(b.score('w2'), a.score('w2'))
  })

  it('forgets the least recently seen beyond maxWorkers', () => {
    const evicted: string[] = []
    const book = new ReputationBook({ clock: new FakeClock(), maxWorkers: 2, onEvict: id => evicted.push(id) })
    book.observe('a', { outcome: 'ok' })
    book.observe('b', { outcome: 'ok' })
    book.observe('a', { outcome: 'ok' })
    book.observe('c', { outcome: 'ok' })
    assert.deepEqual(book.list().map(r => r.peerId).sort(), ['a', 'c'])
    assert.deepEqual(evicted, ['b'], 'the persisted row of a forgotten worker goes too (M13)')
  })

  it('restores the most recently seen records past maxWorkers, and evicts the rest (M13)', () => {
    const evicted: string[] = []
    const book = new ReputationBook({ clock: new FakeClock(), maxWorkers: 2, onEvict: id => evicted.push(id) })
    const rec = (peerId: string, lastSeenAt: number): any => ({ peerId, successes: 1, failures: 0, late: 0, invalid: 0, totalOk: 1, totalFailed: 0, consecutiveFailures: 0, suspensions: 0, suspendedUntil: 0, updatedAt: lastSeenAt, lastSeenAt })
    book.restore([rec('new', 30), rec('old', 10), rec('mid', 20)])
    assert.deepEqual(book.list().map(r => r.peerId).sort(), ['mid', 'new'])
    assert.deepEqual(evicted, ['old'])
  })

  it('feeds rankBids: the reputable worker wins an equal bid', () => {
    const book = new ReputationBook({ clock: new FakeClock() })
    for (let i = 0; i < 4; i++) book.observe('x', { outcome: 'ok' })
    book.observe('y', { outcome: 'invalid' })
    const ranked = rankBids([bid('y'), bid('x')], { reputation: p => book.score(p) })
    assert.deepEqual(ranked.map(b => b.peerId), ['x', 'y'])
  })
})
