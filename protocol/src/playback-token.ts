import { createPublicKey, verify as verifySignature } from 'node:crypto'
import { fromString } from 'uint8arrays'
import { MAX_PLAYBACK_TOKEN_CHARS, MAX_PLAYBACK_TOKEN_TTL_SECONDS, PEER_ID_PATTERN, PLAYBACK_TOKEN_SKEW_SECONDS, PLAYBACK_VIEWER_PATTERN, STREAM_ID_CHARS } from './limits.js'
import type { KeyObject } from 'node:crypto'

/**
 * Playback tokens for private streams (PROTOCOL.md §11). The ingest signs
 * the claims with its libp2p Ed25519 key; any edge checks them offline
 * against the public key inlined in the owner's peer id (the peer the
 * stream id commits to, §9), so no edge ever asks the ingest.
 *
 *     token  = base64url(claims) "." base64url(ed25519(DOMAIN ‖ claims))
 *     claims = version (1 byte, 1) ‖ stream id (20 ASCII bytes)
 *              ‖ iat (u64 BE, unix seconds) ‖ exp (u64 BE, unix seconds)
 *              ‖ viewer length (1 byte, 0..64) ‖ viewer (ASCII)
 *
 * A fixed binary layout is its own canonical encoding: one claim set has
 * exactly one byte string, so nothing can be re-encoded around the signature.
 */

export const PLAYBACK_TOKEN_VERSION = 1
const DOMAIN = new TextEncoder().encode('diststream/playback-token/v1\0')
const FIXED = 1 + STREAM_ID_CHARS + 8 + 8 + 1
const SIGNATURE_BYTES = 64
const B64URL = /^[A-Za-z0-9_-]+$/

export interface PlaybackClaims {
  streamId: string
  /** Issued at, unix seconds. */
  iat: number
  /** Expires at, unix seconds. */
  exp: number
  viewer?: string
}

/** Why a token is refused: `malformed` (not a token), `signature` (forged or tampered), `stream` (another stream's), `expired`, `not_yet_valid` (issued in the future), `lifetime` (claims more than the maximum TTL), `owner` (the owner's key cannot verify: not Ed25519). */
export type PlaybackTokenRefusal = 'malformed' | 'signature' | 'stream' | 'expired' | 'not_yet_valid' | 'lifetime' | 'owner'

export type PlaybackTokenCheck = { ok: true, claims: PlaybackClaims } | { ok: false, reason: PlaybackTokenRefusal }

export class PlaybackTokenError extends Error {
  static readonly NAME = 'PlaybackTokenError'
  override name = PlaybackTokenError.NAME
}

/** The claims' canonical bytes. Throws PlaybackTokenError on claims that cannot be a token. */
export function encodeClaims (c: PlaybackClaims): Uint8Array {
  if (c.streamId.length !== STREAM_ID_CHARS || !/^[a-z2-7]+$/.test(c.streamId)) throw new PlaybackTokenError('not a stream id')
  if (!Number.isSafeInteger(c.iat) || !Number.isSafeInteger(c.exp) || c.iat < 0 || c.exp <= c.iat) throw new PlaybackTokenError('iat and exp must be whole seconds, exp after iat')
  if (c.exp - c.iat > MAX_PLAYBACK_TOKEN_TTL_SECONDS) throw new PlaybackTokenError(`a token lives at most ${MAX_PLAYBACK_TOKEN_TTL_SECONDS} s`)
  if (c.viewer != null && !PLAYBACK_VIEWER_PATTERN.test(c.viewer)) throw new PlaybackTokenError(`viewer must match ${PLAYBACK_VIEWER_PATTERN.source}`)
  const viewer = new TextEncoder().encode(c.viewer ?? '')
  const out = new Uint8Array(FIXED + viewer.byteLength)
  const view = new DataView(out.buffer)
  out[0] = PLAYBACK_TOKEN_VERSION
  out.set(new TextEncoder().encode(c.streamId), 1)
  view.setBigUint64(1 + STREAM_ID_CHARS, BigInt(c.iat))
  view.setBigUint64(1 + STREAM_ID_CHARS + 8, BigInt(c.exp))
  out[FIXED - 1] = viewer.byteLength
  out.set(viewer, FIXED)
  return out
}

/** The claims in `bytes`, or undefined when they are not exactly one canonical encoding. */
export function decodeClaims (bytes: Uint8Array): PlaybackClaims | undefined {
  if (bytes.byteLength < FIXED || bytes[0] !== PLAYBACK_TOKEN_VERSION) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const viewerLength = bytes[FIXED - 1] ?? 0
  if (bytes.byteLength !== FIXED + viewerLength) return undefined
  const text = new TextDecoder('utf-8', { fatal: false })
  const claims: PlaybackClaims = {
    streamId: text.decode(bytes.subarray(1, 1 + STREAM_ID_CHARS)),
    iat: Number(view.getBigUint64(1 + STREAM_ID_CHARS)),
    exp: Number(view.getBigUint64(1 + STREAM_ID_CHARS + 8))
  }
  if (viewerLength > 0) claims.viewer = text.decode(bytes.subarray(FIXED))
  try {
    // Round trip: anything that is not the canonical encoding of valid claims is refused.
    const again = encodeClaims(claims)
    return again.byteLength === bytes.byteLength && again.every((b, i) => b === bytes[i]) ? claims : undefined
  } catch {
    return undefined
  }
}

