/**
 * hls.js in a real Chromium (playwright-core driving /usr/bin/chromium, no
 * browser download) playing a live stream from an edge: shared by
 * hlsjs-playback.test.ts (plays, no stalls) and the bench's P4 (glass-to-glass).
 *
 * The network: three `diststream-node` processes (ingest, worker, edge),
 * ladder 240p, a 426x240 testsrc2 + sine publish over RTMP with `-re` and a
 * keyframe every segment (1 s in `--low-latency` mode). The player pins the
 * transcoded 240p rendition, so what it measures goes through the worker.
 */
import { createRequire } from 'node:module'
import { parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { chromium } from 'playwright-core'
import { getText, waitForRoles, waitUntil } from './cluster.js'
import { createStream } from './streams.js'
import type { Browser, Page } from 'playwright-core'
import type { TestSource } from '@diststream/media'
import type { Cluster, NodeProcess } from './cluster.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** hls.js as the web dashboard bundles it (the `hls.js` dependency of web/). */
export const HLSJS_PATH = createRequire(new URL('../../../../web/package.json', import.meta.url)).resolve('hls.js/dist/hls.min.js')

export interface PlaybackNetwork {
  ingest: NodeProcess
  worker: NodeProcess
  edge: NodeProcess
  streamId: string
  source: TestSource
  /** The edge's master playlist. */
  masterUrl: string
  segmentSeconds: number
}

/** Starts ingest, worker and edge processes and publishes a live test pattern; resolves once the edge lists a 240p segment. */
export async function startPlaybackNetwork (cluster: Cluster, o: { lowLatency: boolean }): Promise<PlaybackNetwork> {
  const segmentSeconds = o.lowLatency ? 1 : 2
  // --low-latency on every role: the ingest cuts 1 s segments, the edge blocks reloads and advertises it.
  const common = ['--ladder', '240p', '--spot-check-rate', '0', ...(o.lowLatency ? ['--low-latency'] : ['--segment-seconds', '2'])]
  const ingest = await cluster.start('ingest', ['--role', 'ingest', ...common])
  const boot = await ingest.bootstrapAddr()
  const [worker, edge] = await Promise.all([
    cluster.start('worker', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', boot, ...common]),
    cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  ])
  const { http, rtmpPort } = await ingest.info
  await waitForRoles(http, { worker: 1, edge: 1 }, 30_000)
  const created = await createStream(http, o.lowLatency ? 'hlsjs-ll' : 'hlsjs', cluster.apiToken)
  const streamId: string = created.id
  const source = startTestSource({
    ffmpegPath: resolveFfmpeg().ffmpeg,
    url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`,
    width: 426,
    height: 240,
    fps: 30,
    gopSeconds: segmentSeconds
  })
  const edgeHttp = (await edge.info).http
  await waitUntil(async () => {
    const res = await getText(`${edgeHttp}/live/${streamId}/240p/index.m3u8`)
    return res.status === 200 && parseMediaPlaylist(res.text).segments.some(s => s.gap !== true)
  }, 60_000, 'the edge to list a 240p segment', 500)
  return { ingest, worker, edge, streamId, source, masterUrl: `${edgeHttp}/live/${streamId}/index.m3u8`, segmentSeconds }
}

export async function launchBrowser (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--autoplay-policy=no-user-gesture-required']
  })
}

/** One sample of the player, taken from the page. */
export interface PlayerSample {
  /** Wall clock of the sample (ms). */
  at: number
  currentTime: number
  /** `hls.latency`: distance from the live edge the player estimates (s). */
  latency: number | null
  /** Date.now() − hls.playingDate (ms): glass-to-glass through the ingest's EXT-X-PROGRAM-DATE-TIME. */
  glassToGlassMs: number | null
  /** hls.js's target latency (from HOLD-BACK, or 3 target durations). */
  targetLatency: number | null
}

export interface PlaybackStats {
  /** First `playing` event seen. */
  playing: boolean
  /** video.currentTime at the first `playing`. */
  startTime: number
  /** `waiting` events after the first `playing`. */
  waitingAfterStart: number
  /** hls.js BUFFER_STALLED_ERROR after the first `playing`. */
  stallsAfterStart: number
  /** The first fatal hls.js error (type/details), if any. */
  fatal: string | null
  /** Non-fatal hls.js errors, by details. */
  errors: Record<string, number>
  /** The level hls.js plays (its playlist URL). */
  levelUrl: string | null
  /** Playlist requests carrying _HLS_msn (blocking reloads) the player made. */
  blockingReloads: number
}

/**
 * Opens a blank page, loads hls.js from node_modules and plays `masterUrl`
 * (muted, autoplay), pinned to the level whose playlist URL contains `pin`,
 * with hls.js's defaults unless `hlsConfig` says otherwise.
 * Counters live in the page (`window.__ds`); read them with {@link readStats}
 * and {@link sample}.
 */
export async function openPlayer (browser: Browser, masterUrl: string, pin = '240p/', hlsConfig: Record<string, unknown> = {}): Promise<Page> {
  const page = await browser.newPage()
  page.on('pageerror', err => { process.stderr.write(`[browser] ${String(err)}\n`) })
  page.on('request', req => {
    if (req.url().includes('_HLS_msn=')) void page.evaluate(() => { (globalThis as any).__ds.blockingReloads++ }).catch(() => { /* the page is closing */ })
  })
  await page.setContent('<!doctype html><html><body><video id="v" muted autoplay playsinline></video></body></html>')
  await page.addScriptTag({ path: HLSJS_PATH })
  await page.evaluate(({ url, pin, hlsConfig }) => {
    const w = globalThis as any
    const Hls = w.Hls
    if (!Hls.isSupported()) throw new Error('hls.js: MSE not supported in this browser')
    const video = (globalThis as any).document.getElementById('v')
    const ds = w.__ds = { playing: false, startTime: 0, waitingAfterStart: 0, stallsAfterStart: 0, fatal: null as string | null, errors: {} as Record<string, number>, levelUrl: null as string | null, blockingReloads: 0 }
    const hls = w.__hls = new Hls(hlsConfig)
    video.addEventListener('playing', () => {
      if (!ds.playing) { ds.playing = true; ds.startTime = video.currentTime }
    })
    video.addEventListener('waiting', () => { if (ds.playing) ds.waitingAfterStart++ })
    hls.on(Hls.Events.ERROR, (_e: unknown, d: any) => {
      if (d.fatal === true && ds.fatal == null) ds.fatal = `${String(d.type)}/${String(d.details)}`
      ds.errors[d.details] = (ds.errors[d.details] ?? 0) + 1
      if (d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR && ds.playing) ds.stallsAfterStart++
    })
    hls.on(Hls.Events.MANIFEST_PARSED, (_e: unknown, d: any) => {
      const i = d.levels.findIndex((l: any) => { const u = l.uri ?? l.url; return String(Array.isArray(u) ? u[0] : u).includes(pin) })
      if (i >= 0) { hls.startLevel = i; hls.currentLevel = i }
    })
    hls.on(Hls.Events.LEVEL_LOADED, (_e: unknown, d: any) => { ds.levelUrl = d.details?.url ?? null })
    hls.loadSource(url)
    hls.attachMedia(video)
    void video.play().catch(() => { /* muted autoplay refused: hls.js still loads, and the test reports no playback */ })
  }, { url: masterUrl, pin, hlsConfig })
  return page
}

export async function readStats (page: Page): Promise<PlaybackStats> {
  return await page.evaluate(() => ({ ...(globalThis as any).__ds }))
}

export async function sample (page: Page): Promise<PlayerSample> {
  return await page.evaluate(() => {
    const hls = (globalThis as any).__hls
    const video = (globalThis as any).document.getElementById('v')
    const pd: Date | null = hls.playingDate ?? null
    const num = (v: unknown): number | null => typeof v === 'number' && Number.isFinite(v) ? v : null
    return {
      at: Date.now(),
      currentTime: video.currentTime,
      latency: num(hls.latency),
      glassToGlassMs: pd != null ? Date.now() - pd.getTime() : null,
      targetLatency: num(hls.targetLatency)
    }
  })
}

/**
 * Plays until `seconds` of media have played since the first `playing`
 * (or `maxWallMs` passes), sampling once a second; returns the samples.
 */
export async function playFor (page: Page, seconds: number, maxWallMs: number): Promise<PlayerSample[]> {
  await waitUntil(async () => (await readStats(page)).playing, 60_000, 'hls.js to start playing', 250)
  const { startTime } = await readStats(page)
  const samples: PlayerSample[] = []
  const end = Date.now() + maxWallMs
  while (Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    const s = await sample(page)
    samples.push(s)
    if (s.currentTime - startTime >= seconds) break
  }
  return samples
}

export function percentile (xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]!
}
