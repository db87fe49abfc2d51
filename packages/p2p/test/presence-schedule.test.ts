import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FakeClock } from '@diststream/util'
import { nextWalkDelay } from '../src/discovery.js'
import { nextPresenceAt, presenceExpired, presenceExpiryMs, presenceKeepAliveMs } from '../src/presence-schedule.js'

const timing = { minGapMs: 1000, keepAliveMs: 20_000, networkBudgetPerS: 1 }

describe('presence schedule (pure)', () => {
  it('announces at once the first time, on a change within the rate bound, else on the keep-alive', () => {
    const clock = new FakeClock(1_000_000)
    assert.equal(nextPresenceAt({ urgent: false, knownPeers: 5 }, timing), 0, 'never announced: now')
    const lastAt = clock.now()
    assert.equal(nextPresenceAt({ lastAt, urgent: true, knownPeers: 5 }, timing), lastAt + 1000, 'a change waits for the rate bound')
    assert.equal(nextPresenceAt({ lastAt, urgent: false, knownPeers: 5 }, timing), lastAt + 20_000, 'nothing changed: the keep-alive')
    // 100 changes in a second still make one announcement in that second
    let sent = 0
    let last = lastAt
    for (let i = 0; i < 100; i++) {
      clock.advance(10)
      if (clock.now() >= nextPresenceAt({ lastAt: last, urgent: true, knownPeers: 5 }, timing)) { sent++; last = clock.now() }
    }
    assert.equal(sent, 1)
  })

  it('stretches the keep-alive with the network: the whole network stays within its budget', () => {
    assert.equal(presenceKeepAliveMs(15, timing), 20_000, '16 nodes: the shortest keep-alive')
    assert.equal(presenceKeepAliveMs(59, timing), 60_000, '60 nodes: one keep-alive a second for the whole network')
    assert.equal(presenceKeepAliveMs(9999, timing), 10_000_000)
    assert.equal(presenceExpiryMs(59, timing), 3 * 60_000 + 5000)
    assert.equal(nextPresenceAt({ lastAt: 0, urgent: false, knownPeers: 59 }, timing), 60_000)
    assert.equal(nextPresenceAt({ lastAt: 0, urgent: true, knownPeers: 59 }, timing), 1000, 'a change still goes out within the rate bound')
  })

  it('forgets a silent peer after the expiry, a disconnected one sooner unless it spoke since', () => {
    const now = 1_000_000
    assert.equal(presenceExpired({ lastSeen: now - 64_999 }, now, { expiryMs: 65_000 }), false)
    assert.equal(presenceExpired({ lastSeen: now - 65_000 }, now, { expiryMs: 65_000 }), true)
    assert.equal(presenceExpired({ lastSeen: now - 20_000, disconnectedAt: now - 9_999 }, now, { disconnectedExpiryMs: 10_000 }), false)
    assert.equal(presenceExpired({ lastSeen: now - 20_000, disconnectedAt: now - 10_000 }, now, { disconnectedExpiryMs: 10_000 }), true)
    assert.equal(presenceExpired({ lastSeen: now - 5_000, disconnectedAt: now - 15_000 }, now, { disconnectedExpiryMs: 10_000 }), false, 'it announced after the disconnect')
  })

  it('random walks back off while they meet nobody new', () => {
    assert.equal(nextWalkDelay(1000, 0, 30_000, 600_000), 30_000)
    assert.equal(nextWalkDelay(30_000, 0, 30_000, 600_000), 60_000)
    assert.equal(nextWalkDelay(480_000, 0, 30_000, 600_000), 600_000)
    assert.equal(nextWalkDelay(600_000, 0, 30_000, 600_000), 600_000)
    assert.equal(nextWalkDelay(600_000, 2, 30_000, 600_000), 30_000, 'a walk that met someone: back to the base')
  })
})
