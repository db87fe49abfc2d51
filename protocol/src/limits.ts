/**
 * Size and count limits of the wire protocol. Every limit is enforced by the
 * receiver before or while decoding; senders must stay within them (the codecs'
 * `encode` checks too). Changing a limit downwards is a breaking change.
 */

const KiB = 1024
const MiB = 1024 * KiB

/** Largest gossip message (the bare protobuf). Larger ones are rejected. */
export const MAX_GOSSIP_BYTES = 64 * KiB
/** Largest length-prefixed control frame (any frame that is not segment data). */
export const MAX_CONTROL_BYTES = 1 * MiB
/** Largest data frame: segment and rendition bytes are sent in frames of at most this. */
export const MAX_CHUNK_BYTES = 256 * KiB
/** Largest segment or rendition. */
export const MAX_SEGMENT_BYTES = 64 * MiB
/** Largest fMP4 init segment (Rendition.init_size): ftyp + moov of one video and one audio track is ~1.3 KB. */
export const MAX_INIT_BYTES = 64 * KiB
/** Most renditions in one message (StreamAnnounce, SegmentAnnounce, TranscodeResponse). */
export const MAX_RENDITIONS = 8
/** Most rungs in a JobAnnounce ladder. */
export const MAX_LADDER = 7
/** Most segments in an INDEX FetchResponse. */
export const MAX_INDEX_SEGMENTS = 512
/** Most roles in a Presence. */
export const MAX_ROLES = 4
/** Most multiaddrs in Presence.multiaddrs or StreamAnnounce.ingest_multiaddrs. */
export const MAX_MULTIADDRS = 16
/** Longest string field and longest binary multiaddr, in UTF-8 bytes. */
export const MAX_STRING = 256
/** Stream ids, job ids and rendition names. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
/** Most peer ids in a BUSY FetchResponse's `holders`. */
export const MAX_HOLDERS = 8
/** Peer ids in `holders`: base58btc (the string form of libp2p peer ids). */
export const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/
/** Largest width or height in pixels. */
export const MAX_DIMENSION = 8192
/** Longest segment (or target) duration. */
export const MAX_DURATION_MS = 60_000
/** Length of a sha256 digest. */
export const SHA256_BYTES = 32
/** Random bytes in a stream's salt (StreamAnnounce.salt): 128 bits, so two streams of one ingest never share an id. */
export const STREAM_SALT_BYTES = 16
/** Characters of a stream id (base32, 5 bits each): 100 bits, too many to grind a salt that maps another peer id onto it. */
export const STREAM_ID_CHARS = 20
/** Longest playback token (PROTOCOL.md §11): claims of at most 102 bytes and a 64-byte signature, base64url, with room to spare; longer is refused unparsed. */
export const MAX_PLAYBACK_TOKEN_CHARS = 256
/** A playback token's viewer id: short, URL-safe, so the token stays bounded and the id can be logged as is. */
export const PLAYBACK_VIEWER_PATTERN = /^[A-Za-z0-9._:@-]{1,64}$/
/** Longest lifetime a playback token may claim (exp − iat): a leaked token is good for a day at most. */
export const MAX_PLAYBACK_TOKEN_TTL_SECONDS = 24 * 3600
/** How far an edge's clock may run from the ingest's: a token is accepted this long past its exp, and with an iat this far ahead. */
export const PLAYBACK_TOKEN_SKEW_SECONDS = 30

/** Most streams in one ViewerCounts: an edge reports its most-watched streams; 64 ids of 64 chars fit in ~5 KB. */
export const MAX_VIEWER_COUNT_STREAMS = 64
/** Most viewers one edge's claim counts for, per stream: a liar inflates a stream by at most this per peer id (100,000 players at ~1 Mb/s is 100 Gb/s, beyond one machine). */
export const MAX_VIEWERS_PER_CLAIM = 100_000
/** An edge sends ViewerCounts at most this often (a count that changes every second costs one message per this). */
export const VIEWER_REPORT_MIN_INTERVAL_MS = 5_000
/** An edge with viewers repeats its ViewerCounts this often even when nothing changed (an edge with none sends nothing). */
export const VIEWER_REPORT_KEEPALIVE_MS = 60_000
/** A receiver forgets an edge's claim this long after its last ViewerCounts (2.5 keep-alives: one lost message does not drop it). */
export const VIEWER_CLAIM_TTL_MS = 150_000

/** Live chat (PROTOCOL.md §10). */
/** Longest chat text, in UTF-8 bytes: a chat line, not a document (a flood of long lines costs every edge's viewers). */
export const MAX_CHAT_TEXT_BYTES = 500
/** Longest display name, in UTF-8 bytes. */
export const MAX_CHAT_NAME_BYTES = 64
/** Largest chat gossip message (JSON): a moderation state with every ban and deletion fits; a chat message is far smaller. */
export const MAX_CHAT_GOSSIP_BYTES = 32 * KiB
/** Largest chat message body a viewer may POST (JSON): text and name at their limits, escaped, plus the fixed fields. */
export const MAX_CHAT_POST_BYTES = 4 * KiB
/** Banned viewer keys per stream in one moderation state (bounded: the state travels whole). */
export const MAX_CHAT_BANS = 256
/** Deleted message ids per stream in one moderation state (the newest are kept; older ones have left every edge's history). */
export const MAX_CHAT_DELETED = 256
/** Longest slow mode (seconds between two messages of one viewer). */
export const MAX_CHAT_SLOW_SECONDS = 3600
/** How far a chat message's ts may be from the receiving edge's clock (ms), either way: older is a replay, newer a lie. */
export const CHAT_TS_SKEW_MS = 30_000
/** Viewer keys: a raw Ed25519 public key (32 bytes) in base64url, no padding. */
export const CHAT_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/
/** Message ids: 16 random bytes (or more, up to 32) in base64url. */
export const CHAT_ID_PATTERN = /^[A-Za-z0-9_-]{22,43}$/
/** Signatures: an Ed25519 signature (64 bytes) in base64url. */
export const CHAT_SIG_PATTERN = /^[A-Za-z0-9_-]{86}$/
