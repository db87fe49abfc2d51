import { randomBytes } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** A short, URL-safe stream id (public: it appears in playback URLs). */
export function newStreamId (): string {
  const bytes = randomBytes(12)
  let out = ''
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length]
  return out
}

/** A stream key (secret: whoever has it may publish). 128 bits, hex. */
export function newStreamKey (): string {
  return randomBytes(16).toString('hex')
}
