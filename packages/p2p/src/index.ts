/**
 * @packageDocumentation
 *
 * The libp2p node every DistStream role runs on: TCP + Noise + Yamux,
 * identify, ping, gossipsub with strict signing, and a kad-dht on DistStream's
 * own protocol prefix (never the public IPFS DHT). On top: {@link Gossip}
 * (typed, validated topics) and {@link PresenceService} (who is out there,
 * with which roles and capacity).
 *
 * @example
 * ```ts
 * const libp2p = await createP2PNode({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
 * const gossip = new Gossip(libp2p, logger)
 * gossip.subscribe(TOPIC_JOBS, codecs.jobAnnounce, (job, from) => { ... })
 * ```
 */
export * from './node.js'
export * from './gossip.js'
export * from './presence.js'
export * from './protocols.js'
export * from './components.js'
export * from './discovery.js'
export * from './fetch-server.js'
export * from './penalties.js'
export * from './gater.js'
export * from './rate-limit.js'
export * from './scoring.js'
export * from './nat.js'
export * from './message-counts.js'
