/**
 * Live chat and follows in real Chromium against real node processes: an
 * ingest (with a worker) and two edges, each its own process; one page on
 * each edge. Checks: following a channel and then publishing to it shows
 * the notice; two viewers on two edges chat both ways; the owner's delete
 * and ban take effect on both; a flood is cut by the rate limit; forged,
 * oversized, malformed and banned-key messages are refused and counted.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { createP2PNode } from '@diststream/p2p'
import { chatSigningBytes, chatTopic } from '@diststream/protocol'
import { loadOrCreatePeerKey } from '@diststream/store'
import { multiaddr } from '@multiformats/multiaddr'
import { CHAT_RATE_KEY, MAX_CHAT_CLIENTS_PER_IP } from '@diststream/chat'
import { Cluster, callApi, getJson, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { CHROMIUM, launchBrowser } from './helpers/hlsjs.js'
import { createStream, metric } from './helpers/streams.js'
import type { Browser, Page } from 'playwright-core'
import type { TestSource } from '@diststream/media'
import type { NodeProcess } from './helpers/cluster.js'

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/chat/', import.meta.url))

/** A viewer outside the browser: a node-made Ed25519 key signing as the web app does. */
function nodeViewer (): { key: string, say: (stream: string, text: string) => Record<string, unknown> } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const key = publicKey.export({ format: 'jwk' }).x!
  return {
    key,
    say: (stream, text) => {
      const m = { stream, key, name: 'bot', text, ts: Date.now(), id: randomBytes(16).toString('base64url') }
      return { ...m, sig: sign(null, chatSigningBytes(m), privateKey).toString('base64url') }
    }
  }
}

