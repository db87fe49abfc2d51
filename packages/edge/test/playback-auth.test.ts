import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { test } from 'node:test'
import { PLAYBACK_TOKEN_SKEW_SECONDS, signPlaybackToken, STREAM_SALT_BYTES, streamIdFor } from '@diststream/protocol'
import { FakeClock } from '@diststream/util'
import { PlaybackGate } from '../src/playback-auth.js'
import type { PlaybackRefusal } from '../src/playback-auth.js'

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** base58btc of bytes (a leading 0x00 is a '1'), enough for a test's peer ids. */
function base58 (bytes: Uint8Array): string {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'))
  let out = ''
  while (n > 0n) { out = B58[Number(n % 58n)]! + out; n /= 58n }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out }
  return out
}

function owner (): { peerId: string, signer: (d: Uint8Array) => Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')
  return { peerId: base58(new Uint8Array([0x00, 36, 0x08, 0x01, 0x12, 0x20, ...raw])), signer: d => new Uint8Array(sign(null, d, privateKey)) }
}

const T0 = 1_800_000_000_000
const alice = owner()
const STREAM = streamIdFor(alice.peerId, new Uint8Array(STREAM_SALT_BYTES).fill(1))
const OTHER = streamIdFor(alice.peerId, new Uint8Array(STREAM_SALT_BYTES).fill(2))

function gate (maxTokens?: number): { gate: PlaybackGate, clock: FakeClock, refused: PlaybackRefusal[] } {
  const clock = new FakeClock(T0)
  const refused: PlaybackRefusal[] = []
  return { gate: new PlaybackGate({ clock, onRefused: r => refused.push(r), ...(maxTokens != null ? { maxTokens } : {}) }), clock, refused }
}

test('no token is a 401, a good one passes, and one remembered still expires on time', async () => {
  const { gate: g, clock, refused } = gate()
  assert.throws(() => g.check(STREAM, alice.peerId, undefined), (e: any) => e.name === 'PlaybackTokenMissingError' && e.statusCode === 401)
  const token = await signPlaybackToken({ streamId: STREAM, iat: T0 / 1000, exp: T0 / 1000 + 60 }, alice.signer)
  assert.equal(g.check(STREAM, alice.peerId, token).exp, T0 / 1000 + 60)
  assert.equal(g.check(STREAM, alice.peerId, token).streamId, STREAM, 'from the cache')
  // Remembered for stream A, still refused for stream B.
  assert.throws(() => g.check(OTHER, alice.peerId, token), (e: any) => e.name === 'PlaybackTokenRefusedError' && e.statusCode === 403)
  clock.advance((60 + PLAYBACK_TOKEN_SKEW_SECONDS) * 1000)
  assert.equal(g.check(STREAM, alice.peerId, token).streamId, STREAM, 'within the skew allowance')
  clock.advance(1000)
  assert.throws(() => g.check(STREAM, alice.peerId, token), { name: 'PlaybackTokenRefusedError' })
  assert.deepEqual(refused, ['missing', 'stream', 'expired'])
})

test('a forged token and an owner without an Ed25519 key are refused; the remembered tokens are bounded', async () => {
  const { gate: g, refused } = gate(2)
  const mallory = owner()
  const forged = await signPlaybackToken({ streamId: STREAM, iat: T0 / 1000, exp: T0 / 1000 + 60 }, mallory.signer)
  assert.throws(() => g.check(STREAM, alice.peerId, forged), { name: 'PlaybackTokenRefusedError' })
  assert.throws(() => g.check(STREAM, 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', forged), { name: 'PlaybackTokenRefusedError' })
  for (let i = 0; i < 5; i++) {
    const t = await signPlaybackToken({ streamId: STREAM, iat: T0 / 1000, exp: T0 / 1000 + 60 + i }, alice.signer)
    g.check(STREAM, alice.peerId, t)
  }
  assert.equal(g.remembered, 2)
  assert.deepEqual(refused, ['signature', 'owner'])
})
