import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gossipMetricsRegister, topicLabel } from '../src/message-counts.js'
import type { CountMessages } from '../src/message-counts.js'

describe('message counters', () => {
  it('labels topics: fixed as they are, per-stream folded, anything else "other"', () => {
    assert.equal(topicLabel('/diststream/jobs/1.0.0'), '/diststream/jobs/1.0.0')
    assert.equal(topicLabel('/diststream/presence/1.0.0'), '/diststream/presence/1.0.0')
    assert.equal(topicLabel('/diststream/stream/abc-123/1.0.0'), '/diststream/stream/<id>/1.0.0')
    assert.equal(topicLabel('/diststream/have/abc-123/1.0.0'), '/diststream/have/<id>/1.0.0')
    assert.equal(topicLabel('/diststream/stream/a/b/1.0.0'), 'other')
    assert.equal(topicLabel('/made-up/' + 'x'.repeat(500)), 'other')
  })

  it('maps gossipsub metrics onto counts and ignores the rest', () => {
    const seen: string[] = []
    const count: CountMessages = (kind, name, direction, n) => { seen.push(`${kind} ${name} ${direction} ${n}`) }
    const reg = gossipMetricsRegister(count)
    reg.gauge<{ topic: string }>({ name: 'gossipsub_pre_validation_valid_total', help: '', labelNames: ['topic'] }).inc({ topic: '/diststream/jobs/1.0.0' })
    reg.gauge<{ topic: string }>({ name: 'gossipsub_pre_validation_duplicate_total', help: '', labelNames: ['topic'] }).inc({ topic: '/diststream/stream/s1/1.0.0' }, 2)
    reg.gauge<{ topic: string }>({ name: 'gossipsub_msg_forward_peers_total', help: '', labelNames: ['topic'] }).inc({ topic: '/diststream/jobs/1.0.0' }, 3)
    reg.gauge({ name: 'gossipsub_rpc_sent_ihave_total', help: '' }).inc(4)
    reg.gauge({ name: 'gossipsub_rpc_recv_bytes_total', help: '' }).inc(1000)
    reg.histogram({ name: 'gossipsub_msg_publish_seconds', help: '', buckets: [1] }).observe(1)
    assert.deepEqual(seen, [
      'gossip /diststream/jobs/1.0.0 in 1',
      'gossip /diststream/stream/<id>/1.0.0 in 2',
      'gossip_duplicate /diststream/stream/<id>/1.0.0 in 2',
      'gossip /diststream/jobs/1.0.0 out 3',
      'gossip_control ihave out 4'
    ])
  })
})
