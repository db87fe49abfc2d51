import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { DHT_PROTOCOL } from '@diststream/protocol'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { KEEP_ALIVE } from '@libp2p/interface'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { connectionGater, hostOf, isLocalNetwork, isRelayedAddr } from './gater.js'
import { peerScoreParams } from './scoring.js'
import { natListen, natServices, natTransports } from './nat.js'
import { GOSSIP_D, GOSSIP_D_HIGH, GOSSIP_D_LAZY, GOSSIP_D_LOW, GOSSIP_HEARTBEAT_MS, GOSSIP_SEEN_TTL_MS, PING_INTERVAL_MS } from './constants.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { PeerDiscovery, PrivateKey, Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Penalties } from './penalties.js'
import type { NatInit } from './nat.js'
import { gossipMetricsRegister } from './message-counts.js'
import type { CountMessages } from './message-counts.js'

export type P2PServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht: KadDHT
}

export type P2PNode = Libp2p<P2PServices>

export interface P2PInit extends NatInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001`. */
  listen: string[]
  /** Bootstrap multiaddrs, each ending in `/p2p/<peer-id>`. */
  bootstrap: string[]
  /** Our version, sent in identify's agent string. */
  version?: string
  maxConnections?: number
  /** Find peers on the local network with mDNS (multicast DNS); off by default. */
  mdns?: boolean
  /**
   * Dial loopback, private and link-local addresses, and exempt loopback from the per-IP cap and
   * IP colocation penalty. Default: {@link isLocalNetwork} (dev, mDNS, or only private listen and
   * bootstrap addresses).
   */
  allowPrivateAddrs?: boolean
  /** Refusals blamed on peers: gossipsub's app-specific score (offenders are graylisted). */
  penalties?: Penalties
  /** Counts a refused dial (non-public address) or inbound connection (per-IP cap). */
  onRefused?: (reason: 'private-addr' | 'per-ip') => void
  /** Counts gossip copies and control entries (message-counts.ts); none kept without it. */
  countMessages?: CountMessages
}

/** Tag value of a bootstrap peer (libp2p prunes the lowest-valued connections first when over maxConnections). */
export const BOOTSTRAP_TAG_VALUE = 100

/** The peer discovery modules for `init`: the bootstrap list, and mDNS when asked for. */
export function peerDiscoveryFor (init: Pick<P2PInit, 'bootstrap' | 'mdns'>): Array<(components: any) => PeerDiscovery> {
  return [
    ...(init.bootstrap.length > 0 ? [bootstrap({ list: init.bootstrap, timeout: 100 })] : []),
    ...(init.mdns === true ? [mdns({ serviceTag: 'diststream.local' })] : [])
  ]
}

/** Creates and starts the libp2p node. */
export async function createP2PNode (init: P2PInit): Promise<P2PNode> {
  const local = init.allowPrivateAddrs ?? isLocalNetwork(init)
  const ref: { node?: P2PNode } = {} // the gater needs the node it is part of
  const connectionsFrom = (ip: string): number => ref.node?.getConnections().filter(c => !isRelayedAddr(c.remoteAddr) && hostOf(c.remoteAddr) === ip).length ?? 0
  const node = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: [...init.listen, ...natListen(init)] },
    transports: [tcp(), ...natTransports()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: peerDiscoveryFor(init),
    connectionManager: {
      maxConnections: init.maxConnections ?? 100,
      // libp2p refuses more than 5 inbound connections a second from one host: every node of a
      // loopback network is one host, and so are peers behind one NAT.
      inboundConnectionThreshold: 25,
      // The allow list exempts from every limit (maxConnections, the rate above, pruning): only in a
      // local network, where all nodes are on loopback. Elsewhere a loopback peer is a local proxy
      // or tunnel, limited like any other (review M2).
      allow: local ? ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'] : []
    },
    // No dial to non-public addresses outside a local network; per-IP cap on inbound connections.
    connectionGater: connectionGater({ allowPrivateAddrs: local, connectionsFrom, onRefused: init.onRefused }),
    // libp2p pings every connection each 10 s and aborts it when a ping takes longer than an
    // adaptive timeout of at least 5 s: on a busy machine (many nodes on few cores) a stalled
    // event loop then cut every connection at once. Dead peers are still dropped, after 20 s.
    // Every ping is a new stream (yamux + multistream-select + Noise frames) on every connection:
    // a closed socket is noticed without it, so it only has to find silent peers, every 30 s.
    connectionMonitor: { pingInterval: PING_INTERVAL_MS, pingTimeout: { minTimeout: 20_000 } },
    nodeInfo: { name: 'diststream-node', version: init.version ?? '0.0.0', userAgent: `diststream-node/${init.version ?? '0.0.0'}` },
    services: {
      identify: identify(),
      ping: ping(),
      ...natServices(init),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // Small networks: publish to every subscribed peer we know, not only
        // mesh peers, so a fresh subscriber gets jobs before the mesh forms.
        floodPublish: true,
        // Tuned for our topics: few, small messages (presence on change, jobs, segment and have
        // announcements). A 1 s heartbeat and a mesh of 4 (3..8), gossiping IHAVE to 4 peers,
        // keep delivery within a hop or two of the flood publish for a fraction of the upkeep.
        heartbeatInterval: GOSSIP_HEARTBEAT_MS,
        D: GOSSIP_D,
        Dlo: GOSSIP_D_LOW,
        Dhi: GOSSIP_D_HIGH,
        Dlazy: GOSSIP_D_LAZY,
        seenTTL: GOSSIP_SEEN_TTL_MS,
        // Scoring (scoring.ts): P4 on our topics, our refusals as the app score, and IP colocation
        // (P6). gossipsub penalises more than 10 peers on one IP: past ~11 they are graylisted.
        // Every node of a loopback network is on 127.0.0.1, so loopback is exempt in a local
        // network (a 30-node local network had no gossip at all without it).
        scoreParams: peerScoreParams({ penalties: init.penalties, localIps: local }),
        ...(init.countMessages != null ? { metricsRegister: gossipMetricsRegister(init.countMessages), metricsTopicStrToLabel: new Map() } : {})
      }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        // Loopback and LAN addresses are kept in a local network; elsewhere DHT records carry only public ones.
        peerInfoMapper: local ? passthroughMapper : removePrivateAddressesMapper
      })
    }
  }) as P2PNode
  ref.node = node
  await tagBootstrapPeers(node, init.bootstrap)
  return node
}

/**
 * Tags the bootstrap peers KEEP_ALIVE (libp2p redials them when the connection drops) and with a high
 * value, so a flood of connections from strangers prunes the strangers, not our way into the network.
 */
async function tagBootstrapPeers (node: P2PNode, bootstrap: string[]): Promise<void> {
  for (const a of bootstrap) {
    const id = multiaddr(a).getComponents().findLast(c => c.name === 'p2p')?.value
    if (id == null || id === node.peerId.toString()) continue
    await node.peerStore.merge(peerIdFromString(id), { tags: { [KEEP_ALIVE]: { value: 1 }, 'diststream-bootstrap': { value: BOOTSTRAP_TAG_VALUE } } })
      .catch(() => { /* only the protection of this one bootstrap peer is lost */ })
  }
}
