import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { codecs, StreamAnnounce, streamTopic, TOPIC_STREAMS } from '@diststream/protocol'
import { createP2PNode, Gossip } from '@diststream/p2p'
import { pino } from 'pino'
import { bootstrapAdvice, bootstrapList, DEFAULT_BOOTSTRAP, GossipRelay, MAX_STREAMS_PER_ANNOUNCER } from '../src/index.js'
import type { P2PNode } from '@diststream/p2p'
import type { SegmentAnnounce } from '@diststream/protocol'

const ADDR = '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'

describe('bootstrap list', () => {
  it('uses the given list, else the defaults (empty: no public nodes yet)', () => {
    assert.deepEqual(DEFAULT_BOOTSTRAP, [])
    assert.deepEqual(bootstrapList([ADDR]), [ADDR])
    assert.deepEqual(bootstrapList([]), [])
    assert.deepEqual(bootstrapList([], [ADDR]), [ADDR])
  })
  it('warns a node that has no way into a network', () => {
    assert.equal(bootstrapAdvice([], { roles: ['edge'], mdns: false }).level, 'warn')
    assert.match(bootstrapAdvice([], { roles: ['edge'], mdns: false }).msg, /no bootstrap peers.*--bootstrap/)
    assert.equal(bootstrapAdvice([], { roles: ['edge'], mdns: true }).level, 'info')
    assert.equal(bootstrapAdvice([], { roles: ['bootstrap'], mdns: false }).level, 'info')
    assert.equal(bootstrapAdvice([ADDR], { roles: ['worker'], mdns: false }).level, 'info')
  })
})

describe('GossipRelay: meshes form through a bootstrap node', () => {
  const nodes: P2PNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })
  const logger = pino({ level: 'silent' })

  it('the bootstrap subscribes to the directory and to each live stream\'s topics, and relays them', async () => {
    const mk = async (): Promise<{ node: P2PNode, gossip: Gossip }> => {
      const node = await createP2PNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
      nodes.push(node)
      return { node, gossip: new Gossip(node, logger) }
    }
    const boot = await mk()
    const relay = new GossipRelay({ gossip: boot.gossip, logger })
    relay.start()
    const ingest = await mk()
    const edge = await mk()
    await ingest.node.dial(boot.node.getMultiaddrs()[0]!)
    await edge.node.dial(boot.node.getMultiaddrs()[0]!)
    const announces: StreamAnnounce[] = []
    const segments: SegmentAnnounce[] = []
    edge.gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (m) => { announces.push(m) })
    edge.gossip.subscribe(streamTopic('cam'), codecs.segmentAnnounce, (m) => { segments.push(m) })
    const announce: StreamAnnounce = { streamId: 'cam', name: 'cam', state: StreamAnnounce.State.LIVE, renditions: [], targetDurationMs: 2000, lastSeq: 0, ingestMultiaddrs: [], updatedAtMs: Date.now(), salt: new Uint8Array(16) }
    const segment: SegmentAnnounce = { streamId: 'cam', seq: 0, durationMs: 2000, pdtMs: Date.now(), discontinuity: false, renditions: [{ name: 'source', width: 320, height: 180, bandwidth: 1000, codecs: 'avc1.64000d', size: 10, sha256: new Uint8Array(32) }] }
    const end = Date.now() + 20_000
    // publish until the edge has both (subscriptions propagate with gossipsub's heartbeat)
    while ((announces.length === 0 || segments.length === 0) && Date.now() < end) {
      await ingest.gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, { ...announce, updatedAtMs: Date.now() })
      await ingest.gossip.publish(streamTopic('cam'), codecs.segmentAnnounce, segment)
      await new Promise(resolve => setTimeout(resolve, 300))
    }
    // the bootstrap joined the stream's topic (learned from the directory), so it forwards it
    assert.ok(boot.node.services.pubsub.getTopics().includes(streamTopic('cam')), 'the bootstrap subscribed to the stream topic')
    await waitFor(() => edge.node.services.pubsub.getSubscribers(streamTopic('cam')).some(p => p.equals(boot.node.peerId)))
    assert.ok(announces.length > 0, 'the directory reached the edge through the bootstrap')
    assert.ok(segments.length > 0, 'the stream topic reached the edge through the bootstrap')
    assert.deepEqual(relay.relayed(), ['cam'])
    relay.stop()
    assert.deepEqual(relay.relayed(), [])
  })
})

async function waitFor (fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('GossipRelay slots (M11)', () => {
  /** A gossip that records subscriptions; `announce` plays a signed StreamAnnounce from `from`. */
  function fakeGossip (): { gossip: any, announce: (id: string, from: string) => void, topics: Set<string> } {
    const handlers = new Map<string, (msg: any, from: string) => void>()
    const topics = new Set<string>()
    const gossip = {
      subscribe: (topic: string, _codec: unknown, h: (msg: any, from: string) => void) => {
        handlers.set(topic, h)
        topics.add(topic)
        return () => { topics.delete(topic) }
      }
    }
    const announce = (id: string, from: string): void => {
      handlers.get(TOPIC_STREAMS)!({ streamId: id, state: StreamAnnounce.State.LIVE }, from)
    }
    return { gossip, announce, topics }
  }

  it('caps slots per announcer, binds each to its announcer, and evicts from the largest holder when full', () => {
    const { gossip, announce, topics } = fakeGossip()
    const relay = new GossipRelay({ gossip, logger: pino({ level: 'silent' }), maxStreams: 20 })
    relay.start()
    for (let i = 0; i < 40; i++) announce(`evil${i}`, 'sybil')
    assert.equal(relay.heldBy('sybil'), MAX_STREAMS_PER_ANNOUNCER, 'one announcer holds at most its cap')
    for (let i = 0; i < 4; i++) announce(`other${i}`, 'sybil-b')
    assert.equal(relay.relayed().length, 20)
    // Full: a real ingest's stream still gets a slot, taken from the announcer holding the most.
    announce('real', 'ingest')
    assert.ok(relay.relayed().includes('real'))
    assert.ok(topics.has(streamTopic('real')))
    assert.equal(relay.heldBy('sybil'), MAX_STREAMS_PER_ANNOUNCER - 1)
    relay.stop()
  })
})
