import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CHAT_TS_SKEW_MS, ChatRefusal, checkChatMessage, decodeChatGossip, chatGossipCodec, MAX_CHAT_TEXT_BYTES } from '@diststream/protocol'
import { FakeClock } from '@diststream/util'
import { CHAT_HISTORY, CHAT_RATE_EDGE, CHAT_RATE_KEY, ChatRoom, ModerationBook, ModerationError, TokenBucket } from '../src/index.js'
import { viewer } from './sign.js'

const S = 'abcdefghijklmnopqrst'
const T0 = 1_800_000_000_000

function refusal (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ChatRefusal, String(err))
    return err.chatReason
  }
  assert.fail('not refused')
}

describe('chat message signing and validation', () => {
  it('accepts a signed message and refuses a forged or altered one', () => {
    const v = viewer()
    const m = v.say(S, 'hello', T0)
    assert.deepEqual(checkChatMessage(m), m)
    assert.equal(refusal(() => checkChatMessage({ ...m, text: 'hellO' })), 'bad_signature')
    assert.equal(refusal(() => checkChatMessage({ ...m, key: viewer().key })), 'bad_signature')
    assert.equal(refusal(() => checkChatMessage({ ...m, ts: m.ts + 1 })), 'bad_signature')
    const other = viewer().say(S, 'hello', T0)
    assert.equal(refusal(() => checkChatMessage({ ...m, sig: other.sig })), 'bad_signature')
    // Not a curve point: refused, not thrown past the check.
    assert.equal(refusal(() => checkChatMessage({ ...m, key: '_'.repeat(43) })), 'bad_signature')
  })

  it('refuses malformed and oversized messages', () => {
    const v = viewer()
    const m = v.say(S, 'hi', T0)
    assert.equal(refusal(() => checkChatMessage({ ...m, extra: 1 })), 'malformed')
    assert.equal(refusal(() => checkChatMessage({ ...m, ts: '1' })), 'malformed')
    assert.equal(refusal(() => checkChatMessage({ ...m, stream: '../x' })), 'malformed')
    assert.equal(refusal(() => checkChatMessage(null)), 'malformed')
    assert.equal(refusal(() => checkChatMessage(v.say(S, 'x'.repeat(MAX_CHAT_TEXT_BYTES + 1), T0))), 'too_large')
    assert.equal(refusal(() => checkChatMessage(v.say(S, 'é'.repeat(MAX_CHAT_TEXT_BYTES / 2 + 1), T0))), 'too_large')
    assert.equal(refusal(() => checkChatMessage(v.say(S, 'a\u202ebc', T0))), 'malformed')
    assert.equal(refusal(() => checkChatMessage(v.say(S, '   ', T0))), 'malformed')
    assert.doesNotThrow(() => checkChatMessage(v.say(S, 'é'.repeat(MAX_CHAT_TEXT_BYTES / 2), T0)))
  })

  it('the gossip codec round-trips and refuses junk', () => {
    const m = viewer().say(S, 'hi', T0)
    assert.deepEqual(chatGossipCodec.decode(chatGossipCodec.encode({ t: 'msg', m })), { t: 'msg', m })
    assert.equal(refusal(() => decodeChatGossip(new TextEncoder().encode('{"t":"msg"'))), 'malformed')
    assert.equal(refusal(() => decodeChatGossip(new Uint8Array(40_000))), 'too_large')
    assert.equal(refusal(() => decodeChatGossip(new TextEncoder().encode(JSON.stringify({ t: 'mod', s: { stream: S, version: 1, slowSeconds: -1, bans: [], deleted: [] } })))), 'malformed')
  })
})

