/**
 * The model's per-hop inputs, MEASURED on this machine with real libp2p nodes
 * on loopback by `node packages/sim/dist/src/cli.js measure` (measure.ts has
 * the method). These are the figures of the run recorded in docs/scale.md
 * (2026-11-22, 2-core shared VM, load average 2.09); a fresh measurement can
 * be fed in with `run --inputs <file.json>`.
 */
export interface Inputs {
  /** Loopback gossip hop, publish → message event at the next peer, p50, ms (includes both ends' CPU). */
  gossipHopMs: number
  /** CPU of one gossip transmission, both ends together, ms. */
  cpuPerGossipTransmissionMs: number
  /** Loopback: stream open on an existing connection + Bid decoded at the ingest, p50, ms (includes CPU). */
  bidArrivalMs: number
  /** CPU of one bid round trip (open, Bid, BidAck, close), both ends together, ms. */
  cpuPerBidRoundTripMs: number
  /** The same with `negotiateFully: false` (protocol id sent with the Bid), p50, ms. */
  bidArrivalOptimisticMs: number
  /** CPU of one ed25519 signature check (gossipsub StrictSign), ms. */
  ed25519VerifyMs: number
  /** Loopback: new connection (TCP + Noise + Yamux) + the bid, p50, ms. */
  newConnBidMs: number
  /** Encoded sizes, bytes. */
  bytes: { jobAnnounce: number, presence: number, bid: number }
}

export const MEASURED: Inputs = {
  gossipHopMs: 1.80,
  cpuPerGossipTransmissionMs: 0.49,
  bidArrivalMs: 1.30,
  cpuPerBidRoundTripMs: 1.08,
  bidArrivalOptimisticMs: 1.42,
  ed25519VerifyMs: 0.136,
  newConnBidMs: 4.22,
  bytes: { jobAnnounce: 144, presence: 81, bid: 36 }
}

/**
 * Bytes gossipsub adds to a published message on the wire: from (peer id,
 * 38), seqno (8), topic (~26), signature (64), protobuf tags and RPC framing
 * (~12). Counted from the RPC layout, not measured.
 */
export const GOSSIP_ENVELOPE_BYTES = 148