async function post (edge: string, stream: string, body: unknown): Promise<number> {
  const res = await fetch(`${edge}/chat/${stream}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
  await res.arrayBuffer()
  return res.status
}

const texts = async (page: Page): Promise<string[]> => await page.locator('[data-testid=chat-messages] li .chat-text').allTextContents()

async function say (page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text)
  await page.getByRole('button', { name: 'Send' }).click()
}

async function refused (http: string, reason: string): Promise<number> {
  const v = metric((await getText(`${http}/metrics`)).text, 'diststream_chat_refused_total', `reason="${reason}"`)
  return Number.isNaN(v) ? 0 : v
}

describe('live chat and follows across two edges, in Chromium', { timeout: 300_000, skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  const cluster = new Cluster({ exclusive: true })
  let ingest: NodeProcess
  let edgeA: string
  let edgeANode: NodeProcess
  let edgeB: string
  let ingestHttp: string
  let browser: Browser
  let pageA: Page
  let pageB: Page
  let source: TestSource | undefined
  let streamId: string
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

  before(async () => {
    const common = ['--segment-seconds', '2', '--ladder', '240p', '--spot-check-rate', '0']
    ingest = await cluster.start('ingest', ['--role', 'ingest,worker', '--max-jobs', '1', ...common])
    const boot = await ingest.bootstrapAddr()
    const [a, b] = await Promise.all([
      cluster.start('edge-a', ['--role', 'edge', '--bootstrap', boot, ...common]),
      cluster.start('edge-b', ['--role', 'edge', '--bootstrap', boot, ...common])
    ])
    ingestHttp = (await ingest.info).http
    edgeA = (await a.info).http
    edgeANode = a
    edgeB = (await b.info).http
    await waitForRoles(ingestHttp, { edge: 2 }, 30_000)
    await mkdir(ARTIFACTS, { recursive: true })
    browser = await launchBrowser()
    pageA = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' })
    pageB = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' })
    for (const [n, p] of [['A', pageA], ['B', pageB]] as const) p.on('pageerror', err => { process.stderr.write(`[page ${n}] ${String(err)}\n`) })
  })

  after(async () => {
    await source?.stop()
    await browser?.close()
    await cluster.close(failed)
  })

  it('Chromium has Ed25519 in WebCrypto', async () => {
    await pageA.goto(`${edgeA}/watch`)
    const ok = await pageA.evaluate(async () => {
      const k = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']) as unknown as { publicKey: Parameters<typeof crypto.subtle.exportKey>[1] }
      return (await crypto.subtle.exportKey('raw', k.publicKey)).byteLength
    })
    assert.equal(ok, 32)
  })

  it('following a channel, then publishing to it, shows the notice in the open page', async () => {
    const channel = (await ingest.info).peerId
    await pageA.goto(`${edgeA}/channel/${channel}`)
    await pageA.getByTestId('follow').click()
    assert.equal(await pageA.getByTestId('follow').getAttribute('aria-pressed'), 'true')
    // Nothing live yet, so no notice.
    assert.equal(await pageA.getByTestId('live-notice').count(), 0)
    const created = await createStream(ingestHttp, 'chat test', cluster.apiToken)
    streamId = created.id
    source = startTestSource({ ffmpegPath: resolveFfmpeg().ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 320, height: 180, fps: 15, gopSeconds: 2 })
    const notice = pageA.getByTestId('live-notice')
    // "At once": within a second and a half of edge A listing the stream live (its directory check is every 0.5 s).
    await waitUntil(async () => (await getJson(`${edgeA}/api/directory`)).body.streams.some((s: { id: string, live: boolean }) => s.id === streamId && s.live), 30_000, 'edge A to list the stream live', 100)
    await notice.waitFor({ timeout: 1500 })
    assert.match(await notice.innerText(), /chat test/)
    await pageA.screenshot({ path: `${ARTIFACTS}notice.png` })
    // The notice links to the stream's page.
    await notice.getByRole('link', { name: 'Watch' }).click()
    await pageA.waitForURL(`${edgeA}/watch/${streamId}`)
  })

  it('two viewers on two edges chat in both directions', async () => {
    await pageB.goto(`${edgeB}/watch/${streamId}`)
    for (const p of [pageA, pageB]) await p.getByTestId('chat-input').waitFor({ timeout: 15_000 })
    await waitUntil(async () => (await Promise.all([pageA, pageB].map(async p => await p.locator('[data-testid=chat] .conn.ok').count()))).every(n => n === 1), 15_000, 'both chats connected')
    // Chat over edge A reaches edge B through the stream's ingest, which joins the topic when an edge does
    // (the edges are not connected to each other). Once it has, one message goes through.
    await waitUntil(async () => metric((await getText(`${ingestHttp}/metrics`)).text, 'diststream_chat_owner_topics') === 1, 10_000, 'the ingest to join the chat topic')
    await say(pageA, 'hello from A')
    await waitUntil(async () => (await texts(pageB)).includes('hello from A'), 10_000, 'A\'s message on B')
    await say(pageB, 'hello from B')
    await waitUntil(async () => (await texts(pageA)).includes('hello from B'), 10_000, 'B\'s message on A')
    await say(pageA, 'second from A')
    await waitUntil(async () => (await texts(pageB)).includes('second from A'), 10_000, 'A\'s second message on B')
    await pageB.screenshot({ path: `${ARTIFACTS}watch-b.png` })
    // A late joiner on edge B gets the recent messages.
    const late = await browser.newPage()
    await late.goto(`${edgeB}/watch/${streamId}`)
    await waitUntil(async () => (await texts(late)).includes('hello from B'), 10_000, 'history for a late joiner')
    await late.close()
  })

  it('the owner\'s delete and ban take effect on both edges', async () => {
    const li = pageB.locator('[data-testid=chat-messages] li', { hasText: 'second from A' })
    const id = await li.getAttribute('data-id')
    assert.ok(id != null)
    const del = await callApi(`${ingestHttp}/api/streams/${streamId}/chat/moderation`, 'POST', cluster.apiToken, { action: 'delete', id })
    assert.equal(del.status, 200, JSON.stringify(del.body))
    await waitUntil(async () => !(await texts(pageA)).includes('second from A') && !(await texts(pageB)).includes('second from A'), 10_000, 'the deleted message gone on both pages')
    // Without the token: refused.
    assert.equal((await callApi(`${ingestHttp}/api/streams/${streamId}/chat/moderation`, 'POST', 'wrong-token-0123456789abcdef', { action: 'delete', id })).status, 401)
    // Ban B's key: B's messages go on both pages, and B cannot speak.
    const keyB = await pageB.locator('[data-testid=chat-messages] li', { hasText: 'hello from B' }).getAttribute('data-key')
    assert.ok(keyB != null)
    const ban = await callApi(`${ingestHttp}/api/streams/${streamId}/chat/moderation`, 'POST', cluster.apiToken, { action: 'ban', key: keyB })
    assert.equal(ban.status, 200)
    await waitUntil(async () => !(await texts(pageA)).includes('hello from B') && !(await texts(pageB)).includes('hello from B'), 10_000, 'the banned viewer\'s messages gone on both pages')
    const before = await refused(edgeB, 'banned')
    await say(pageB, 'am I banned?')
    await pageB.getByTestId('chat-status').waitFor({ timeout: 5000 })
    assert.match(await pageB.getByTestId('chat-status').innerText(), /banned/)
    assert.equal(await refused(edgeB, 'banned'), before + 1)
    await say(pageA, 'A still speaks')
    await waitUntil(async () => (await texts(pageB)).includes('A still speaks'), 10_000, 'A\'s message after the ban')
    assert.ok(!(await texts(pageA)).includes('am I banned?'))
  })

  it('a flood is cut by the per-key rate limit', async () => {
    const bot = nodeViewer()
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) statuses.push(await post(edgeA, streamId, bot.say(streamId, `flood ${i}`)))
    const ok = statuses.filter(s => s === 201).length
    // The bucket's burst, plus at most one token refilled while the burst ran.
    assert.ok(ok >= CHAT_RATE_KEY.burst && ok <= CHAT_RATE_KEY.burst + 1, `accepted ${ok}: ${statuses.join(',')}`)
    assert.equal(statuses.filter(s => s === 429).length, 30 - ok)
    assert.ok(await refused(edgeA, 'rate_key') >= 30 - ok)
    // Edge B shows only what edge A let through.
    await waitUntil(async () => (await texts(pageB)).filter(t => t.startsWith('flood')).length === ok, 10_000, 'the accepted flood messages on B')
    await new Promise(resolve => setTimeout(resolve, 1000))
    assert.equal((await texts(pageB)).filter(t => t.startsWith('flood')).length, ok)
  })

  it('hostile input is refused and counted: forged signatures, oversized, malformed, banned keys, stale', async () => {
    const v = nodeViewer()
    const good = v.say(streamId, 'fine')
    const forged = { ...good, text: 'forged' }
    const b0 = await refused(edgeA, 'bad_signature')
    assert.equal(await post(edgeA, streamId, forged), 400)
    assert.equal(await refused(edgeA, 'bad_signature'), b0 + 1)
    const m0 = await refused(edgeA, 'malformed')
    assert.equal(await post(edgeA, streamId, '{"stream":'), 400)
    assert.equal(await post(edgeA, streamId, { ...good, extra: 1 }), 400)
    assert.ok(await refused(edgeA, 'malformed') >= m0 + 1)
    const t0 = await refused(edgeA, 'too_large')
    assert.equal(await post(edgeA, streamId, v.say(streamId, 'x'.repeat(600))), 413)
    assert.equal(await refused(edgeA, 'too_large'), t0 + 1)
    // Over the body limit: refused before parsing.
    assert.equal(await post(edgeA, streamId, v.say(streamId, 'x'.repeat(5000))), 413)
    const stale = { ...good }
    assert.equal(await post(edgeA, streamId, good), 201)
    assert.equal(await post(edgeA, streamId, stale), 409, 'a replay is a duplicate')
    // A banned key, on the other edge too.
    const ban = await callApi(`${ingestHttp}/api/streams/${streamId}/chat/moderation`, 'POST', cluster.apiToken, { action: 'ban', key: v.key })
    assert.equal(ban.status, 200)
    await waitUntil(async () => await post(edgeB, streamId, v.say(streamId, 'banned?')) === 403, 10_000, 'edge B refusing the banned key')
    assert.equal(await post(edgeA, streamId, v.say(streamId, 'banned?')), 403)
    // Event streams from one address are bounded. Page A holds one on edge A from this address
    // too, unless its EventSource is reconnecting just now: open streams until the first refusal.
    const held: AbortController[] = []
    try {
      const c0 = await refused(edgeA, 'clients_per_ip')
      let accepted = 0
      let status = 200
      for (let i = 0; i <= MAX_CHAT_CLIENTS_PER_IP && status === 200; i++) {
        const ac = new AbortController()
        held.push(ac)
        status = (await fetch(`${edgeA}/chat/${streamId}/events`, { signal: ac.signal })).status
        if (status === 200) accepted++
      }
      assert.equal(status, 429, `refused past ${MAX_CHAT_CLIENTS_PER_IP} streams from one address`)
      assert.ok(accepted >= MAX_CHAT_CLIENTS_PER_IP - 1 && accepted <= MAX_CHAT_CLIENTS_PER_IP, `${accepted} streams taken from this address besides page A's`)
      assert.equal(await refused(edgeA, 'clients_per_ip'), c0 + 1)
    } finally {
      for (const ac of held) ac.abort()
    }
    // A stream the edge does not have open: 404.
    assert.equal(await post(edgeA, 'aaaaaaaaaaaaaaaaaaaa', nodeViewer().say('aaaaaaaaaaaaaaaaaaaa', 'hi')), 404)
  })

  it('a hostile peer on the chat topic: moderation it does not own, forged messages and a relay flood are refused and counted', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ds-chat-evil-'))
    const evil = await createP2PNode({ privateKey: await loadOrCreatePeerKey(join(work, 'evil')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    try {
      const topic = chatTopic(streamId)
      const pubsub = evil.services.pubsub
      pubsub.subscribe(topic)
      await evil.dial(multiaddr(await edgeANode.bootstrapAddr()), { signal: AbortSignal.timeout(10_000) })
      const edgeAPeer = (await edgeANode.info).peerId
      await waitUntil(async () => pubsub.getSubscribers(topic).some(p => p.toString() === edgeAPeer), 10_000, 'edge A subscribed, as the hostile peer sees it')
      const raw = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
      // A ban of viewer A's key, from a peer that does not own the stream.
      const keyA = await pageA.locator('[data-testid=chat-messages] li', { hasText: 'A still speaks' }).getAttribute('data-key')
      assert.ok(keyA != null)
      const n0 = await refused(edgeA, 'not_owner')
      await pubsub.publish(topic, raw({ t: 'mod', s: { stream: streamId, version: Date.now() * 2, slowSeconds: 0, bans: [keyA], deleted: [] } }))
      await waitUntil(async () => await refused(edgeA, 'not_owner') > n0, 10_000, 'edge A refusing moderation from a non-owner')
      assert.ok((await texts(pageA)).includes('A still speaks'), 'A\'s message is still there')
      // A forged message: refused in edge A's gossip validator.
      const f0 = await refused(edgeA, 'bad_signature')
      await pubsub.publish(topic, raw({ t: 'msg', m: { ...nodeViewer().say(streamId, 'honest'), text: 'forged' } }))
      await waitUntil(async () => await refused(edgeA, 'bad_signature') > f0, 10_000, 'edge A refusing a forged message')
      // A flood of validly signed messages from many keys, relayed by one peer: its bucket cuts it.
      const r0 = await refused(edgeA, 'rate_peer')
      const N = 300
      for (let i = 0; i < N; i++) await pubsub.publish(topic, raw({ t: 'msg', m: nodeViewer().say(streamId, `relay flood ${i}`) }))
      await waitUntil(async () => await refused(edgeA, 'rate_peer') > r0, 10_000, 'edge A cutting the relay flood')
      const shown = (await texts(pageA)).filter(t => t.startsWith('relay flood')).length
      assert.ok(shown < N, `shown ${shown} of ${N}`)
      assert.ok(!(await texts(pageA)).includes('forged'))
    } finally {
      await evil.stop()
      await rm(work, { recursive: true, force: true })
    }
  })

  it('slow mode set by the owner holds on both edges', async () => {
    const res = await callApi(`${ingestHttp}/api/streams/${streamId}/chat/moderation`, 'POST', cluster.apiToken, { action: 'slow', seconds: 30 })
    assert.equal(res.status, 200)
    for (const p of [pageA, pageB]) await p.getByTestId('slow-mode').waitFor({ timeout: 10_000 })
    const v = nodeViewer()
    assert.equal(await post(edgeB, streamId, v.say(streamId, 'one')), 201)
    assert.equal(await post(edgeB, streamId, v.say(streamId, 'two')), 429)
    assert.equal(await post(edgeA, streamId, v.say(streamId, 'three')), 429, 'edge A knows v spoke on B')
  })

  it('the watch page plays the stream next to the chat', async () => {
    const video = pageB.getByTestId('viewer-video')
    await waitUntil(async () => await video.evaluate((v: any) => v.currentTime as number) > 1, 45_000, 'the viewer page\'s video to advance', 500)
    await pageB.screenshot({ path: `${ARTIFACTS}watch-b-playing.png` })
  })
})
