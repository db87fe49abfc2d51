import { randomBytes } from 'node:crypto'
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
