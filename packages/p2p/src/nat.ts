/**
 * NAT traversal (issue 12): nodes behind a home router take part through a
 * circuit relay v2 reservation on a bootstrap node, and DCUtR hole punching
 * turns a relayed connection into a direct one. Relayed connections are
 * "limited" (libp2p runs no protocol on them unless the protocol allows it):
 * ours never do, so jobs and segments only ever move over direct connections,
 * and a relay carries nothing but the few bytes of the DCUtR handshake.
 */
import { autoNAT } from '@libp2p/autonat'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'

/**
 * Reservations one relay (a bootstrap node) holds at once: each is a peer
 * id, an address and a timer, a few hundred bytes; 1,024 home nodes per
 * bootstrap, and a network runs several bootstraps.
 */
export const MAX_RELAY_RESERVATIONS = 1024
/**
 * Bytes a relayed connection may carry each way before the relay cuts it: a
 * DCUtR exchange (a few hundred bytes) and identify, with room; never a segment.
 */
export const RELAY_DATA_LIMIT_BYTES = 128n * 1024n
/** How long a relayed connection may last: long enough for DCUtR's three tries (each a few seconds). */
export const RELAY_DURATION_LIMIT_MS = 60_000
/** A reservation is renewed by its holder before this runs out (the spec's default is an hour; ours is shorter, so a gone node frees its slot). */
export const RELAY_RESERVATION_TTL_MS = 10 * 60_000
/** Hop streams (reservations and relayed dials) open at once on a relay, in and out: bounds one busy relay's memory. */
export const MAX_RELAY_HOP_STREAMS = 64

export interface NatInit {
  /** Serve circuit relay v2 reservations (bootstrap nodes). */
  relayServer?: boolean
  /** This node is behind a NAT: hold a relay reservation, so others reach it, and ask peers to confirm its addresses (AutoNAT). */
  behindNat?: boolean
}

/** Transports for NAT traversal: every node can dial a relayed address (then hole-punch it). */
export function natTransports (): Array<ReturnType<typeof circuitRelayTransport>> {
  return [circuitRelayTransport({ reservationCompletionTimeout: 10_000 })]
}

/** Listen addresses to add: a relayed one (a reservation on a relay) when behind a NAT. */
export function natListen (init: NatInit): string[] {
  return init.behindNat === true ? ['/p2p-circuit'] : []
}

/**
 * Services for NAT traversal. DCUtR on every node: the hole punch needs both
 * ends. AutoNAT where it pays: bootstraps answer dial-back requests, and a
 * node behind a NAT learns which of its addresses others can reach. Other
 * nodes skip it (each probe is a dial; an idle node must stay quiet).
 */
export function natServices (init: NatInit): Record<string, (components: any) => unknown> {
  return {
    dcutr: dcutr(),
    ...(init.relayServer === true || init.behindNat === true ? { autoNAT: autoNAT() } : {}),
    ...(init.relayServer === true
      ? {
          relay: circuitRelayServer({
            maxInboundHopStreams: MAX_RELAY_HOP_STREAMS,
            maxOutboundHopStreams: MAX_RELAY_HOP_STREAMS,
            reservations: {
              maxReservations: MAX_RELAY_RESERVATIONS,
              reservationTtl: RELAY_RESERVATION_TTL_MS,
              applyDefaultLimit: true,
              defaultDataLimit: RELAY_DATA_LIMIT_BYTES,
              defaultDurationLimit: RELAY_DURATION_LIMIT_MS
            }
          })
        }
      : {})
  }
}
