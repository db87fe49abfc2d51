/**
 * The browser dashboard, in a real Chromium (playwright-core driving Debian's
 * /usr/bin/chromium, no browser download) against real node processes: one
 * with every role, one more worker that is also an edge. Through the UI: set the API token, create
 * a stream (its RTMP URL is read from the page and published to with ffmpeg),
 * watch the peer list, a job go from announce to done, the player advance,
 * then stop the stream. Screenshots go to node/test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { chromium } from 'playwright-core'
import { Cluster, getJson } from './helpers/cluster.js'
import type { Browser, Page } from 'playwright-core'
import type { TestSource } from '@diststream/media'
import type { NodeProcess } from './helpers/cluster.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url))
/** The cluster's API token where the nodes have token auth (Cluster.apiToken), else any: it is sent either way. */
const tokenOf = (c: Cluster): string => (c as { apiToken?: string }).apiToken ?? 'dashboard-test-token-0123456789'

describe('dashboard in a real browser', { timeout: 360_000, skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let node: NodeProcess
  let worker: NodeProcess
  let browser: Browser
  let page: Page
  let source: TestSource | undefined
  let base: string
  let streamId: string
  const TOKEN = tokenOf(cluster)
  const shot = async (name: string): Promise<void> => { await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true }) }

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    const common = ['--segment-seconds', '2', '--ladder', '240p', '--max-jobs', '1']
    node = await cluster.start('all', ['--role', 'ingest,worker,edge', ...common])
    worker = await cluster.start('worker', ['--role', 'worker,edge', '--bootstrap', await node.bootstrapAddr(), ...common])
    base = (await node.info).http
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--autoplay-policy=no-user-gesture-required']
    })
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' })
    page.on('pageerror', err => { process.stderr.write(`[browser] ${String(err)}\n`) })
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

  after(async () => {
    if (failed) process.stderr.write(cluster.logs() + '\n')
    await source?.stop()
    await browser?.close()
    await cluster.stop()
  })

  it('shows this node and its peers, live', async () => {
    await page.goto(base + '/')
    await page.getByRole('heading', { name: 'This node' }).waitFor()
    const self = (await node.info).peerId
    assert.equal(await page.getByTestId('self-peer-id').textContent(), self)
    // The other worker appears in the peer list with its role (presence gossip, pushed over /api/events).
    const workerId = (await worker.info).peerId
    const row = page.locator(`[data-testid=peer-table] tr[data-peer="${workerId}"]`)
    await row.waitFor({ timeout: 30_000 })
    // A peer can be listed as soon as it is connected, before its presence (roles) arrives.
    await row.locator('text=worker').first().waitFor({ timeout: 30_000 })
    assert.match(await row.innerText(), /worker/)
    await page.locator(`[data-testid=peer-table] tr[data-peer="${workerId}"] >> text=connected`).waitFor({ timeout: 20_000 })
  })

  it('says clearly when the node refuses the token', { skip: (cluster as { apiToken?: string }).apiToken == null ? 'these nodes have no API token auth' : false }, async () => {
    await page.getByRole('button', { name: /API token/ }).click()
    await page.getByLabel('API token for stream actions').fill('not-the-right-token-0123456789')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByLabel('New stream').fill('Refused show')
    await page.getByRole('button', { name: 'Create stream' }).click()
    await page.getByTestId('stream-error').filter({ hasText: 'refused the API token' }).waitFor()
    assert.equal(await page.locator('[data-testid=stream-table] tr', { hasText: 'Refused show' }).count(), 0)
  })

  it('creates a stream through the UI, with the token, and shows its RTMP URL and key', async () => {
    await page.getByRole('button', { name: /API token/ }).click()
    await page.getByLabel('API token for stream actions').fill(TOKEN)
    await page.getByRole('button', { name: 'Save' }).click()

    const request = page.waitForRequest(r => r.url().endsWith('/api/streams') && r.method() === 'POST')
    await page.getByLabel('New stream').fill('Browser test show')
    await page.getByRole('button', { name: 'Create stream' }).click()
    assert.equal((await request).headers().authorization, `Bearer ${TOKEN}`, 'write calls carry the token')
    const created = page.getByTestId('created-stream')
    await created.waitFor()
    const key = (await page.getByTestId('stream-key').textContent()) ?? ''
    const rtmpUrl = (await page.getByTestId('rtmp-url').textContent()) ?? ''
    assert.match(key, /^[0-9a-f]{32}$/)
    assert.ok(rtmpUrl.endsWith(`/live/${key}`), rtmpUrl)
    const row = page.locator('[data-testid=stream-table] tr', { hasText: 'Browser test show' })
    await row.waitFor()
    streamId = (await row.getAttribute('data-stream')) ?? ''
    assert.match(streamId, /^[a-z0-9]+$/)
    // The API agrees with what the page shows.
    const api = await getJson(`${base}/api/streams/${streamId}`)
    assert.equal(api.body.name, 'Browser test show')

    // Publish to exactly the URL the page showed (its host is the page's; the port is the node's RTMP port).
    const url = new URL(rtmpUrl)
    assert.equal(Number(url.port), (await node.info).rtmpPort)
    source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${url.port}${url.pathname}`, width: 480, height: 270, fps: 12, gopSeconds: 2, durationSec: 120 })
    await shot('1-created')
  })

  it('shows a job move from announce to done', async () => {
    // Record every state each job row shows, as the page changes (not just the end state).
    await page.evaluate(() => {
      const w = globalThis as any
      const seen: Record<string, string[]> = {}
      w.__jobStates = seen
      const record = (): void => {
        for (const el of w.document.querySelectorAll('li.job[data-job]')) {
          const id = el.dataset.job!
          const s = el.dataset.state!
          const list = (seen[id] ??= [])
          if (list[list.length - 1] !== s) list.push(s)
        }
      }
      record()
      new w.MutationObserver(record).observe(w.document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] })
    })
    await page.locator('li.job[data-state=done]').first().waitFor({ timeout: 60_000 })
    const states = await page.waitForFunction(() => {
      const seen = (globalThis as any).__jobStates as Record<string, string[]>
      const moved = Object.values(seen).find(l => l.includes('done') && l.some(s => s === 'announced' || s === 'bidding' || s === 'assigned'))
      return moved ?? false
    }, undefined, { timeout: 60_000 })
    const list = await states.jsonValue() as string[]
    assert.ok(list.indexOf('done') > 0, `a job was seen before done, then done: ${list.join(' → ')}`)
    // The chosen worker's bid is marked, and the charts have data.
    await page.locator('li.job[data-state=done] .bid.won').first().waitFor()
    await page.getByRole('img', { name: /Segment latency of the last \d+ segments/ }).waitFor()
    await page.getByRole('img', { name: /Jobs per worker: .* [1-9]\d* done/ }).waitFor({ timeout: 30_000 })
    await shot('2-overview')
  })

  it('plays the stream: the video advances', async () => {
    await page.getByRole('link', { name: 'Watch Browser test show' }).click()
    await page.waitForURL(`**/streams/${streamId}`)
    const video = page.getByTestId('video')
    await page.waitForFunction(() => ((globalThis as any).document.querySelector('video')?.currentTime ?? 0) > 0.5, undefined, { timeout: 60_000 })
    const t1 = await video.evaluate((v: any) => v.currentTime as number)
    await page.waitForFunction((t) => ((globalThis as any).document.querySelector('video')?.currentTime ?? 0) > t + 1, t1, { timeout: 30_000 })
    // The live latency (from EXT-X-PROGRAM-DATE-TIME) is shown.
    await page.waitForFunction(() => /\d/.test((globalThis as any).document.querySelector('[data-testid=latency]')?.textContent ?? ''), undefined, { timeout: 15_000 })
    // Rendition switching: pick the 240p rung and hls.js plays it.
    await page.locator('#rendition option', { hasText: '240p' }).waitFor({ state: 'attached' })
    await page.getByLabel('Rendition').selectOption({ label: '240p' })
    await page.getByTestId('playing').filter({ hasText: '426×240' }).waitFor({ timeout: 60_000 })
    const t2 = await video.evaluate((v: any) => v.currentTime as number)
    await page.waitForFunction((t) => ((globalThis as any).document.querySelector('video')?.currentTime ?? 0) > t + 0.5, t2, { timeout: 30_000 })
    await shot('3-player')
  })

  it('plays the stream from another node\'s edge, opened by id on its dashboard', async () => {
    await page.goto((await worker.info).http + '/streams')
    await page.getByLabel('Watch a stream').fill(streamId)
    await page.getByRole('button', { name: 'Open player' }).click()
    await page.waitForURL(`**/streams/${streamId}`)
    await page.waitForFunction(() => ((globalThis as any).document.querySelector('video')?.currentTime ?? 0) > 0.5, undefined, { timeout: 60_000 })
    const t1 = await page.getByTestId('video').evaluate((v: any) => v.currentTime as number)
    await page.waitForFunction((t) => ((globalThis as any).document.querySelector('video')?.currentTime ?? 0) > t + 1, t1, { timeout: 30_000 })
    // This edge now counts a viewer of the stream (the snapshot is pushed every 2 s).
    await page.getByRole('link', { name: 'Streams', exact: true }).click()
    await page.getByRole('link', { name: `Watch ${streamId}` }).waitFor({ timeout: 15_000 })
    await shot('4-edge')
  })

  it('stops the stream through the UI', async () => {
    // Back on the ingest's player page, then to its dashboard through the breadcrumb.
    await page.goto(`${base}/streams/${streamId}`)
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click()
    await page.getByRole('button', { name: 'Stop Browser test show' }).click()
    // (The ingest answers once the stream's queued jobs are drained: a while on a loaded machine.)
    await page.locator(`[data-testid=stream-table] tr[data-stream="${streamId}"][data-state=ended]`).waitFor({ timeout: 60_000 })
    assert.equal((await getJson(`${base}/api/streams/${streamId}`)).body.state, 'ended')
    await shot('5-stopped')
  })
})
