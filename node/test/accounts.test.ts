/**
 * Broadcaster accounts (issue 17) against real ingest processes: register,
 * log in (cookie attributes), the same 401 for a wrong password and an
 * unknown user, /api/me, logout, an expired session, login rate limits,
 * channels and streams owned through them, and a cross-site POST from a page
 * on another loopback port in real Chromium refused although the browser
 * sends the SameSite cookie along.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, afterEach, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { Cluster, callApi, getText, waitUntil } from './helpers/cluster.js'
import { CHROMIUM } from './helpers/hlsjs.js'
import { metric } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const PASSWORD = 'correct horse battery'

interface Answer { status: number, body: any, headers: Headers }

/** A JSON call with an optional session cookie (no API token). */
async function call (url: string, method: string, body?: unknown, cookie?: string): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie != null ? { cookie } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000)
  })
  const text = await res.text()
  let parsed: any = text
  try { parsed = JSON.parse(text) } catch { /* not JSON (204) */ }
  return { status: res.status, body: parsed, headers: res.headers }
}

/** Registers `username` (201) and logs in; the `name=value` of the session cookie and the login answer. */
async function signUp (http: string, username: string): Promise<{ cookie: string, login: Answer }> {
  assert.equal((await call(`${http}/api/users`, 'POST', { username, password: PASSWORD })).status, 201)
  const login = await call(`${http}/api/sessions`, 'POST', { username, password: PASSWORD })
  assert.equal(login.status, 201, JSON.stringify(login.body))
  const setCookie = login.headers.getSetCookie()[0] ?? ''
  return { cookie: setCookie.split(';')[0]!, login }
}

async function refusals (http: string, reason: string): Promise<number> {
  const n = metric((await getText(`${http}/metrics`)).text, 'diststream_auth_refusals_total', `reason="${reason}"`)
  return Number.isNaN(n) ? 0 : n
}

