import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { test } from 'node:test'
import { toString } from 'uint8arrays'
import {
  decodeClaims, ed25519KeyOfPeer, ed25519PublicKey, encodeClaims, MAX_PLAYBACK_TOKEN_CHARS, MAX_PLAYBACK_TOKEN_TTL_SECONDS,
  parsePlaybackToken, PLAYBACK_TOKEN_SKEW_SECONDS, signPlaybackToken, STREAM_SALT_BYTES, streamIdFor, verifyPlaybackToken
} from '../src/index.js'
import type { KeyObject } from 'node:crypto'

/** A fresh Ed25519 key pair with its libp2p peer id (identity multihash of the protobuf public key), made with node:crypto only. */
function keyPair (): { peerId: string, signer: (d: Uint8Array) => Uint8Array, publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')
  const mh = new Uint8Array([0x00, 36, 0x08, 0x01, 0x12, 0x20, ...raw])
  return { peerId: toString(mh, 'base58btc'), signer: d => new Uint8Array(sign(null, d, privateKey)), publicKey }
}

const owner = keyPair()
const other = keyPair()
const STREAM = streamIdFor(owner.peerId, new Uint8Array(STREAM_SALT_BYTES).fill(7))
const OTHER_STREAM = streamIdFor(owner.peerId, new Uint8Array(STREAM_SALT_BYTES).fill(8))
const NOW = 1_800_000_000
const key = ed25519PublicKey(ed25519KeyOfPeer(owner.peerId) ?? new Uint8Array())

test('the owner key comes out of the peer id, and a token it signs verifies offline', async () => {
  assert.match(owner.peerId, /^12D3KooW/)
  const token = await signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 600, viewer: 'alice@example' }, owner.signer)
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'URL-safe, nothing to escape')
  assert.ok(token.length <= MAX_PLAYBACK_TOKEN_CHARS)
  const r = verifyPlaybackToken(token, { streamId: STREAM, key, nowSec: NOW + 1 })
  assert.deepEqual(r, { ok: true, claims: { streamId: STREAM, iat: NOW, exp: NOW + 600, viewer: 'alice@example' } })
  // A token with no viewer, the largest with one: both bounded.
  const big = await signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 1, viewer: 'v'.repeat(64) }, owner.signer)
  assert.ok(big.length <= MAX_PLAYBACK_TOKEN_CHARS, `${big.length} chars`)
})

test('expired (past the skew allowance) and issued-in-the-future tokens are refused', async () => {
  const token = await signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 60 }, owner.signer)
  assert.equal(verifyPlaybackToken(token, { streamId: STREAM, key, nowSec: NOW + 60 + PLAYBACK_TOKEN_SKEW_SECONDS }).ok, true, 'within the skew')
  assert.deepEqual(verifyPlaybackToken(token, { streamId: STREAM, key, nowSec: NOW + 61 + PLAYBACK_TOKEN_SKEW_SECONDS }), { ok: false, reason: 'expired' })
  assert.deepEqual(verifyPlaybackToken(token, { streamId: STREAM, key, nowSec: NOW - PLAYBACK_TOKEN_SKEW_SECONDS - 1 }), { ok: false, reason: 'not_yet_valid' })
})

test('a token for another stream, or signed by another key, is refused', async () => {
  const token = await signPlaybackToken({ streamId: OTHER_STREAM, iat: NOW, exp: NOW + 60 }, owner.signer)
  assert.deepEqual(verifyPlaybackToken(token, { streamId: STREAM, key, nowSec: NOW }), { ok: false, reason: 'stream' })
  const forged = await signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 60 }, other.signer)
  assert.deepEqual(verifyPlaybackToken(forged, { streamId: STREAM, key, nowSec: NOW }), { ok: false, reason: 'signature' })
})

test('tampered claims or signatures are refused', async () => {
  const token = await signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 60 }, owner.signer)
  const [claims = '', sig = ''] = token.split('.')
  // A later expiry, with the old signature.
  const bytes = Buffer.from(claims, 'base64url')
  bytes[bytes.length - 2] = (bytes[bytes.length - 2] ?? 0) + 1
  assert.deepEqual(verifyPlaybackToken(`${bytes.toString('base64url')}.${sig}`, { streamId: STREAM, key, nowSec: NOW }), { ok: false, reason: 'signature' })
  const badSig = Buffer.from(sig, 'base64url')
  badSig[0] = (badSig[0] ?? 0) ^ 1
  assert.deepEqual(verifyPlaybackToken(`${claims}.${badSig.toString('base64url')}`, { streamId: STREAM, key, nowSec: NOW }), { ok: false, reason: 'signature' })
  // Malformed: not two parts, not base64url, truncated signature, trailing bytes, a version we do not know.
  for (const t of ['', 'abc', `${claims}.${sig}.x`, `${claims}.${sig.slice(0, -2)}`, `${claims}=.${sig}`, `${claims}.${sig}A`, `${Buffer.concat([Buffer.from(claims, 'base64url'), Buffer.from([0])]).toString('base64url')}.${sig}`]) {
    assert.deepEqual(verifyPlaybackToken(t, { streamId: STREAM, key, nowSec: NOW }), { ok: false, reason: 'malformed' }, t)
  }
  const v2 = Buffer.from(claims, 'base64url'); v2[0] = 2
  assert.equal(parsePlaybackToken(`${v2.toString('base64url')}.${sig}`), undefined)
})

test('oversize tokens are refused before any decoding; claims that cannot be a token are not signed', async () => {
  assert.deepEqual(verifyPlaybackToken('A'.repeat(MAX_PLAYBACK_TOKEN_CHARS + 1), { streamId: STREAM, key, nowSec: NOW }), { ok: false, reason: 'malformed' })
  await assert.rejects(signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + MAX_PLAYBACK_TOKEN_TTL_SECONDS + 1 }, owner.signer), { name: 'PlaybackTokenError' })
  await assert.rejects(signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 1, viewer: 'v'.repeat(65) }, owner.signer), { name: 'PlaybackTokenError' })
  await assert.rejects(signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW + 1, viewer: 'a b' }, owner.signer), { name: 'PlaybackTokenError' })
  await assert.rejects(signPlaybackToken({ streamId: 'x', iat: NOW, exp: NOW + 1 }, owner.signer), { name: 'PlaybackTokenError' })
  await assert.rejects(signPlaybackToken({ streamId: STREAM, iat: NOW, exp: NOW }, owner.signer), { name: 'PlaybackTokenError' })
})

test('claims round-trip through their one canonical encoding', () => {
  const c = { streamId: STREAM, iat: NOW, exp: NOW + 5, viewer: 'bob' }
  assert.deepEqual(decodeClaims(encodeClaims(c)), c)
  assert.deepEqual(decodeClaims(encodeClaims({ streamId: STREAM, iat: NOW, exp: NOW + 5 })), { streamId: STREAM, iat: NOW, exp: NOW + 5 })
})

test('only Ed25519 peer ids yield a key', () => {
  assert.equal(ed25519KeyOfPeer('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'), undefined, 'an RSA (sha256) peer id')
  assert.equal(ed25519KeyOfPeer('not a peer id'), undefined)
  assert.equal(ed25519KeyOfPeer(owner.peerId)?.byteLength, 32)
})
