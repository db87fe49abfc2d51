/**
 * @packageDocumentation
 *
 * The bootstrap role and the default bootstrap list. A bootstrap node is a
 * stable, well-known entry point: it runs the DHT in server mode and relays
 * gossip, and stores nothing heavy. Any `diststream-node --role bootstrap`
 * is one; `DEFAULT_BOOTSTRAP` is what a node dials when no `--bootstrap` is
 * given.
 */

/**
 * Well-known bootstrap nodes of the public DistStream network, each a
 * multiaddr ending in /p2p/<peer-id>. Empty until public bootstrap nodes are
 * run: until then, give `--bootstrap` (a node without any still works alone,
 * and others can bootstrap from it).
 */
export const DEFAULT_BOOTSTRAP: readonly string[] = Object.freeze([])

/** The bootstrap list a node uses: the ones it was given, else the defaults. */
export function bootstrapList (given: readonly string[]): string[] {
  return given.length > 0 ? [...given] : [...DEFAULT_BOOTSTRAP]
}
