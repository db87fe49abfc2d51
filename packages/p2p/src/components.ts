import { MessageChannel } from '@diststream/protocol'
import { streamCounter } from './message-counts.js'
import type { Gossip, ProtocolErrorHook } from './gossip.js'
import type { Protocols } from './protocols.js'
import type { StreamDiscovery } from './discovery.js'
import type { Stream } from '@libp2p/interface'

/**
 * What a role needs to talk to peers: typed gossip, request/response
 * protocols (including with roles on the same node), and a hook that counts
 * messages peers got wrong. Roles extend it with what else they need; none
 * needs the libp2p node itself.
 */
export interface PeerComponents {
  gossip: Gossip
  protocols: Protocols
  onProtocolError?: ProtocolErrorHook
  /** Streams on the DHT (provider records); absent in tests without a DHT. */
  discovery?: StreamDiscovery
}

/**
 * A MessageChannel whose protocol errors (malformed, oversized, truncated or
 * late peer messages) are counted through the components' hook, labelled
 * with `where`, and whose messages are counted if {@link Protocols} marked
 * the stream (message-counts.ts).
 */
export function messageChannel (components: Pick<PeerComponents, 'onProtocolError'>, stream: Stream, where: string): MessageChannel {
  return new MessageChannel(stream, { onProtocolError: (err) => { components.onProtocolError?.(err.reason, where) }, onMessage: streamCounter(stream) })
}
