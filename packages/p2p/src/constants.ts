/**
 * The control plane's timings, in one place. The cost of an idle node must
 * not grow with the network (issue 12): every periodic message is a slow
 * keep-alive, and what changes is sent when it changes, bounded in rate.
 */

/** Presence: the least time between two announcements of one node (rate bound: a worker's capacity changes with every job). */
export const PRESENCE_MIN_GAP_MS = 1000
/** Presence: announced at least this long apart when nothing changed (a keep-alive, so peers that missed a change catch up). */
export const PRESENCE_KEEPALIVE_MS = 30_000
/**
 * Presence: the keep-alives of the whole network together stay within this many messages a second
 * (each node stretches its keep-alive to known peers ÷ this, in seconds: 30 s up to 30 peers, 60 s at
 * 60, 10,000 s at 10,000), so what an idle node receives does not grow with the network. Departures
 * are noticed by disconnects ({@link PRESENCE_DISCONNECTED_EXPIRY_MS}), not by silence.
 */
export const PRESENCE_NETWORK_BUDGET_PER_S = 1
/** Presence: how often a node compares its own state with what it last announced (a protobuf encode: cheap). */
export const PRESENCE_CHECK_MS = 250
/** Presence: a peer not heard from for three keep-alives (and this margin) is forgotten: one or two lost messages are not a departure. */
export const PRESENCE_EXPIRY_MARGIN_MS = 5000
/** Presence: a peer we held a connection to and lost is forgotten after this long without a new connection or announcement (a dead worker must not be counted on for a minute). */
export const PRESENCE_DISCONNECTED_EXPIRY_MS = 10_000
/** Presence: most peers in the table (keyed by peer ids that strangers choose). */
export const MAX_PRESENCE_PEERS = 10_000

/** Random walks: the first this long after start. */
export const FIRST_WALK_MS = 1000
/** Random walks: the pause after a walk that found a new peer. */
export const WALK_INTERVAL_MS = 30_000
/** Random walks: a walk that found nobody new doubles the pause, up to this (a settled network stops walking it). */
export const MAX_WALK_INTERVAL_MS = 600_000

/** Gossipsub heartbeat (mesh upkeep, IHAVE gossip, score decay): 1 s (the library's default); eager pushes do not wait for it. */
export const GOSSIP_HEARTBEAT_MS = 1000
/** Gossipsub mesh degree: target, low and high water marks, and peers gossiped to (IHAVE) per heartbeat. Our topics carry few, small messages. */
export const GOSSIP_D = 3
export const GOSSIP_D_LOW = 2
export const GOSSIP_D_HIGH = 6
export const GOSSIP_D_LAZY = 3
/** Gossipsub seen-cache: a message id is remembered this long so duplicates are dropped before any signature check. */
export const GOSSIP_SEEN_TTL_MS = 120_000
/** libp2p's connection monitor: a ping on each connection this often (a closed socket is noticed at once; this finds silent ones). */
export const PING_INTERVAL_MS = 60_000

/**
 * Gossip accepted per signer and topic (token bucket; more is dropped unforwarded and counted as
 * `rate_limited`). Presence: one a second (PRESENCE_MIN_GAP_MS) with a burst of 5 for
 * restarts and clock jitter. Other topics: an ingest announces a job per segment and rendition of
 * every stream (10 streams × 4 rungs × 1 s segments = 40/s, re-announces on top), so 50/s, burst 200.
 */
export const GOSSIP_PRESENCE_BUCKET = { burst: 5, perSecond: 1 }
export const GOSSIP_TOPIC_BUCKET = { burst: 200, perSecond: 50 }
/** Signer × topic buckets remembered (keyed by strangers' ids); a forgotten key starts again with one burst. */
export const GOSSIP_MAX_RATE_KEYS = 8192

/**
 * Presence: new signers (not yet in the table) one propagation source may bring in, as a token
 * bucket. An honest relay passes the network's keep-alives (PRESENCE_NETWORK_BUDGET_PER_S, 1/s for the
 * whole network) and newcomers' announcements; a Sybil publishing thousands of fresh keys through one
 * connection is held to this (refused: `presence_source_rate`).
 */
export const PRESENCE_NEW_SIGNERS_PER_SOURCE = { burst: 64, perSecond: 2 }
/** Sources with a new-signer bucket (bounded by our connections in practice; a stranger's key all the same). */
export const PRESENCE_MAX_SOURCES = 1024
/**
 * Presence: most entries for peers we hold no connection to (relayed presences). Peers with a
 * direct connection are always taken (libp2p's maxConnections bounds them) and never evicted for a
 * relayed one; when relayed entries are at this cap, a new one is refused (`presence_table_full`),
 * so a flood cannot push honest entries out. 1024 = the largest bid election (electionSize's cap).
 */
export const MAX_RELAYED_PRESENCE = 1024
/**
 * Presence: dials of peers learned only from a relayed presence (nobody we are connected to vouches
 * for the addresses), as a token bucket: a flood of presences with attacker-chosen addresses makes at
 * most this many dials (scan/amplification bound). A joining node meets its first peers through
 * bootstrap, the DHT and these.
 */
export const PRESENCE_RELAYED_DIALS = { burst: 8, perSecond: 0.2 }
