/**
 * Network-wide viewer counts without a network (issue 16): the sum of each
 * edge's latest claim, claims expiring, one edge's claim capped, the peer
 * table bounded; when an edge sends (ReportSchedule); what a player request
 * is (playerRequest). All on a fake clock.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_VIEWERS_PER_CLAIM, VIEWER_CLAIM_TTL_MS, VIEWER_REPORT_KEEPALIVE_MS, VIEWER_REPORT_MIN_INTERVAL_MS } from '@diststream/protocol'
import { FakeClock } from '@diststream/util'
import { NetworkViewers } from '../src/viewers/network-viewers.js'
import { ReportSchedule } from '../src/viewers/report-schedule.js'
import { playerRequest, ViewerCounter } from '../src/http/viewers.js'

describe('NetworkViewers', () => {
  it('sums the latest claim of each edge; a new claim replaces the old one entirely', () => {
    const clock = new FakeClock(1000)
    const n = new NetworkViewers({ clock })
    n.apply('edgeB', 1, [{ streamId: 's', viewers: 2 }, { streamId: 't', viewers: 5 }])
    n.apply('edgeC', 1, [{ streamId: 's', viewers: 1 }])
    assert.equal(n.count('s'), 3)
    assert.equal(n.count('t'), 5)
    n.apply('edgeB', 2, [{ streamId: 's', viewers: 1 }])
    assert.equal(n.count('s'), 2)
    assert.equal(n.count('t'), 0, 'left out of the new claim: no viewers there any more')
    assert.deepEqual([...n.totals()], [['s', 2]])
    // An empty claim forgets the edge.
    n.apply('edgeB', 3, [])
    n.apply('edgeC', 2, [])
    assert.equal(n.size, 0)
  })

  it('ignores an older message of the same edge (reordered gossip)', () => {
    const clock = new FakeClock(0)
    const n = new NetworkViewers({ clock })
    assert.equal(n.apply('e', 10, [{ streamId: 's', viewers: 4 }]).applied, true)
    assert.equal(n.apply('e', 9, [{ streamId: 's', viewers: 99 }]).applied, false)
    assert.equal(n.count('s'), 4)
  })

  it('forgets a claim VIEWER_CLAIM_TTL_MS after its last message, and refreshes on each message', () => {
    const clock = new FakeClock(0)
    const n = new NetworkViewers({ clock })
    n.apply('e1', 1, [{ streamId: 's', viewers: 2 }])
    clock.advance(VIEWER_CLAIM_TTL_MS / 2)
    n.apply('e2', 1, [{ streamId: 's', viewers: 3 }])
    assert.equal(n.count('s'), 5)
    clock.advance(VIEWER_CLAIM_TTL_MS / 2)
    assert.equal(n.count('s'), 3, 'e1 expired, e2 still live')
    n.apply('e2', 2, [{ streamId: 's', viewers: 3 }]) // keep-alive
    clock.advance(VIEWER_CLAIM_TTL_MS - 1)
    assert.equal(n.count('s'), 3)
    clock.advance(1)
    assert.equal(n.count('s'), 0)
    assert.equal(n.size, 0)
  })

  it('caps one edge\'s claim per stream, and says so', () => {
    const n = new NetworkViewers({ clock: new FakeClock(0) })
    const out = n.apply('liar', 1, [{ streamId: 's', viewers: 4_000_000_000 }, { streamId: 't', viewers: 7 }])
    assert.equal(out.capped, 1)
    assert.equal(n.count('s'), MAX_VIEWERS_PER_CLAIM)
    assert.equal(n.count('t'), 7)
  })

  it('remembers at most maxPeers edges: expired ones go first, then the least recently heard', () => {
    const clock = new FakeClock(0)
    const n = new NetworkViewers({ clock, maxPeers: 3, ttlMs: 1000 })
    n.apply('a', 1, [{ streamId: 's', viewers: 1 }])
    clock.advance(600)
    n.apply('b', 1, [{ streamId: 's', viewers: 10 }])
    n.apply('c', 1, [{ streamId: 's', viewers: 100 }])
    clock.advance(500) // a expired
    assert.equal(n.apply('d', 1, [{ streamId: 's', viewers: 1000 }]).evicted, false)
    assert.equal(n.count('s'), 1110)
    n.apply('b', 2, [{ streamId: 's', viewers: 10 }]) // b heard again: c is now the least recent
    const out = n.apply('e', 1, [{ streamId: 's', viewers: 10000 }])
    assert.equal(out.evicted, true)
    assert.equal(n.size, 3)
    assert.equal(n.count('s'), 11010, 'c (100) was forgotten')
    for (let i = 0; i < 1000; i++) n.apply(`sybil${i}`, 1, [{ streamId: 's', viewers: 1 }])
    assert.equal(n.size, 3, 'a flood of peer ids cannot grow the table')
  })
})

describe('ReportSchedule', () => {
  const counts = (v: number): Array<{ streamId: string, viewers: number }> => v === 0 ? [] : [{ streamId: 's', viewers: v }]

  it('sends on a change at most every VIEWER_REPORT_MIN_INTERVAL_MS, a keep-alive while it has viewers, nothing when idle', () => {
    const s = new ReportSchedule()
    let t = 0
    assert.equal(s.due(counts(0), t), false, 'nothing to say, nothing said')
    assert.equal(s.due(counts(2), t), true)
    assert.equal(s.due(counts(3), t += 1000), false, 'rate bound')
    assert.equal(s.due(counts(3), t += VIEWER_REPORT_MIN_INTERVAL_MS), true, 'the change, once the bound allows')
    assert.equal(s.due(counts(3), t += VIEWER_REPORT_MIN_INTERVAL_MS), false, 'no change, no message')
    assert.equal(s.due(counts(3), t += VIEWER_REPORT_KEEPALIVE_MS), true, 'keep-alive')
    assert.equal(s.due(counts(0), t += VIEWER_REPORT_MIN_INTERVAL_MS), true, 'the drop to none is said once')
    for (let i = 0; i < 10; i++) assert.equal(s.due(counts(0), t += VIEWER_REPORT_KEEPALIVE_MS), false, 'idle: silent')
  })

  it('a newcomer on the topic gets one more message, rate-bounded, only if there is something to say', () => {
    const s = new ReportSchedule()
    s.nudge()
    assert.equal(s.due(counts(0), 0), false)
    assert.equal(s.due(counts(1), 0), true)
    s.nudge()
    assert.equal(s.due(counts(1), 1), false)
    assert.equal(s.due(counts(1), VIEWER_REPORT_MIN_INTERVAL_MS), true)
    assert.equal(s.due(counts(1), 2 * VIEWER_REPORT_MIN_INTERVAL_MS), false)
  })
})

describe('viewers of one edge', () => {
  it('playerRequest: playlists, manifests and segments answered 200/206/304 are a player\'s; a thumbnail or a 404 is not', () => {
    assert.equal(playerRequest('/live/abc/index.m3u8', 200), 'abc')
    assert.equal(playerRequest('/live/abc/manifest.mpd', 200), 'abc')
    assert.equal(playerRequest('/live/abc/240p/17.m4s', 206), 'abc')
    assert.equal(playerRequest('/live/abc/240p/17.ts?x=1', 304), 'abc')
    assert.equal(playerRequest('/live/abc/thumbnail.jpg', 200), undefined)
    assert.equal(playerRequest('/live/abc/index.m3u8', 404), undefined)
    assert.equal(playerRequest('/api/streams/abc', 200), undefined)
  })

  it('ViewerCounter: distinct clients in the window', () => {
    const clock = new FakeClock(0)
    const c = new ViewerCounter(30_000, 10_000, 1000, () => clock.now())
    c.seen('s', 'a')
    c.seen('s', 'b')
    c.seen('s', 'a')
    assert.equal(c.count('s'), 2)
    clock.advance(30_001)
    assert.equal(c.count('s'), 0)
  })
})
