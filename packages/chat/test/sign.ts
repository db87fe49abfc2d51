import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { chatSigningBytes } from '@diststream/protocol'
import type { ChatMessage } from '@diststream/protocol'

/** A viewer: an Ed25519 key pair, and a way to sign messages as a browser does. */
export function viewer (): { key: string, say: (stream: string, text: string, ts: number, extra?: Partial<ChatMessage>) => ChatMessage } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const key = publicKey.export({ format: 'jwk' }).x!
  return {
    key,
    say: (stream, text, ts, extra = {}) => {
      const m = { stream, key, name: 'ann', text, ts, id: randomBytes(16).toString('base64url'), ...extra }
      return { ...m, sig: sign(null, chatSigningBytes(m), privateKey).toString('base64url') }
    }
  }
}