/** The bytes the signature covers. */
export function signedBytes (claims: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN.byteLength + claims.byteLength)
  out.set(DOMAIN)
  out.set(claims, DOMAIN.byteLength)
  return out
}

/** Signs `claims` with `sign` (a libp2p Ed25519 private key's `sign`). */
export async function signPlaybackToken (claims: PlaybackClaims, sign: (data: Uint8Array) => Uint8Array | Promise<Uint8Array>): Promise<string> {
  const bytes = encodeClaims(claims)
  const sig = await sign(signedBytes(bytes))
  if (sig.byteLength !== SIGNATURE_BYTES) throw new PlaybackTokenError('the signing key is not Ed25519')
  return `${Buffer.from(bytes).toString('base64url')}.${Buffer.from(sig).toString('base64url')}`
}

/**
 * The raw Ed25519 public key inlined in a peer id (identity multihash of the
 * protobuf PublicKey { Type = Ed25519, Data = 32 bytes }), or undefined for
 * any other peer id (RSA and secp256k1 owners cannot sign playback tokens).
 */
export function ed25519KeyOfPeer (peerId: string): Uint8Array | undefined {
  if (!PEER_ID_PATTERN.test(peerId)) return undefined
  let b: Uint8Array
  try { b = fromString(peerId, 'base58btc') } catch { return undefined }
  // 0x00 identity, length 36, then 0x08 0x01 (Type = Ed25519) 0x12 0x20 (Data, 32 bytes).
  if (b.byteLength !== 38 || b[0] !== 0x00 || b[1] !== 36 || b[2] !== 0x08 || b[3] !== 0x01 || b[4] !== 0x12 || b[5] !== 0x20) return undefined
  return b.subarray(6)
}

/** A node:crypto key for a raw Ed25519 public key. */
export function ed25519PublicKey (raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}

/** Splits and decodes a token without checking its signature: undefined when it is not one. */
export function parsePlaybackToken (token: string): { claims: PlaybackClaims, claimBytes: Uint8Array, signature: Uint8Array } | undefined {
  if (token.length > MAX_PLAYBACK_TOKEN_CHARS) return undefined
  const parts = token.split('.')
  if (parts.length !== 2 || !B64URL.test(parts[0] ?? '') || !B64URL.test(parts[1] ?? '')) return undefined
  const claimBytes = new Uint8Array(Buffer.from(parts[0] ?? '', 'base64url'))
  const signature = new Uint8Array(Buffer.from(parts[1] ?? '', 'base64url'))
  // Canonical base64url too: no padding bits set, so one token has one spelling.
  if (Buffer.from(claimBytes).toString('base64url') !== parts[0] || Buffer.from(signature).toString('base64url') !== parts[1]) return undefined
  if (signature.byteLength !== SIGNATURE_BYTES) return undefined
  const claims = decodeClaims(claimBytes)
  return claims == null ? undefined : { claims, claimBytes, signature }
}

export interface VerifyPlaybackOptions {
  /** The stream the request is for. */
  streamId: string
  /** The owner's public key (see {@link ed25519KeyOfPeer}, {@link ed25519PublicKey}). */
  key: KeyObject
  /** Now, unix seconds. */
  nowSec: number
  skewSec?: number
}

/** Checks a token: cheap checks first (size, form, stream, time), the signature last. Never throws. */
export function verifyPlaybackToken (token: string, opts: VerifyPlaybackOptions): PlaybackTokenCheck {
  const parsed = parsePlaybackToken(token)
  if (parsed == null) return { ok: false, reason: 'malformed' }
  const { claims } = parsed
  const timing = checkTiming(claims, opts.nowSec, opts.skewSec)
  if (claims.streamId !== opts.streamId) return { ok: false, reason: 'stream' }
  if (timing != null) return { ok: false, reason: timing }
  let good = false
  try {
    good = verifySignature(null, signedBytes(parsed.claimBytes), opts.key, parsed.signature)
  } catch {
    good = false
  }
  return good ? { ok: true, claims } : { ok: false, reason: 'signature' }
}

/** Whether claims are valid at `nowSec` (unix seconds), with the skew allowance; the refusal when not. */
export function checkTiming (claims: PlaybackClaims, nowSec: number, skewSec = PLAYBACK_TOKEN_SKEW_SECONDS): 'expired' | 'not_yet_valid' | 'lifetime' | undefined {
  if (claims.exp - claims.iat > MAX_PLAYBACK_TOKEN_TTL_SECONDS) return 'lifetime'
  if (nowSec > claims.exp + skewSec) return 'expired'
  if (claims.iat > nowSec + skewSec) return 'not_yet_valid'
  return undefined
}
