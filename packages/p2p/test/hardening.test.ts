import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FakeClock } from '@diststream/util'
import { multiaddr } from '@multiformats/multiaddr'
import { connectionGater, isLocalNetwork, isNonPublicAddr, MAX_CONNECTIONS_PER_IP } from '../src/gater.js'
import { AUTHOR_BLOCK_POINTS, MAX_PENALISED_PEERS, Penalties, PENALTY_HALF_LIFE_MS } from '../src/penalties.js'
import { KeyedBuckets } from '../src/rate-limit.js'
import { peerScoreParams, SCORE_INVALID_WEIGHT } from '../src/scoring.js'
import { TOPIC_PRESENCE } from '@diststream/protocol'
import type { MultiaddrConnection } from '@libp2p/interface'

describe('keyed token buckets (fake clock)', () => {
  it('allows a burst per key, then the refill rate; keys are independent and the table is bounded', () => {
    const clock = new FakeClock(0)
    const b = new KeyedBuckets({ burst: 3, perSecond: 1 }, 2, clock)
    assert.deepEqual([1, 2, 3, 4].map(() => b.take('a')), [true, true, true, false])
    assert.equal(b.take('b'), true, 'another key has its own bucket')
    clock.advance(1000)
    assert.deepEqual([b.take('a'), b.take('a')], [true, false], 'one token a second')
    b.take('c')
    assert.equal(b.size, 2, 'at most maxKeys buckets')
    assert.equal(b.refused, 2)
  })
})

describe('penalties (fake clock)', () => {
  it('blames refusals on the author being handled, decays them and blocks at the graylist level', () => {
    const clock = new FakeClock(0)
    const p = new Penalties(clock)
    assert.equal(p.blameCurrent('jobs:foreign-job'), undefined, 'outside a handler nobody is blamed')
    p.run('honest', () => { p.blameCurrent('streams:stale-announce') })
    assert.equal(p.points('honest'), 0, 'a refusal a replay can cause is not blamed on the author')
    p.run('honest', () => { p.blameCurrent('jobs:foreign-job'); p.blameCurrent('stream:foreign-segment'); p.blameCurrent('have:foreign-stream') })
    assert.equal(p.points('honest'), 0, 'refusals that depend on what the receiver has bound (a node just restarted) are not blamed')
    p.run('twice', () => { p.blameCurrent('streams:foreign-announce'); p.blameCurrent('streams:foreign-announce') })
    assert.equal(p.points('twice'), 1, 'one message refused by two roles is blamed once')
    for (let i = 0; i < AUTHOR_BLOCK_POINTS; i++) p.run('evil', () => { p.blameCurrent('streams:foreign-announce') })
    assert.equal(p.blocked('evil'), true)
    assert.equal(p.points('honest'), 0)
    assert.ok(peerScoreParams({ penalties: p, localIps: false }).appSpecificScore!('evil') <= -AUTHOR_BLOCK_POINTS, 'gossipsub sees the points as a negative app score')
    clock.advance(PENALTY_HALF_LIFE_MS)
    assert.equal(p.points('evil'), AUTHOR_BLOCK_POINTS / 2, 'halved after a half-life')
    assert.equal(p.blocked('evil'), false)
    for (let i = 0; i < MAX_PENALISED_PEERS + 10; i++) p.add(`sybil-${i}`)
    assert.equal(p.size, MAX_PENALISED_PEERS, 'the table is bounded')
  })

  it('scores P4 on our fixed topics and exempts loopback from IP colocation only in a local network', () => {
    const params = peerScoreParams({ localIps: false })
    assert.equal(params.topics?.[TOPIC_PRESENCE]?.invalidMessageDeliveriesWeight, SCORE_INVALID_WEIGHT)
    assert.equal(params.topics?.[TOPIC_PRESENCE]?.meshMessageDeliveriesWeight, 0, 'P3 off: our topics are quiet')
    assert.equal(params.IPColocationFactorWhitelist?.has('127.0.0.1'), false)
    assert.equal(peerScoreParams({ localIps: true }).IPColocationFactorWhitelist?.has('127.0.0.1'), true)
  })
})

describe('connection gater and address filter', () => {
  const conn = (addr: string): MultiaddrConnection => ({ remoteAddr: multiaddr(addr) }) as unknown as MultiaddrConnection

  it('tells non-public addresses from public ones', () => {
    for (const a of ['/ip4/127.0.0.1/tcp/1', '/ip4/10.1.2.3/tcp/1', '/ip4/192.168.1.1/tcp/1', '/ip4/169.254.1.1/tcp/1', '/ip6/::1/tcp/1', '/ip6/fe80::1/tcp/1', '/dns4/localhost/tcp/1']) {
      assert.equal(isNonPublicAddr(multiaddr(a)), true, a)
    }
    assert.equal(isNonPublicAddr(multiaddr('/ip4/8.8.8.8/tcp/1')), false)
  })

  it('a local network: every listen and bootstrap address private, or mDNS; a public or wildcard address is not', () => {
    assert.equal(isLocalNetwork({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] }), true)
    assert.equal(isLocalNetwork({ listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: [] }), false)
    assert.equal(isLocalNetwork({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: ['/ip4/8.8.8.8/tcp/4001/p2p/12D3KooWAbc'] }), false)
    assert.equal(isLocalNetwork({ listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: [], mdns: true }), true)
  })

  it('refuses dials to non-public addresses outside a local network, and inbound connections past the per-IP cap', () => {
    const refused: string[] = []
    let open = 0
    const g = connectionGater({ allowPrivateAddrs: false, connectionsFrom: () => open, onRefused: (r) => { refused.push(r) } })
    assert.equal(g.denyDialMultiaddr!(multiaddr('/ip4/10.0.0.5/tcp/22')), true)
    assert.equal(g.denyDialMultiaddr!(multiaddr('/ip4/8.8.8.8/tcp/4001')), false)
    open = MAX_CONNECTIONS_PER_IP - 1
    assert.equal(g.denyInboundConnection!(conn('/ip4/1.2.3.4/tcp/5')), false)
    open = MAX_CONNECTIONS_PER_IP
    assert.equal(g.denyInboundConnection!(conn('/ip4/1.2.3.4/tcp/5')), true)
    assert.equal(g.denyInboundConnection!(conn('/ip4/127.0.0.1/tcp/5')), true, 'loopback is capped outside a local network')
    const relayed = '/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWDRKPgkPWtL5qDPPdNb52D6HMK2WXuagh2vSv3y2oeeA7/p2p-circuit/p2p/12D3KooWDZiFQJZU7mVUUuhR1nRnAJdwBfXMNHvVgBxokMf55LYS'
    assert.equal(g.denyInboundConnection!(conn(relayed)), false, 'a relayed connection carries the relay\'s address: not counted against it')
    assert.deepEqual(refused, ['private-addr', 'per-ip', 'per-ip'])
    const local = connectionGater({ allowPrivateAddrs: true, connectionsFrom: () => 1000 })
    assert.equal(local.denyDialMultiaddr!(multiaddr('/ip4/10.0.0.5/tcp/22')), false)
    assert.equal(local.denyInboundConnection!(conn('/ip4/127.0.0.1/tcp/5')), false, 'a local network: every node is on loopback')
    assert.equal(local.denyInboundConnection!(conn('/ip4/1.2.3.4/tcp/5')), true)
  })
})
