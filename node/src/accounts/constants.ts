/**
 * Limits of broadcaster accounts (issue 17). Every number a stranger can push
 * against is bounded here, with its reason.
 */

const MINUTE = 60_000

/** Accounts one node keeps: registration is open to anyone who reaches the API, so the database cannot grow without end. */
export const MAX_USERS = 10_000
/** Live sessions per user: a new login past this ends the oldest (a lost device's session does not pile up). */
export const MAX_SESSIONS_PER_USER = 10
/** Channels one user may own. */
export const MAX_CHANNELS_PER_USER = 20

/** Streams a channel holds (those removed by the ingest are pruned first): a user cannot fill the ingest's database with streams. */
export const MAX_STREAMS_PER_CHANNEL = 50
/** Channels one `GET /api/channels` lists. */
export const MAX_CHANNELS_LISTED = 500

/** Default session lifetime (`--session-ttl-seconds`): a week, then log in again. */
export const DEFAULT_SESSION_TTL_SECONDS = 7 * 24 * 3600
/** Longest session lifetime the flag takes. */
export const MAX_SESSION_TTL_SECONDS = 90 * 24 * 3600

/** The session cookie's name. */
export const SESSION_COOKIE = 'ds_session'
/** Random bytes in a session token (256 bits; stored only as its sha256). */
export const SESSION_TOKEN_BYTES = 32

/** Usernames: lowercase ASCII letters, digits, `_` and `-`, 3..32, starting with a letter or digit (no confusable look-alikes). */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_-]{2,31}$/
/** Shortest password taken (NIST SP 800-63B asks at least 8; we ask 10). */
export const MIN_PASSWORD_LENGTH = 10
/** Longest password taken, in characters: bounds the bytes Argon2 hashes per request. */
export const MAX_PASSWORD_LENGTH = 256

/** Channel names: what goes in a URL path segment, lowercase, 3..32. */
export const CHANNEL_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{2,31}$/
export const MAX_CHANNEL_TITLE_LENGTH = 140
export const MAX_AVATAR_URL_LENGTH = 2048

/**
 * Argon2id parameters: OWASP's first recommended set (19 MiB, 2 passes, 1
 * lane); about 60 ms on one core of the test machine.
 */
export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const
/**
 * Argon2 computations at once: each takes 19 MiB and a core for ~60 ms, so a
 * burst of logins must not take the node's memory and CPU from its streams.
 * Past this, a login or registration is answered 503 with Retry-After.
 */
export const MAX_CONCURRENT_HASHES = 4

/** Login attempts per username: a burst of 5, then one every 12 s (5 a minute) — guessing a password stays slow. */
export const LOGIN_PER_USER = { capacity: 5, refillMs: 12_000 } as const
/** Login attempts per address (IPv4, or IPv6 /64): a burst of 20, then one every 3 s, so one host cannot try many accounts. */
export const LOGIN_PER_ADDRESS = { capacity: 20, refillMs: 3000 } as const
/** Registrations per address: a burst of 10, then one a minute (each costs an Argon2 hash and a record). */
export const REGISTER_PER_ADDRESS = { capacity: 10, refillMs: MINUTE } as const
/** Buckets kept per limiter: keyed by what a stranger sends (usernames, addresses), so bounded; full buckets are dropped first. */
export const MAX_RATE_LIMIT_KEYS = 10_000
