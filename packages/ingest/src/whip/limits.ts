/**
 * Bounds of WHIP ingest (RFC 9725). Every WHIP client is a stranger until its
 * key is checked, and even then may be hostile: each number caps what one
 * client, or all of them together, can make this ingest hold.
 */

/**
 * Largest SDP offer accepted (bytes). Chromium's offer for one video and one
 * audio track, with every codec and a dozen host candidates, is 6–12 KiB;
 * OBS's is smaller. Four times the largest seen leaves room for more
 * candidates, and a bigger body is never read.
 */
export const MAX_WHIP_SDP_BYTES = 48 * 1024

/** Most m-lines an offer may have: WHIP publishes one video and at most one audio track (a few spare for clients that add an inactive one). */
export const MAX_WHIP_MEDIA_SECTIONS = 4

/**
 * WHIP sessions one ingest holds at once (counting those still connecting).
 * Each holds a peer connection (ICE, DTLS, SRTP in JavaScript), two UDP
 * sockets and two ffmpeg processes (the RTP bridge and the segmenter), so a
 * 2-core ingest is full long before this; past it the answer is 503.
 */
export const MAX_WHIP_SESSIONS = 8

/**
 * WHIP sessions of one stream at once: its publish and one reconnect (a
 * client that lost its connection and offers again before the old session
 * timed out; the new one ends the old one when it connects). Keeps one key
 * from taking every one of the {@link MAX_WHIP_SESSIONS}.
 */
export const MAX_WHIP_SESSIONS_PER_STREAM = 2

/**
 * Time from the answer to a connected peer (ICE and DTLS done, ms). A browser
 * on a LAN takes well under a second; a client that never connects (or an
 * attacker that only POSTs offers) is torn down and counted after this.
 */
export const WHIP_CONNECT_TIMEOUT_MS = 15_000

/**
 * No RTP for this long (ms) ends the publish: a broadcaster that vanished
 * without a DELETE (closed laptop, lost network). Several keyframe requests
 * long, so a stalled encoder gets asked for a keyframe before it is dropped.
 */
export const WHIP_MEDIA_TIMEOUT_MS = 10_000

/**
 * Keyframe requests (RTCP PLI) per segment length. Browsers send a keyframe
 * only when asked; the segmenter cuts at the first keyframe at or after each
 * segment boundary, so one request per segment would land on either side of
 * a boundary and double half the segments. Two per segment keep every
 * segment between 1 and 1.5 segment lengths for the price of a keyframe a
 * second at 2 s segments.
 */
export const WHIP_KEYFRAMES_PER_SEGMENT = 2

/** Resource ids (the path of the `Location` to DELETE): 128 random bits, base64url, so they cannot be guessed. */
export const WHIP_RESOURCE_ID_BYTES = 16
