import { createHash } from 'node:crypto'
import { fromString, toString } from 'uint8arrays'
import { PEER_ID_PATTERN, STREAM_ID_CHARS, STREAM_SALT_BYTES } from './limits.js'

/**
 * Self-certifying stream ids (PROTOCOL.md §9, C2): a stream id commits to the
 * peer id of the ingest that made it, so ownership is checked, not trusted to
 * whoever announces first.
 *
 *     streamId = base32lower(sha256("diststream/stream-id/v1" ‖ ingestPeerId bytes ‖ salt))[0, 20)
 *
 * 20 base32 characters are 100 bits: finding a salt that maps another peer id
 * to a given stream id costs ~2^100 hashes (not grindable).
 */

const DOMAIN = new TextEncoder().encode('diststream/stream-id/v1')

/** The multihash bytes of a peer id in its string form (base58btc), or undefined when it is not one. */
function peerIdBytes (peerId: string): Uint8Array | undefined {
  if (!PEER_ID_PATTERN.test(peerId)) return undefined
  let bytes: Uint8Array
  try {
    bytes = fromString(peerId, 'base58btc')
  } catch {
    return undefined // not base58btc after all: no stream can be derived from it
  }
  // A peer id is a multihash: identity (0x00, inlined public key, Ed25519/secp256k1) or sha256 (0x12, 32 bytes, RSA).
  const identity = bytes[0] === 0x00 && bytes.length > 2 && bytes[1] === bytes.length - 2
  const sha256 = bytes[0] === 0x12 && bytes[1] === 0x20 && bytes.length === 34
  return identity || sha256 ? bytes : undefined
}

/** The stream id `peerId` owns with `salt`. Throws on a peer id that is not base58btc or a salt that is not STREAM_SALT_BYTES long. */
export function streamIdFor (peerId: string, salt: Uint8Array): string {
  const id = peerIdBytes(peerId)
  if (id == null) throw new TypeError(`not a base58btc peer id: ${peerId.slice(0, 64)}`)
  if (salt.byteLength !== STREAM_SALT_BYTES) throw new TypeError(`a stream salt is ${STREAM_SALT_BYTES} bytes, not ${salt.byteLength}`)
  const digest = createHash('sha256').update(DOMAIN).update(id).update(salt).digest()
  return toString(digest, 'base32').slice(0, STREAM_ID_CHARS)
}

/**
 * Whether `signer` (a peer id string, the gossip signer or the peer that
 * answered) owns `streamId` with `salt`. False, never a throw, for anything
 * malformed: an absent or wrong-length salt, a signer that is not a peer id.
 */
export function verifyStreamOwner (streamId: string, signer: string, salt: Uint8Array | undefined): boolean {
  if (salt == null || salt.byteLength !== STREAM_SALT_BYTES || streamId.length !== STREAM_ID_CHARS) return false
  if (peerIdBytes(signer) == null) return false
  return streamIdFor(signer, salt) === streamId
}
