import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock, judgePictures, OFFENDER_INVALID, orderByStanding, PROBATION_JOBS, ReputationBook, standingOf, type Standing } from '../src/index.js'
import { bid } from './helpers.js'

describe('probation (review H1)', () => {
  it('a worker is on probation until PROBATION_JOBS verified jobs; recent invalid output makes it an offender', () => {
    assert.equal(standingOf(undefined), 'probation')
    assert.equal(standingOf(undefined, 0), 'proven')
    assert.equal(standingOf({ totalOk: PROBATION_JOBS - 1, invalid: 0 }), 'probation')
    assert.equal(standingOf({ totalOk: PROBATION_JOBS, invalid: 0 }), 'proven')
    assert.equal(standingOf({ totalOk: 1000, invalid: OFFENDER_INVALID }), 'offender')
    assert.equal(standingOf({ totalOk: 1000, invalid: OFFENDER_INVALID / 2 }), 'proven')
  })

  it('the reputation book: verified jobs prove a worker; an invalid result sends it back until it decays', () => {
    const clock = new FakeClock()
    const book = new ReputationBook({ clock, halfLifeMs: 60_000 })
    assert.equal(book.standing('w', 3), 'probation')
    for (let i = 0; i < 3; i++) book.observe('w', { outcome: 'ok' })
    assert.equal(book.standing('w', 3), 'proven')
    book.penalise('w')
    assert.equal(book.standing('w', 3), 'offender')
    clock.advance(59_000)
    assert.equal(book.standing('w', 3), 'offender', 'still above OFFENDER_INVALID before one half-life')
    clock.advance(2000)
    assert.equal(book.standing('w', 3), 'proven', 'one invalid result fades after a half-life')
  })

  it('judgePictures: every rendition must be above the floor', () => {
    assert.equal(judgePictures([35, 41.2, Infinity]), 'pass')
    assert.equal(judgePictures([35, 16.4]), 'bad')
    assert.equal(judgePictures([NaN]), 'bad')
    assert.equal(judgePictures([]), 'bad')
  })

  it('orderByStanding: the winner stays first unless an offender or suspended; then proven, probation; offenders and suspended only when nobody else bid', () => {
    const standing = new Map<string, Standing>([['p1', 'proven'], ['p2', 'proven'], ['n1', 'probation'], ['o1', 'offender'], ['s1', 'proven']])
    const st = (p: string): Standing => standing.get(p)!
    const susp = (p: string): boolean => p === 's1'
    const ids = (order: string[]): string[] => orderByStanding(order.map(p => bid(p)), st, susp).map(b => b.peerId)
    assert.deepEqual(ids(['n1', 'o1', 's1', 'p2', 'p1']), ['n1', 'p2', 'p1'])
    assert.deepEqual(ids(['o1', 'n1', 'p1']), ['p1', 'n1'])
    assert.deepEqual(ids(['s1', 'o1', 'p1']), ['p1'])
    // Nobody else: offenders, then suspended workers, are tried.
    assert.deepEqual(ids(['s1', 'o1']), ['o1', 's1'])
    assert.deepEqual(ids([]), [])
    // Among those on probation, a better reputation first (the proven keep their ranked order).
    standing.set('n2', 'probation')
    const rep = (p: string): number => (p === 'n2' ? 0.8 : 0.5)
    assert.deepEqual(orderByStanding(['p1', 'n1', 'n2', 'p2'].map(p => bid(p)), st, susp, rep).map(b => b.peerId), ['p1', 'p2', 'n2', 'n1'])
  })
})