describe('broadcaster accounts', { timeout: 180_000 }, () => {
  const cluster = new Cluster()
  let ingest: NodeProcess
  let http: string
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  before(async () => {
    ingest = await cluster.start('ingest', ['--role', 'ingest'])
    http = (await ingest.info).http
  })
  after(async () => { await cluster.close(failed) })

  it('registers: 201, 409 when taken, 400 for a weak password or a malformed body', async () => {
    const created = await call(`${http}/api/users`, 'POST', { username: 'alice', password: PASSWORD })
    assert.equal(created.status, 201)
    assert.equal(created.body.username, 'alice')
    assert.equal(created.body.passwordHash, undefined)
    assert.equal((await call(`${http}/api/users`, 'POST', { username: 'alice', password: 'another good one' })).status, 409)
    for (const body of [{ username: 'bob', password: 'short' }, { username: 'bob', password: '1234567890' }, { username: 'bob', password: 'bob-bob-bob-bob' },
      { username: 'Bad Name', password: PASSWORD }, { username: 'bob' }, { username: 'bob', password: PASSWORD, admin: true }, { username: 7, password: PASSWORD }]) {
      const r = await call(`${http}/api/users`, 'POST', body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(typeof r.body.error, 'string')
    }
  })

  it('logs in with an HttpOnly SameSite cookie that expires; a wrong password and an unknown user get the same 401; logs out', async () => {
    const { cookie, login } = await signUp(http, 'carl')
    const setCookie = login.headers.getSetCookie()[0] ?? ''
    assert.match(setCookie, /^ds_session=[A-Za-z0-9_-]{43}; /)
    assert.match(setCookie, /; HttpOnly/)
    assert.match(setCookie, /; SameSite=Strict/)
    assert.match(setCookie, /; Max-Age=604800/)
    assert.match(setCookie, /; Expires=/)
    assert.equal(login.body.username, 'carl')

    const wrong = await call(`${http}/api/sessions`, 'POST', { username: 'carl', password: 'not the password' })
    const unknown = await call(`${http}/api/sessions`, 'POST', { username: 'nobody-here', password: 'not the password' })
    assert.equal(wrong.status, 401)
    assert.equal(unknown.status, 401)
    assert.deepEqual(wrong.body, unknown.body)
    assert.equal(wrong.headers.getSetCookie().length, 0)

    const me = await call(`${http}/api/me`, 'GET', undefined, cookie)
    assert.equal(me.status, 200)
    assert.equal(me.body.username, 'carl')
    assert.equal((await call(`${http}/api/me`, 'GET')).status, 401)
    assert.equal((await call(`${http}/api/me`, 'GET', undefined, 'ds_session=' + 'A'.repeat(43))).status, 401)

    const out = await call(`${http}/api/sessions`, 'DELETE', undefined, cookie)
    assert.equal(out.status, 204)
    assert.match(out.headers.getSetCookie()[0] ?? '', /^ds_session=; .*Max-Age=0/)
    assert.equal((await call(`${http}/api/me`, 'GET', undefined, cookie)).status, 401, 'the session ended on the server, not only in the cookie')
  })

  it('a wrong password and an unknown user take about as long (a dummy Argon2 verify)', async () => {
    await signUp(http, 'kate')
    const timed = async (username: string): Promise<number> => {
      const t0 = performance.now()
      assert.equal((await call(`${http}/api/sessions`, 'POST', { username, password: 'not the password' })).status, 401)
      return performance.now() - t0
    }
    const wrong: number[] = []
    const unknown: number[] = []
    // Interleaved, so a burst of load on the machine falls on both.
    for (let i = 0; i < 3; i++) {
      wrong.push(await timed('kate'))
      unknown.push(await timed(`ghost${i}`))
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!
    // Without the dummy verify an unknown user answers in ~1 ms against Argon2's tens of ms.
    assert.ok(median(unknown) >= 0.3 * median(wrong), `unknown ${unknown.map(Math.round).join(',')} ms vs wrong password ${wrong.map(Math.round).join(',')} ms`)
  })

  it('channels: created by the logged-in owner, listed; streams in them changed by the owner or the token only', async () => {
    const dora = await signUp(http, 'dora')
    const eve = await signUp(http, 'eve')
    const created = await call(`${http}/api/channels`, 'POST', { name: 'dora-live', title: 'Dora live', avatarUrl: 'https://example.com/d.png' }, dora.cookie)
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.deepEqual([created.body.name, created.body.owner, created.body.avatarUrl], ['dora-live', 'dora', 'https://example.com/d.png'])
    assert.equal((await call(`${http}/api/channels`, 'POST', { name: 'dora-live', title: 'again' }, eve.cookie)).status, 409)
    assert.equal((await call(`${http}/api/channels`, 'POST', { name: 'x-chan', title: 't' })).status, 401)
    assert.equal((await callApi(`${http}/api/channels`, 'POST', cluster.apiToken, { name: 'x-chan', title: 't' })).status, 403)
    assert.equal((await call(`${http}/api/channels`, 'POST', { name: 'bad-avatar', title: 't', avatarUrl: 'javascript:alert(1)' }, dora.cookie)).status, 400)
    const list = await call(`${http}/api/channels`, 'GET')
    assert.deepEqual(list.body.map((c: any) => c.name), ['dora-live'])
    assert.equal((await call(`${http}/api/channels/none-such`, 'GET')).status, 404)

    // A stream in her channel: the owner gets the key; someone else's channel, no channel, or a pulled source: refused.
    const stream = await call(`${http}/api/streams`, 'POST', { name: 'dora stream', channel: 'dora-live' }, dora.cookie)
    assert.equal(stream.status, 201, JSON.stringify(stream.body))
    assert.match(stream.body.key, /^[0-9a-f]{32}$/)
    assert.equal((await call(`${http}/api/streams`, 'POST', { name: 'x', channel: 'dora-live' }, eve.cookie)).status, 403)
    assert.equal((await call(`${http}/api/streams`, 'POST', { name: 'x' }, eve.cookie)).status, 400)
    assert.equal((await call(`${http}/api/streams`, 'POST', { name: 'x', channel: 'dora-live', source_url: 'rtmp://example.com/live/x' }, dora.cookie)).status, 403)
    assert.equal((await call(`${http}/api/streams`, 'POST', { name: 'x', channel: 'dora-live' })).status, 401)
    const id: string = stream.body.id
    // The channel lists its not-yet-announced stream to the owner only.
    assert.deepEqual((await call(`${http}/api/channels/dora-live`, 'GET', undefined, dora.cookie)).body.streams.map((s: any) => s.id), [id])
    assert.deepEqual((await call(`${http}/api/channels/dora-live`, 'GET')).body.streams, [])

    const rotated = await call(`${http}/api/streams/${id}/key`, 'POST', undefined, dora.cookie)
    assert.equal(rotated.status, 200)
    assert.notEqual(rotated.body.key, stream.body.key)
    assert.equal((await call(`${http}/api/streams/${id}/key`, 'POST', undefined, eve.cookie)).status, 403)
    assert.equal((await call(`${http}/api/streams/${id}/key`, 'POST')).status, 401)
    assert.equal((await callApi(`${http}/api/streams/${id}/heartbeat`, 'POST', cluster.apiToken)).status, 200, 'the API token still works')
    // Routes that stay token-only: a session does not open them.
    assert.equal((await call(`${http}/api/uploads`, 'POST', undefined, dora.cookie)).status, 401)
    assert.equal((await call(`${http}/api/streams/${id}`, 'DELETE', undefined, eve.cookie)).status, 403)
    assert.equal((await call(`${http}/api/streams/${id}`, 'DELETE', undefined, dora.cookie)).status, 200)
  })

  it('refuses a cross-site POST from a page on another loopback port in Chromium, which sends the SameSite cookie along', async () => {
    await signUp(http, 'frank')
    const stream = await (async () => {
      const { cookie } = await signUp(http, 'gina')
      assert.equal((await call(`${http}/api/channels`, 'POST', { name: 'gina-live', title: 'Gina' }, cookie)).status, 201)
      return (await call(`${http}/api/streams`, 'POST', { name: 'gina', channel: 'gina-live' }, cookie)).body
    })()
    // The attacker's page: a form that posts a channel, and a credentialed no-cors fetch that rotates the key.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html')
      res.end(`<!doctype html><body><form id="f" method="POST" action="${http}/api/channels"><input name="name" value="evil-chan"><input name="title" value="x"></form>
<script>fetch(${JSON.stringify(`${http}/api/streams/${String(stream.id)}/key`)}, { method: 'POST', mode: 'no-cors', credentials: 'include' }).finally(() => document.getElementById('f').submit())</script></body>`)
    })
    await new Promise<void>(resolve => evil.listen(0, '127.0.0.1', resolve))
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
    try {
      const page = await browser.newPage()
      // Logged in on the node's own origin, from the page (the browser keeps the cookie).
      await page.goto(`${http}/api/me`)
      const inPage = await page.evaluate(async ({ password }) => {
        const post = async (path: string, body: unknown): Promise<number> => (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status
        return [await post('/api/sessions', { username: 'gina', password }), await post('/api/channels', { name: 'gina-second', title: 'same origin' })]
      }, { password: PASSWORD })
      assert.deepEqual(inPage, [201, 201], 'same-origin calls with the session work')

      const before = await refusals(http, 'csrf')
      const answers: Array<{ url: string, status: number }> = []
      page.on('response', (res) => { if (res.request().method() === 'POST') answers.push({ url: res.url(), status: res.status() }) })
      await page.goto(evilUrl)
      await page.waitForURL(`${http}/api/channels`, { timeout: 15_000 })
      const deadline = Date.now() + 10_000
      while (answers.length < 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
      assert.deepEqual(answers.map(a => a.status), [403, 403], JSON.stringify(answers))
      assert.equal(await refusals(http, 'csrf'), before + 2)
      // The node saw gina's live session on both: SameSite let the cookie go cross-port, only the cross-site check stopped them.
      // (The log lines come over the node's stdout pipe: wait for both, bounded.)
      const refusedLines = (): string[] => ingest.logs.filter(l => l.includes('cross-site request refused'))
      await waitUntil(async () => refusedLines().length >= 2, 5000, 'the node to log both refusals', 50)
      const refused = refusedLines().map(l => JSON.parse(l))
      assert.deepEqual(refused.map(r => [r.method, r.route, r.session, r.why]), [
        ['POST', '/api/streams/:id/key', true, 'Sec-Fetch-Site: same-site'],
        ['POST', '/api/channels', true, 'Sec-Fetch-Site: same-site']
      ], JSON.stringify(refused))
      assert.equal((await call(`${http}/api/channels/evil-chan`, 'GET')).status, 404)
    } finally {
      await browser.close()
      evil.close()
    }
  })
  it('the dashboard\'s broadcaster page registers, creates a channel and a stream, and logs out (Chromium)', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
    try {
      const page = await browser.newPage()
      await page.goto(`${http}/account`)
      await page.fill('input[name=username]', 'juno')
      await page.fill('input[name=password]', PASSWORD)
      await page.click('text=Register')
      await page.waitForSelector('text=Channels of juno', { timeout: 10_000 })
      await page.fill('input[name=name]', 'juno-live')
      await page.fill('input[name=title]', 'Juno live')
      await page.click('text=Create channel')
      await page.click('text=New stream', { timeout: 10_000 })
      const rtmp = await page.textContent('dd code', { timeout: 10_000 })
      assert.match(rtmp ?? '', /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/[0-9a-f]{32}$/)
      const channel = await call(`${http}/api/channels/juno-live`, 'GET')
      assert.equal(channel.body.owner, 'juno')
      await page.click('text=Log out juno')
      await page.waitForSelector('text=Broadcaster login', { timeout: 10_000 })
      assert.equal(await page.evaluate(async () => (await fetch('/api/me')).status), 401)
    } finally {
      await browser.close()
    }
  })
})

describe('broadcaster sessions: expiry and rate limits', { timeout: 120_000 }, () => {
  const cluster = new Cluster()
  let http: string
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  before(async () => {
    // A 2 s session lifetime (the default is a week).
    http = (await (await cluster.start('short', ['--role', 'ingest', '--session-ttl-seconds', '2'])).info).http
  })
  after(async () => { await cluster.close(failed) })

  it('an expired session is refused', async () => {
    const { cookie, login } = await signUp(http, 'hana')
    assert.match(login.headers.getSetCookie()[0] ?? '', /; Max-Age=2;/)
    assert.equal((await call(`${http}/api/me`, 'GET', undefined, cookie)).status, 200)
    const expiresAt = Date.parse(login.body.expiresAt)
    await new Promise(resolve => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 100))
    assert.equal((await call(`${http}/api/me`, 'GET', undefined, cookie)).status, 401)
    assert.equal((await call(`${http}/api/channels`, 'POST', { name: 'hana-live', title: 't' }, cookie)).status, 401)
  })

  it('limits logins per username, then per address: 429 with Retry-After', async () => {
    await signUp(http, 'ivan')
    for (let i = 0; i < 4; i++) assert.equal((await call(`${http}/api/sessions`, 'POST', { username: 'ivan', password: 'wrong password' })).status, 401)
    const limited = await call(`${http}/api/sessions`, 'POST', { username: 'ivan', password: PASSWORD })
    assert.equal(limited.status, 429, 'the 6th attempt within a minute, even with the right password')
    assert.ok(Number(limited.headers.get('retry-after')) >= 1)
    // Other names from this address: the per-address bucket (20) runs out too.
    let attempts = 0
    let status = 0
    while (status !== 429 && attempts < 25) status = (await call(`${http}/api/sessions`, 'POST', { username: `guess${attempts++}`, password: 'wrong password' })).status
    assert.equal(status, 429)
    assert.ok(attempts <= 20, `per-address limit reached after ${attempts} more attempts`)
    assert.ok(await refusals(http, 'rate_limited') >= 2)
  })
})
