/**
 * The pure parts of broadcaster accounts (issue 17): rate-limit buckets,
 * address keys, username/password/channel rules, the cross-site check, the
 * session cookie; and the account store on a real level database with a fake
 * clock (session expiry, bounded sessions, one winner per username).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { openStore } from '@diststream/store'
import { FakeClock } from '@diststream/util'
import { AccountStore, sessionIdOf } from '../src/accounts/account-store.js'
import { MAX_SESSIONS_PER_USER } from '../src/accounts/constants.js'
import { addressKey, TokenBuckets } from '../src/accounts/rate-limit.js'
import { channelProblem, passwordProblem, usernameProblem } from '../src/accounts/validate.js'
import { clearSessionCookie, readCookie, sessionCookie } from '../src/http/cookies.js'
import { crossSiteRefusal } from '../src/http/csrf.js'

describe('TokenBuckets', () => {
  it('allows a burst of `capacity`, then one per refill, with the wait until the next', () => {
    const b = new TokenBuckets({ capacity: 3, refillMs: 1000 }, 10)
    for (let i = 0; i < 3; i++) assert.deepEqual(b.take('alice', 0), { ok: true })
    assert.deepEqual(b.take('alice', 0), { ok: false, retryAfterMs: 1000 })
    assert.deepEqual(b.take('alice', 400), { ok: false, retryAfterMs: 600 })
    assert.deepEqual(b.take('alice', 1000), { ok: true })
    assert.equal(b.take('alice', 1000).ok, false)
    // Another key has its own bucket.
    assert.equal(b.take('bob', 1000).ok, true)
    // Refill never exceeds the capacity.
    for (let i = 0; i < 3; i++) assert.equal(b.take('alice', 1_000_000).ok, true)
    assert.equal(b.take('alice', 1_000_000).ok, false)
  })

  it('stays bounded: drops refilled buckets first, and never resets a drained one to make room', () => {
    const b = new TokenBuckets({ capacity: 1, refillMs: 1000 }, 2)
    assert.equal(b.take('victim', 0).ok, true)
    assert.equal(b.take('x1', 0).ok, true)
    // Full map, no bucket refilled: a new key is refused rather than evicting the victim's drained bucket.
    assert.equal(b.take('x2', 10).ok, false)
    assert.equal(b.size, 2)
    assert.equal(b.take('victim', 10).ok, false)
    // Once refilled, buckets carry nothing and make room.
    assert.equal(b.take('x3', 5000).ok, true)
    assert.ok(b.size <= 2)
  })
})

describe('addressKey', () => {
  it('keys IPv4 (also mapped) as is and IPv6 by its /64', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7')
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7')
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64')
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64')
    assert.equal(addressKey('::1'), '0:0:0:0::/64')
  })
})

describe('account rules', () => {
  it('usernames: lowercase, 3..32, no confusables', () => {
    for (const ok of ['alice', 'a_b-c', '007', 'x'.repeat(32)]) assert.equal(usernameProblem(ok), undefined, ok)
    for (const bad of ['al', 'Alice', '-alice', 'al ice', 'аlice', 'x'.repeat(33), '']) assert.notEqual(usernameProblem(bad), undefined, bad)
  })

  it('passwords: long enough, not common, not the username, not one repeated character', () => {
    assert.equal(passwordProblem('correct horse battery', 'alice'), undefined)
    for (const weak of ['short', '1234567890', 'Password123', 'aaaaaaaaaaaa', 'ababababab', 'my-alice-password', 'x'.repeat(257)]) {
      assert.notEqual(passwordProblem(weak, 'alice'), undefined, weak)
    }
    assert.notEqual(passwordProblem('abc\uD800defghijk', 'alice'), undefined)
  })

  it('channels: a path-safe name, a one-line title, an http(s) avatar without credentials', () => {
    assert.equal(channelProblem({ name: 'alice-live', title: 'Alice plays', avatarUrl: 'https://example.com/a.png' }), undefined)
    assert.equal(channelProblem({ name: 'alice-live', title: '' }), undefined)
    for (const bad of [
      { name: 'Alice', title: 't' },
      { name: 'a/b', title: 't' },
      { name: 'alice', title: 'line\nbreak' },
      { name: 'alice', title: 'x'.repeat(141) },
      { name: 'alice', title: 't', avatarUrl: 'javascript:alert(1)' },
      { name: 'alice', title: 't', avatarUrl: '/relative.png' },
      { name: 'alice', title: 't', avatarUrl: 'https://user:pw@example.com/a.png' }
    ]) assert.notEqual(channelProblem(bad), undefined, JSON.stringify(bad))
  })
})

describe('crossSiteRefusal', () => {
  it('lets same-origin and non-browser requests through, refuses cross-site and same-site ones', () => {
    assert.equal(crossSiteRefusal({ secFetchSite: 'same-origin', origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' }), undefined)
    assert.equal(crossSiteRefusal({ secFetchSite: 'none' }), undefined)
    assert.equal(crossSiteRefusal({ host: '127.0.0.1:8080' }), undefined) // curl: no Origin, no Fetch Metadata
    // Another port on the same host is "same-site": SameSite cookies go along, this check refuses it.
    assert.notEqual(crossSiteRefusal({ secFetchSite: 'same-site', origin: 'http://127.0.0.1:9999', host: '127.0.0.1:8080' }), undefined)
    assert.notEqual(crossSiteRefusal({ secFetchSite: 'cross-site', origin: 'https://evil.example', host: '127.0.0.1:8080' }), undefined)
    // Browsers without Fetch Metadata: the Origin decides.
    assert.equal(crossSiteRefusal({ origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' }), undefined)
    assert.notEqual(crossSiteRefusal({ origin: 'http://127.0.0.1:9999', host: '127.0.0.1:8080' }), undefined)
    assert.notEqual(crossSiteRefusal({ origin: 'null', host: '127.0.0.1:8080' }), undefined)
  })
})

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict, with Max-Age and Expires; read back only in token form', () => {
    const c = sessionCookie('tok_en-123', 61_000, 1000, false)
    assert.match(c, /^ds_session=tok_en-123; /)
    for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=60', `Expires=${new Date(61_000).toUTCString()}`]) assert.ok(c.includes(part), part)
    assert.ok(!c.includes('Secure'))
    assert.ok(sessionCookie('t', 61_000, 1000, true).endsWith('; Secure'))
    assert.match(clearSessionCookie(false), /Max-Age=0/)
    assert.equal(readCookie('a=1; ds_session=abc_DEF-9; b=2'), 'abc_DEF-9')
    assert.equal(readCookie('ds_session=bad value'), undefined)
    assert.equal(readCookie('xds_session=abc'), undefined)
    assert.equal(readCookie(undefined), undefined)
  })
})

describe('AccountStore', () => {
  it('sessions expire, are stored only by hash, are bounded per user; one registration per name wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-accounts-'))
    const store = await openStore(dir)
    try {
      const clock = new FakeClock(1_000_000)
      const accounts = new AccountStore(store, { sessionTtlMs: 60_000, clock })
      // Two registrations of one name at once (their hashes run in parallel): either may win, never both.
      const passwords = ['correct horse battery', 'another good password']
      const results = await Promise.allSettled(passwords.map(async p => await accounts.register('alice', p)))
      assert.deepEqual(results.map(r => r.status).sort(), ['fulfilled', 'rejected'])
      assert.equal((results.find(r => r.status === 'rejected') as PromiseRejectedResult).reason.statusCode, 409)
      const won = passwords[results.findIndex(r => r.status === 'fulfilled')]!
      const lost = passwords.find(p => p !== won)!

      assert.equal((await accounts.authenticate('alice', won))?.username, 'alice')
      assert.equal(await accounts.authenticate('alice', lost), undefined, 'the losing registration left nothing behind')
      assert.equal(await accounts.authenticate('alice', 'wrong password!!'), undefined)
      assert.equal(await accounts.authenticate('nobody', won), undefined)

      const { token, expiresAt } = await accounts.createSession('alice')
      assert.equal(expiresAt, 1_060_000)
      assert.equal(await store.sessions.get(token), undefined, 'the token itself is never a key')
      assert.notEqual(await store.sessions.get(sessionIdOf(token)), undefined)
      assert.equal((await accounts.sessionFor(token))?.username, 'alice')
      clock.advance(60_000)
      assert.equal(await accounts.sessionFor(token), undefined, 'expired')
      assert.equal(await store.sessions.get(sessionIdOf(token)), undefined, 'an expired session is deleted')

      const tokens: string[] = []
      for (let i = 0; i < MAX_SESSIONS_PER_USER + 2; i++) tokens.push((await accounts.createSession('alice')).token)
      assert.equal((await accounts.getUser('alice'))?.sessions.length, MAX_SESSIONS_PER_USER)
      assert.equal(await accounts.sessionFor(tokens[0]!), undefined, 'the oldest session ended')
      assert.notEqual(await accounts.sessionFor(tokens.at(-1)!), undefined)
      await accounts.endSession(tokens.at(-1)!)
      assert.equal(await accounts.sessionFor(tokens.at(-1)!), undefined)
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
