/**
 * @packageDocumentation
 *
 * The bootstrap role and the default bootstrap list. A bootstrap node is a
 * stable, well-known entry point: it runs the DHT in server mode and relays
 * gossip ({@link GossipRelay}), and stores nothing heavy. Any
 * `diststream-node --role bootstrap` is one; `DEFAULT_BOOTSTRAP` is what a
 * node dials when no `--bootstrap` is given.
 */
export * from './relay.js'

/**
 * Well-known bootstrap nodes of the public DistStream network, each a
 * multiaddr ending in /p2p/<peer-id>. Empty: there are no public bootstrap
 * nodes yet. When there are, their operators add their addresses here (see
 * README.md, "The default list"); until then, give `--bootstrap`, or `--mdns`
 * on a LAN (a node without any still works alone, and others can bootstrap
 * from it).
 */
export const DEFAULT_BOOTSTRAP: readonly string[] = Object.freeze([])

/** The bootstrap list a node uses: the ones it was given, else the defaults. */
export function bootstrapList (given: readonly string[], defaults: readonly string[] = DEFAULT_BOOTSTRAP): string[] {
  return given.length > 0 ? [...given] : [...defaults]
}

/**
 * What a node should log about its bootstrap list: a warning when it has no
 * way into a network (no bootstrap peers and no mDNS), unless it is itself a
 * bootstrap node (the first node of a network has nobody to dial).
 */
export function bootstrapAdvice (list: readonly string[], opts: { roles: readonly string[], mdns: boolean }): { level: 'info' | 'warn', msg: string } {
  if (list.length > 0) return { level: 'info', msg: `bootstrap: dialling ${list.length} bootstrap peer(s); the rest of the network is found through the DHT and gossip` }
  if (opts.mdns) return { level: 'info', msg: 'bootstrap: no bootstrap peers; finding peers on the local network with mDNS' }
  if (opts.roles.includes('bootstrap')) return { level: 'info', msg: 'bootstrap: no bootstrap peers (this is the first node of its network; others bootstrap from it)' }
  return { level: 'warn', msg: 'bootstrap: no bootstrap peers (no --bootstrap given and the default list is empty): this node only meets peers that dial it; pass --bootstrap /ip4/<host>/tcp/<port>/p2p/<peer-id>, or --mdns on a LAN' }
}
