import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ID_PATTERN, STREAM_ID_CHARS, STREAM_SALT_BYTES, streamIdFor, verifyStreamOwner } from '../src/index.js'

// Two real Ed25519 peer ids (base58btc identity multihashes).
const ALICE = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const MALLORY = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const SALT = new Uint8Array(STREAM_SALT_BYTES).fill(1)

test('a stream id is 20 base32 characters, a valid id, and the same for the same peer and salt', () => {
  const id = streamIdFor(ALICE, SALT)
  assert.equal(id.length, STREAM_ID_CHARS)
  assert.match(id, /^[a-z2-7]{20}$/)
  assert.match(id, ID_PATTERN)
  assert.equal(streamIdFor(ALICE, SALT), id)
  assert.notEqual(streamIdFor(ALICE, new Uint8Array(STREAM_SALT_BYTES).fill(2)), id)
})

test('only the peer that derived a stream id owns it', () => {
  const id = streamIdFor(ALICE, SALT)
  assert.equal(verifyStreamOwner(id, ALICE, SALT), true)
  assert.equal(verifyStreamOwner(id, MALLORY, SALT), false, 'another signer with the same salt')
  assert.equal(verifyStreamOwner(streamIdFor(MALLORY, SALT), ALICE, SALT), false)
})

test('malformed inputs are refused, never thrown', () => {
  const id = streamIdFor(ALICE, SALT)
  assert.equal(verifyStreamOwner(id, ALICE, undefined), false)
  assert.equal(verifyStreamOwner(id, ALICE, new Uint8Array(0)), false)
  assert.equal(verifyStreamOwner(id, ALICE, new Uint8Array(STREAM_SALT_BYTES + 1)), false)
  assert.equal(verifyStreamOwner(id, 'not a peer id!', SALT), false)
  assert.equal(verifyStreamOwner(id, '0OIl', SALT), false)
  assert.equal(verifyStreamOwner('abc', ALICE, SALT), false, 'an old 12-character id has no owner')
  assert.equal(verifyStreamOwner(id.toUpperCase(), ALICE, SALT), false)
  assert.throws(() => streamIdFor(ALICE, new Uint8Array(3)), TypeError)
  assert.throws(() => streamIdFor('x', SALT), TypeError)
})
