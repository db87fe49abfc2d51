import { isLinkLocal, isLoopback, isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Most connections from one IP address. Peers behind one NAT share an address: a home holds a few
 * nodes, an office or a broadcaster's worker farm a dozen or so. A connection flood from one host is
 * held here instead of filling maxConnections (100: libp2p then refuses every newcomer): one host
 * takes at most a sixth of it. Only inbound connections are refused (we still dial peers behind a
 * busy NAT), and only by this node: honest peers past the cap reach the network through others.
 * Loopback is exempt only in a local network (there every node is on 127.0.0.1); relayed
 * connections are not counted (their address is the relay's: every home node reached through one
 * bootstrap would share it; the relay bounds them, nat.ts).
 */
export const MAX_CONNECTIONS_PER_IP = 16

/** Whether a connection's remote address goes through a circuit relay (`/p2p-circuit`). */
export function isRelayedAddr (ma: Multiaddr): boolean {
  return ma.getComponents().some(c => c.name === 'p2p-circuit')
}

/** Whether `ma` starts with a loopback, private (RFC 1918, CGNAT, documentation…) or link-local address, or `localhost`. */
export function isNonPublicAddr (ma: Multiaddr): boolean {
  try {
    return isPrivate(ma) || isLoopback(ma) || isLinkLocal(ma)
  } catch {
    return false
  }
}

/** The IP address (or host name) a multiaddr starts with, or undefined. */
export function hostOf (ma: Multiaddr): string | undefined {
  const first = ma.getComponents()[0]
  return first?.value
}

/**
 * Whether a node runs in a local network (pure): dev mode, mDNS, or every listen address and every
 * bootstrap address loopback or private. Such a node dials private addresses and exempts loopback
 * from the per-IP cap and gossipsub's IP colocation penalty; a node listening on a public (or
 * wildcard) address with public bootstrap peers does not (the default of a real deployment).
 * An explicit `--allow-private-addrs` / `--no-allow-private-addrs` overrides this.
 */
export function isLocalNetwork (opts: { listen: string[], bootstrap: string[], mdns?: boolean }): boolean {
  if (opts.mdns === true) return true
  const addrs = [...opts.listen, ...opts.bootstrap]
  if (addrs.length === 0) return false
  return addrs.every(a => {
    try {
      const ma = multiaddr(a)
      // A wildcard listen address (0.0.0.0, ::) takes connections from anywhere: not a local network.
      return !['0.0.0.0', '::'].includes(hostOf(ma) ?? '') && isNonPublicAddr(ma)
    } catch { return false }
  })
}

/**
 * The node's connection gater: outside a local network, no dial to a non-public address (a
 * presence, DHT record or identify message cannot make us scan or attack an internal network);
 * an inbound connection is refused when its IP already holds {@link MAX_CONNECTIONS_PER_IP}
 * (loopback exempt in a local network). `connectionsFrom` counts our open connections from an IP;
 * `onRefused` counts refusals.
 */
export function connectionGater (opts: { allowPrivateAddrs: boolean, connectionsFrom: (ip: string) => number, onRefused?: (reason: 'private-addr' | 'per-ip') => void, maxPerIp?: number }): ConnectionGater {
  const maxPerIp = opts.maxPerIp ?? MAX_CONNECTIONS_PER_IP
  return {
    denyDialMultiaddr: (ma) => {
      if (opts.allowPrivateAddrs || !isNonPublicAddr(ma)) return false
      opts.onRefused?.('private-addr')
      return true
    },
    denyInboundConnection: (maConn) => {
      const ip = hostOf(maConn.remoteAddr)
      if (ip == null || isRelayedAddr(maConn.remoteAddr) || (opts.allowPrivateAddrs && isLoopback(maConn.remoteAddr))) return false
      if (opts.connectionsFrom(ip) < maxPerIp) return false
      opts.onRefused?.('per-ip')
      return true
    }
  }
}
