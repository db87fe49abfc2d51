import { createHash, randomBytes } from 'node:crypto'
import { STREAM_SALT_BYTES, streamIdFor } from '@diststream/protocol'

/**
 * A new stream's public id and its salt (hex, kept in the stream record and
 * sent in every StreamAnnounce): the id commits to this ingest's peer id
 * (`streamIdFor`, PROTOCOL.md §9), so no other peer can announce it.
 */
export function newStreamIdentity (ingestPeerId: string): { id: string, salt: string } {
  const salt = randomBytes(STREAM_SALT_BYTES)
  return { id: streamIdFor(ingestPeerId, salt), salt: salt.toString('hex') }
}

/** A stream key (secret: whoever has it may publish). 128 bits, hex. */
export function newStreamKey (): string {
  return randomBytes(16).toString('hex')
}

/**
 * What the ingest keeps of a stream key: its sha256 (hex). The key itself is
 * shown once, in the answer that created (or rotated) it, and never stored,
 * so a copy of the data directory cannot publish (security review M12).
 * A plain hash is enough: the key is 128 random bits, not a password.
 */
export function hashStreamKey (key: string): string {
  return createHash('sha256').update(`diststream/stream-key/v1\0${key}`).digest('hex')
}

/** A new stream key and what is stored of it. */
export function newStreamKeyPair (): { key: string, keyHash: string } {
  const key = newStreamKey()
  return { key, keyHash: hashStreamKey(key) }
}
