import { ID_PATTERN } from './limits.js'
import { ProtocolError } from './errors.js'

/**
 * Protocol ids and gossip topics. Every id carries a version: a breaking change
 * to a flow or to a message gets a new id (`/1.0.0` → `/2.0.0`), never an edit
 * in place. See PROTOCOL.md "Versioning".
 */

/** Stream protocol: worker → ingest, one Bid, one BidAck. */
export const PROTOCOL_BID = '/diststream/bid/1.0.0'
/** Stream protocol: ingest → worker, a segment in, renditions out. */
export const PROTOCOL_TRANSCODE = '/diststream/transcode/1.0.0'
/** Stream protocol: edge → holder, one segment or a stream index. */
export const PROTOCOL_FETCH = '/diststream/fetch/1.0.0'
/** Kademlia DHT protocol id (a private DHT, not the public IPFS one). */
export const DHT_PROTOCOL = '/diststream/kad/1.0.0'

/** Gossip topic: Presence from every node, every few seconds. */
export const TOPIC_PRESENCE = '/diststream/presence/1.0.0'
/** Gossip topic: JobAnnounce from ingests. */
export const TOPIC_JOBS = '/diststream/jobs/1.0.0'
/** Gossip topic: StreamAnnounce from ingests, the directory of live streams. */
export const TOPIC_STREAMS = '/diststream/streams/1.0.0'
/** Gossip topic: ViewerCounts from edges (each edge's current viewers per stream; claims). */
export const TOPIC_VIEWERS = '/diststream/viewers/1.0.0'

/**
 * Gossip topic of one stream: SegmentAnnounce from that stream's ingest.
 *
 * @throws {ProtocolError} `invalid` if `streamId` does not match ID_PATTERN
 */
export function streamTopic (streamId: string): string {
  if (!ID_PATTERN.test(streamId)) {
    throw new ProtocolError('invalid', `stream id ${JSON.stringify(streamId.slice(0, 80))} does not match ${String(ID_PATTERN)}`)
  }
  return `/diststream/stream/${streamId}/1.0.0`
}

/**
 * Gossip topic of one stream's have-lists: Have from peers (edges) that hold
 * verified renditions of its segments and serve them over PROTOCOL_FETCH.
 * A topic of its own (not the stream topic) because every topic carries one
 * message type and the stream topic is the ingest's alone.
 *
 * @throws {ProtocolError} `invalid` if `streamId` does not match ID_PATTERN
 */
export function haveTopic (streamId: string): string {
  streamTopic(streamId) // validates the id
  return `/diststream/have/${streamId}/1.0.0`
}

/**
 * The DHT key an ingest provides for each live stream (a provider record),
 * and edges look up: sha256 of this string, as a CIDv1 with the raw codec.
 */
export function streamKeyString (streamId: string): string {
  streamTopic(streamId) // validates the id
  return `diststream/stream/${streamId}`
}

/** The roles a node may announce in Presence.roles. */
export const ROLES = ['ingest', 'worker', 'edge', 'bootstrap'] as const
export type Role = typeof ROLES[number]

export function isRole (value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/**
 * Agent prefix: identify's agent string and Presence.agent are
 * `${AGENT}/<semver>`, e.g. `diststream-node/0.1.0`.
 */
export const AGENT = 'diststream-node'

/** `${AGENT}/${version}` */
export function agentString (version: string): string {
  return `${AGENT}/${version}`
}
