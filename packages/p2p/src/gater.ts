import { isLinkLocal, isLoopback, isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Most connections from one IP address. Peers behind one NAT share an address (a few nodes in an
 * office or a home); a connection flood from one host is held here instead of filling
 * maxConnections and pushing honest peers out. Loopback is exempt only in a local network
 * (`localIps`): there every node is on 127.0.0.1.
 */
export const MAX_CONNECTIONS_PER_IP = 8

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
      if (ip == null || (opts.allowPrivateAddrs && isLoopback(maConn.remoteAddr))) return false
      if (opts.connectionsFrom(ip) < maxPerIp) return false
      opts.onRefused?.('per-ip')
      return true
    }
  }
}