describe('ChatRoom (fake clock)', () => {
  it('refuses stale, future and duplicate messages and keeps the last N', () => {
    const clock = new FakeClock(T0)
    const room = new ChatRoom({ stream: S, clock, rateKey: { burst: 1000, perSecond: 1000 } })
    const v = viewer()
    assert.deepEqual(room.admit(v.say(S, 'old', T0 - CHAT_TS_SKEW_MS - 1), { local: true }), { ok: false, reason: 'stale' })
    assert.deepEqual(room.admit(v.say(S, 'new', T0 + CHAT_TS_SKEW_MS + 1), { local: true }), { ok: false, reason: 'future' })
    const m = v.say(S, 'once', T0)
    assert.deepEqual(room.admit(m, { local: true }), { ok: true })
    assert.deepEqual(room.admit(m, { local: false, peer: 'p' }), { ok: false, reason: 'duplicate' })
    assert.deepEqual(room.admit(v.say('zzzzzzzzzzzzzzzzzzzz', 'x', T0), { local: true }), { ok: false, reason: 'wrong_stream' })
    for (let i = 0; i < CHAT_HISTORY + 5; i++) {
      clock.advance(100)
      assert.equal(room.admit(v.say(S, `n${i}`, clock.now()), { local: true }).ok, true)
    }
    const recent = room.recent()
    assert.equal(recent.length, CHAT_HISTORY)
    assert.equal(recent.at(-1)!.text, `n${CHAT_HISTORY + 4}`)
  })

  it('cuts a flood per key and per edge, and refills with time', () => {
    const clock = new FakeClock(T0)
    const room = new ChatRoom({ stream: S, clock })
    const v = viewer()
    const results = Array.from({ length: 20 }, (_, i) => room.admit(v.say(S, `f${i}`, T0), { local: true }))
    assert.equal(results.filter(r => r.ok).length, CHAT_RATE_KEY.burst)
    assert.deepEqual(results.at(-1), { ok: false, reason: 'rate_key' })
    clock.advance(1000 / CHAT_RATE_KEY.perSecond)
    assert.equal(room.admit(v.say(S, 'later', clock.now()), { local: true }).ok, true)
    // Many keys through one edge: the edge's bucket.
    let edgeRefused = 0
    for (let i = 0; i < CHAT_RATE_EDGE.burst + 10; i++) {
      const r = room.admit(viewer().say(S, 'sybil', clock.now()), { local: true })
      if (!r.ok && r.reason === 'rate_edge') edgeRefused++
    }
    assert.ok(edgeRefused >= 10, `edge bucket refused ${edgeRefused}`)
    // Another edge's relays have their own bucket.
    assert.equal(room.admit(viewer().say(S, 'remote', clock.now()), { local: false, peer: 'edge-b' }).ok, true)
  })

  it('applies the owner\'s bans, deletions and slow mode, newest state only', () => {
    const clock = new FakeClock(T0)
    const room = new ChatRoom({ stream: S, clock })
    const book = new ModerationBook(clock)
    const a = viewer()
    const b = viewer()
    const ma = a.say(S, 'a1', T0)
    const mb = b.say(S, 'b1', T0)
    room.admit(ma, { local: true })
    room.admit(mb, { local: true })
    const banned = book.apply(S, { action: 'ban', key: a.key })
    assert.deepEqual(room.moderate(banned)?.removed, [ma.id])
    clock.advance(10)
    assert.deepEqual(room.admit(a.say(S, 'a2', clock.now()), { local: true }), { ok: false, reason: 'banned' })
    clock.advance(10)
    const del = book.apply(S, { action: 'delete', id: mb.id })
    assert.deepEqual(room.moderate(del)?.removed, [mb.id])
    assert.equal(room.moderate(banned), undefined, 'an older state is ignored')
    assert.deepEqual(room.recent(), [])
    clock.advance(10)
    room.moderate(book.apply(S, { action: 'slow', seconds: 5 }))
    assert.deepEqual(room.admit(b.say(S, 's0', clock.now()), { local: true }), { ok: false, reason: 'slow_mode' }, 'b spoke 30 ms ago')
    clock.advance(5000)
    assert.equal(room.admit(b.say(S, 's1', clock.now()), { local: true }).ok, true)
    clock.advance(2000)
    assert.deepEqual(room.admit(b.say(S, 's2', clock.now()), { local: true }), { ok: false, reason: 'slow_mode' })
    clock.advance(3000)
    assert.equal(room.admit(b.say(S, 's3', clock.now()), { local: true }).ok, true)
    // Unban.
    room.moderate(book.apply(S, { action: 'ban', key: a.key, unban: true }))
    assert.equal(room.admit(a.say(S, 'back', clock.now()), { local: true }).ok, true)
  })

  it('ModerationBook refuses bad actions and versions increase', () => {
    const clock = new FakeClock(T0)
    const book = new ModerationBook(clock)
    assert.throws(() => book.apply(S, { action: 'ban', key: 'nope' }), ModerationError)
    assert.throws(() => book.apply(S, { action: 'slow', seconds: -1 }), ModerationError)
    assert.throws(() => book.apply(S, { action: 'delete', id: '' }), ModerationError)
    const v1 = book.apply(S, { action: 'slow', seconds: 1 }).version
    const v2 = book.apply(S, { action: 'slow', seconds: 2 }).version
    assert.ok(v2 > v1)
  })

  it('TokenBucket refills at its rate and never above its burst', () => {
    const b = new TokenBucket({ burst: 2, perSecond: 1 }, 0)
    assert.equal(b.take(0), true)
    assert.equal(b.take(0), true)
    assert.equal(b.take(0), false)
    assert.equal(b.take(999), false)
    assert.equal(b.take(1000), true)
    assert.equal(b.take(100_000), true)
    assert.equal(b.take(100_000), true)
    assert.equal(b.take(100_000), false)
  })
})
