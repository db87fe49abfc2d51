import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createP2PNode, NetworkDiscovery, peerDiscoveryFor, streamCid } from '../src/index.js'
import type { P2PNode } from '../src/index.js'

const quiet = { debug: () => {}, warn: () => {} }

async function waitFor (what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('discovery: real libp2p nodes in this process, on loopback', () => {
  const nodes: P2PNode[] = []
  const discoveries: NetworkDiscovery[] = []
  after(async () => {
    for (const d of discoveries) d.stop()
    await Promise.all(nodes.map(async n => { await n.stop() }))
  })
  const start = async (bootstrap: string[]): Promise<{ node: P2PNode, discovery: NetworkDiscovery }> => {
    const node = await createP2PNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
    nodes.push(node)
    const discovery = new NetworkDiscovery(node, quiet, { bootstrap, firstWalkMs: 300, walkIntervalMs: 1000, rejoinIntervalMs: 500 })
    discovery.start()
    discoveries.push(discovery)
    return { node, discovery }
  }
  const addr = (n: P2PNode): string => `${n.getMultiaddrs()[0]!.toString()}`

  it('nodes that know only the bootstrap meet each other through the DHT, and find a stream\'s provider', async () => {
    const boot = await start([])
    const ingest = await start([addr(boot.node)])
    const edge = await start([addr(boot.node)])
    // no presence gossip here: only the DHT (self query, random walks) introduces them
    await waitFor('the edge to connect to the ingest', () => edge.node.getConnections(ingest.node.peerId).length > 0)
    await ingest.discovery.provideStream('lobby-cam')
    const found = await edge.discovery.findStreamProviders('lobby-cam', { timeoutMs: 10_000, max: 1 })
    assert.deepEqual(found, [ingest.node.peerId.toString()])
    assert.deepEqual(await edge.discovery.findStreamProviders('nobody-streams-this', { timeoutMs: 3000 }), [])
  })

  it('a node whose bootstrap was not up at first joins once it is (re-dial when alone)', async () => {
    const key = await generateKeyPair('Ed25519')
    // the bootstrap's address is known before it runs: reserve a port by starting and stopping it
    const probe = await createP2PNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    const bootAddr = addr(probe)
    await probe.stop()
    const lonely = await start([bootAddr])
    await new Promise(resolve => setTimeout(resolve, 800))
    assert.equal(lonely.node.getConnections().length, 0)
    const boot = await createP2PNode({ privateKey: key, listen: [bootAddr.replace(/\/p2p\/.*$/, '')], bootstrap: [] })
    nodes.push(boot)
    await waitFor('the lonely node to reach the bootstrap', () => lonely.node.getConnections(boot.peerId).length > 0)
  })
})

describe('discovery: configuration', () => {
  it('mDNS is off unless asked for', () => {
    assert.equal(peerDiscoveryFor({ bootstrap: [] }).length, 0)
    assert.equal(peerDiscoveryFor({ bootstrap: [], mdns: false }).length, 0)
    assert.equal(peerDiscoveryFor({ bootstrap: [], mdns: true }).length, 1)
    assert.equal(peerDiscoveryFor({ bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'], mdns: true }).length, 2)
  })
  it('a stream\'s DHT key is the sha256 of diststream/stream/<id>, as a raw CIDv1', async () => {
    const cid = await streamCid('lobby-cam')
    assert.equal(cid.version, 1)
    assert.equal(cid.code, 0x55)
    const { createHash } = await import('node:crypto')
    assert.deepEqual(Buffer.from(cid.multihash.digest), createHash('sha256').update('diststream/stream/lobby-cam').digest())
    await assert.rejects(streamCid('a/b'), /does not match/)
  })
})
