/**
 * dash.js (the DASH-IF reference player) plays an edge's live DASH manifest
 * in a real Chromium (playwright-core driving Debian's /usr/bin/chromium):
 * a real node (ingest, worker, edge), a real RTMP publish, the player loaded
 * from node_modules into a blank page that fetches the manifest cross-origin.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { chromium } from 'playwright-core'
import { Cluster, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { Browser } from 'playwright-core'
import type { TestSource } from '@diststream/media'
import type { NodeProcess } from './helpers/cluster.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** The UMD build (a script tag: `window.dashjs`), which is what the package's `require` condition resolves to. */
const DASHJS = createRequire(import.meta.url).resolve('dashjs')

describe('dash.js plays the live DASH manifest in a real browser', { timeout: 300_000, skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let node: NodeProcess
  let browser: Browser
  let source: TestSource | undefined

  before(async () => {
    node = await cluster.start('all', ['--role', 'ingest,worker,edge', '--segment-seconds', '2', '--ladder', '240p', '--max-jobs', '1', '--container', 'cmaf'])
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--autoplay-policy=no-user-gesture-required']
    })
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    await source?.stop()
    await browser?.close()
    await cluster.close(failed)
  })

  it('plays video and audio from the live edge for several seconds, without player errors', async (t) => {
    const { http, rtmpPort } = await node.info
    const created = await createStream(http, 'dash.js', cluster.apiToken)
    const id = created.id
    source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${String(rtmpPort)}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: 2, durationSec: 60 })
    const mpd = `${http}/live/${id}/manifest.mpd`
    await waitUntil(async () => {
      const res = await fetch(mpd)
      const text = res.status === 200 ? await res.text() : ''
      return text.includes('id="240p"') && text.includes('id="audio"') && (text.match(/<S /g) ?? []).length > 0
    }, 60_000, 'a live manifest with video and audio', 500)

    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', err => { errors.push(String(err)) })
    await page.setContent('<video id="v" muted autoplay playsinline></video>')
    await page.addScriptTag({ path: DASHJS })
    await page.evaluate((url) => {
      const w = globalThis as any
      w.dashErrors = []
      const player = w.dashjs.MediaPlayer().create()
      player.on(w.dashjs.MediaPlayer.events.ERROR, (e: any) => { w.dashErrors.push(JSON.stringify(e.error ?? e).slice(0, 300)) })
      player.initialize(w.document.getElementById('v'), url, true)
      w.player = player
    }, mpd)
    // Playback advances through several segments at the live edge.
    await page.waitForFunction(() => {
      const w = globalThis as any
      const v = w.document.getElementById('v')
      if (w.startedAt == null) {
        if (v.currentTime > 0) w.startedAt = v.currentTime
        return false
      }
      return v.currentTime > w.startedAt + 6
    }, undefined, { timeout: 120_000, polling: 250 })
    const state = await page.evaluate(() => {
      const w = globalThis as any
      const v = w.document.getElementById('v')
      return {
        currentTime: v.currentTime,
        width: v.videoWidth,
        height: v.videoHeight,
        audioBytes: v.webkitAudioDecodedByteCount ?? -1,
        videoBytes: v.webkitVideoDecodedByteCount ?? -1,
        dynamic: w.player.isDynamic(),
        errors: w.dashErrors as string[],
        error: v.error?.message ?? null
      }
    })
    t.diagnostic(`dash.js: ${JSON.stringify(state)}`)
    assert.deepEqual(state.errors, [], 'no dash.js errors')
    assert.equal(state.error, null, 'no media element error')
    assert.deepEqual(errors, [], 'no page errors')
    assert.equal(state.dynamic, true, 'a live (dynamic) presentation')
    assert.ok([426, 640].includes(state.width), `video ${state.width}x${state.height}`)
    assert.ok(state.videoBytes > 0, 'video decoded')
    assert.ok(state.audioBytes > 0, 'audio decoded')
    await page.close()
  })
})
