/** Live chat's bounds and rates, each with its reason (PROTOCOL.md §10). */

/** Messages an edge keeps per stream for viewers who join late. */
export const CHAT_HISTORY = 50
/** Message ids remembered per stream to drop duplicates (gossip delivers a message once, a replay is not new). */
export const CHAT_DEDUPE = 4096
/** Chat topics one edge subscribes at once (each is a gossip subscription and a room): more viewers' streams wait. */
export const MAX_CHAT_ROOMS = 64
/** Chat viewers (open event streams) one edge serves over every room. */
export const MAX_CHAT_CLIENTS = 512
/** Chat event streams from one IP address (a person has a tab or two open, an office behind NAT a few). */
export const MAX_CHAT_CLIENTS_PER_IP = 8
/** Viewer keys (and peers) with a rate bucket per room; past it the oldest bucket goes (a new key starts full anyway). */
export const MAX_CHAT_BUCKETS = 4096

/** A rate: a bucket of `burst` tokens refilled at `perSecond`. */
export interface Rate { burst: number, perSecond: number }

/** One viewer key, on every edge: a person types a line every few seconds; a burst of 5 covers a quick exchange. */
export const CHAT_RATE_KEY: Rate = { burst: 5, perSecond: 0.5 }
/** Every viewer of this edge together, per stream: one edge's share of a busy chat. */
export const CHAT_RATE_EDGE: Rate = { burst: 50, perSecond: 20 }
/** Every message relayed by one other edge, per stream: a hostile edge cannot flood the others' viewers. */
export const CHAT_RATE_PEER: Rate = { burst: 100, perSecond: 50 }

/** Bytes queued for one chat event stream before it is dropped (a viewer that stopped reading). */
export const MAX_CHAT_CLIENT_QUEUE_BYTES = 256 * 1024
/** A comment line this often keeps proxies from closing an idle chat event stream. */
export const CHAT_KEEPALIVE_MS = 15_000
/** How often the owner repeats a stream's moderation state while it has any (a missed gossip message heals). */
export const CHAT_MODERATION_REPEAT_MS = 10_000
/** Chat topics of its own streams an ingest joins at most (one per live stream with chat viewers somewhere). */
export const MAX_OWNER_CHAT_TOPICS = 256
/** Ownership checks of chat topics running at once (a peer subscribing to made-up topics costs a store lookup each). */
export const MAX_OWNER_CHAT_CHECKS = 16
