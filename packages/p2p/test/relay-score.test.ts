/**
 * An honest relay of a penalised author keeps its gossipsub score (review M2; the cause of
 * hostile-ownership's restart-race failures). gossipsub counts a Reject against the sender *and*
 * against every peer that delivers the same message, before or after (P4, "invalid message
 * deliveries"). A penalised author is a fact of the receiver's own table, which its relays do not
 * share: a relay that accepted the author's message and forwarded it must not lose score for it, or
 * after a few of an attacker's forgeries the receiver stops publishing to (−50) and then graylists
 * (−80) its honest neighbour. Three real libp2p nodes in this process, on loopback.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { codecs, STREAM_SALT_BYTES, StreamAnnounce, streamIdFor, TOPIC_STREAMS } from '@diststream/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { AUTHOR_BLOCK_POINTS, createP2PNode, Gossip, Penalties } from '../src/index.js'
import type { P2PNode } from '../src/index.js'

const quiet = { debug: () => {}, warn: () => {} }
/** Messages the penalised author sends (to the receiver and to the relay, which forwards them). */
const SENT = 30

interface Scored { getScore: (peer: string) => number, getMeshPeers: (topic: string) => string[] }
const scored = (n: P2PNode): Scored => n.services.pubsub as unknown as Scored

async function waitFor (what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('gossip: a penalised author\'s messages (real libp2p nodes, loopback)', () => {
  const nodes: P2PNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })
  const start = async (): Promise<P2PNode> => {
    const node = await createP2PNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    nodes.push(node)
    return node
  }

  it('are dropped at the receiver, which keeps the relay that forwarded them at a score of 0', async () => {
    const penalties = new Penalties()
    const refusals: string[] = []
    const receiver = await start()
    const relay = await start()
    const evil = await start()
    const delivered: string[] = []
    new Gossip(receiver, quiet, (reason) => { refusals.push(reason) }, { penalties }).subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (_m, from) => { delivered.push(from) })
    new Gossip(relay, quiet).subscribe(TOPIC_STREAMS, codecs.streamAnnounce, () => {})
    const evilGossip = new Gossip(evil, quiet)
    evilGossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, () => {})
    await relay.dial(receiver.getMultiaddrs()[0]!)
    await evil.dial(receiver.getMultiaddrs()[0]!)
    await evil.dial(relay.getMultiaddrs()[0]!)
    const [r, rl, e] = [receiver, relay, evil].map(n => n.peerId.toString()) as [string, string, string]
    // The relay forwards through its mesh: wait until it holds the receiver there, and the receiver it.
    await waitFor('the relay and the receiver in each other\'s mesh', () => scored(relay).getMeshPeers(TOPIC_STREAMS).includes(r) && scored(receiver).getMeshPeers(TOPIC_STREAMS).includes(rl))
    await waitFor('the evil node to see both subscribed', () => evil.services.pubsub.getSubscribers(TOPIC_STREAMS).length === 2)

    penalties.add(e, AUTHOR_BLOCK_POINTS + 1) // the receiver has caught the author forging before; the relay has not
    const self = evil.peerId.toString()
    for (let i = 0; i < SENT; i++) {
      const salt = randomBytes(STREAM_SALT_BYTES)
      await evilGossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, {
        streamId: streamIdFor(self, salt),
        name: 'forged',
        state: StreamAnnounce.State.LIVE,
        renditions: [{ name: 'source', width: 320, height: 180, bandwidth: 300_000, codecs: 'avc1.64000d', size: 0, sha256: new Uint8Array(0) }],
        targetDurationMs: 1000,
        lastSeq: 0,
        ingestMultiaddrs: [],
        updatedAtMs: Date.now(),
        salt
      })
    }
    // Both copies of each message (the author's and the relay's) reach the receiver; gossipsub refreshes scores each heartbeat (1 s).
    await new Promise(resolve => setTimeout(resolve, 3000))
    assert.deepEqual(delivered, [], 'no message of the penalised author was handled')
    assert.ok(refusals.filter(x => x === 'penalised').length >= SENT, `refused as penalised: ${refusals.filter(x => x === 'penalised').length} of ${SENT}`)
    assert.ok(scored(receiver).getScore(rl) >= 0, `the honest relay's score at the receiver is ${scored(receiver).getScore(rl)}`)
    assert.ok(scored(receiver).getMeshPeers(TOPIC_STREAMS).includes(rl), 'the relay is still in the receiver\'s mesh')
  })
})
