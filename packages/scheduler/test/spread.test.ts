import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spreadLoad } from '../src/index.js'
import type { Bid } from '../src/index.js'

const bid = (peerId: string, estimateMs: number, activeJobs = 0, maxJobs = 1): Bid =>
  ({ peerId, jobId: 'j', estimateMs, activeJobs, maxJobs, gpu: false, hwKind: 'cpu', price: 0, receivedAt: 0 })

describe('spreadLoad', () => {
  it('puts the least recently used of the close bids first', () => {
    const last = new Map([['a', 100], ['b', 50]])
    const out = spreadLoad([bid('a', 300), bid('b', 500), bid('c', 5000)], { lastAssigned: p => last.get(p) })
    assert.deepEqual(out.map(b => b.peerId), ['b', 'a', 'c'])
  })

  it('prefers a never-used worker among close bids', () => {
    const last = new Map([['a', 100]])
    assert.equal(spreadLoad([bid('a', 300), bid('b', 550)], { lastAssigned: p => last.get(p) })[0]!.peerId, 'b')
  })

  it('keeps the ranking when the others are far worse, or full', () => {
    const last = new Map([['a', 100]])
    assert.equal(spreadLoad([bid('a', 300), bid('b', 900)], { lastAssigned: p => last.get(p) })[0]!.peerId, 'a')
    assert.equal(spreadLoad([bid('a', 300), bid('b', 350, 1, 1)], { lastAssigned: p => last.get(p) })[0]!.peerId, 'a')
    assert.equal(spreadLoad([bid('a', 300), bid('b', 900)], { lastAssigned: p => last.get(p), slackMs: 700 })[0]!.peerId, 'b')
  })

  it('leaves a single bid alone', () => {
    assert.deepEqual(spreadLoad([bid('a', 1)], { lastAssigned: () => undefined }).map(b => b.peerId), ['a'])
  })
})
