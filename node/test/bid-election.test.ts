import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bidElection } from '../src/bid-election.js'
import type { JobAnnounce } from '@diststream/protocol'

const job = (jobId: string): JobAnnounce => ({ jobId } as unknown as JobAnnounce)

function network (n: number, busy: Set<string> = new Set()): { ids: string[], presenceOf: (self: string) => { withRole: () => any[] } } {
  const ids = Array.from({ length: n }, (_, i) => `worker-${i}`)
  return {
    ids,
    presenceOf: (self) => ({
      withRole: () => ids.filter(id => id !== self).map(peerId => ({ peerId, activeJobs: busy.has(peerId) ? 1 : 0, maxJobs: 1, connected: true, direct: true }))
    })
  }
}

describe('bidElection', () => {
  it('every free worker bids in a small network', () => {
    const net = network(3)
    for (const self of net.ids) assert.equal(bidElection(self, net.presenceOf(self) as never)(job('j1')), true)
  })

  it('in a large network exactly k free workers bid, and the election widens on each re-announce', () => {
    const net = network(200)
    const deciders = net.ids.map(self => bidElection(self, net.presenceOf(self) as never, 4))
    for (const jobId of ['a', 'b', 'c']) {
      assert.equal(deciders.filter(d => d(job(jobId))).length, 4, `first announce of ${jobId}`)
      assert.equal(deciders.filter(d => d(job(jobId))).length, 8, `second announce of ${jobId}`)
    }
  })

  it('busy workers are not counted: the next free ones are elected instead', () => {
    const all = network(50)
    const electedWhenAllFree = all.ids.filter(self => bidElection(self, all.presenceOf(self) as never, 2)(job('x')))
    const net = network(50, new Set(electedWhenAllFree))
    const elected = net.ids.filter(self => !electedWhenAllFree.includes(self) && bidElection(self, net.presenceOf(self) as never, 2)(job('x')))
    assert.equal(elected.length, 2)
    assert.ok(elected.every(id => !electedWhenAllFree.includes(id)))
  })

  it('relayed presences of workers we have no connection to are not counted: a Sybil flood does not dilute the election', () => {
    const net = network(3)
    const sybils = Array.from({ length: 5000 }, (_, i) => ({ peerId: `sybil-${i}`, activeJobs: 0, maxJobs: 1, connected: false, direct: false }))
    for (const self of net.ids) {
      const presence = { withRole: () => [...net.presenceOf(self).withRole(), ...sybils] }
      assert.equal(bidElection(self, presence as never, 4)(job('j1')), true, `${self} still bids`)
    }
    // Counted, the same Sybils would have kept every real worker out.
    const counted = { withRole: () => [...net.presenceOf('worker-0').withRole(), ...sybils.map(s => ({ ...s, connected: true }))] }
    assert.equal(bidElection('worker-0', counted as never, 4)(job('j1')), false)
  })
})
