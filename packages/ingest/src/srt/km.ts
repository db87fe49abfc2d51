import { createDecipheriv, pbkdf2Sync } from 'node:crypto'

/** SRT's PBKDF2 rounds for the key-encrypting key (libsrt's HAICRYPT_PBKDF2_ITER_CNT). */
const PBKDF2_ROUNDS = 2048
/** SRT uses the last 8 bytes of the key material's salt for PBKDF2 (HAICRYPT_PBKDF2_SALT_LEN). */
const PBKDF2_SALT_BYTES = 8
/** RFC 3394's default initial value, which an unwrapped key must reproduce. */
const KEY_WRAP_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex')
/** Most wrapped bytes: both keys (even and odd) of 32 bytes plus the wrap's 8. */
const MAX_WRAPPED_BYTES = 2 * 32 + 8

/** Why a caller's key material does not open with our passphrase. */
export type KmVerdict = 'ok' | 'bad_passphrase' | 'malformed'

/**
 * Whether a caller's KMREQ (the key material of an encrypting SRT caller) was wrapped with
 * `passphrase`: the key-encrypting key is PBKDF2-HMAC-SHA1(passphrase, salt's last 8 bytes,
 * 2048 rounds) and the stream keys are AES-key-wrapped (RFC 3394) with it, so the unwrap's
 * integrity check says whether the passphrases match, before any ffmpeg sees the caller.
 * (ffmpeg's listener checks again, and decrypts.)
 */
export function checkKeyMaterial (kmreq: Uint8Array, passphrase: string): KmVerdict {
  if (kmreq.length < 16) return 'malformed'
  // Byte 0: version 1, packet type 2 (KMmsg); bytes 1-2: the 0x2029 signature.
  if (kmreq[0] !== 0x12 || kmreq[1] !== 0x20 || kmreq[2] !== 0x29) return 'malformed'
  const saltLen = kmreq[14]! * 4
  const keyLen = kmreq[15]! * 4
  const keys = (kmreq[3]! & 0x03) === 0x03 ? 2 : 1
  if (![16, 24, 32].includes(keyLen) || saltLen < PBKDF2_SALT_BYTES || saltLen > 16) return 'malformed'
  const salt = kmreq.subarray(16, 16 + saltLen)
  const wrapped = kmreq.subarray(16 + saltLen, 16 + saltLen + keys * keyLen + 8)
  if (wrapped.length !== keys * keyLen + 8 || wrapped.length > MAX_WRAPPED_BYTES) return 'malformed'
  const kek = pbkdf2Sync(passphrase, salt.subarray(saltLen - PBKDF2_SALT_BYTES), PBKDF2_ROUNDS, keyLen, 'sha1')
  try {
    const d = createDecipheriv(`id-aes${keyLen * 8}-wrap`, kek, KEY_WRAP_IV)
    d.update(wrapped)
    d.final()
    return 'ok'
  } catch {
    return 'bad_passphrase' // the unwrap's integrity check failed: another passphrase
  }
}
