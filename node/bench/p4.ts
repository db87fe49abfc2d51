/**
 * P4: glass-to-glass latency in hls.js, standard mode (2 s segments) and
 * `--low-latency` (1 s segments, blocking playlist reload, HOLD-BACK 3 s).
 *
 * Network and player: node/test/helpers/hlsjs.ts (ingest, worker and edge
 * processes, ladder 240p, a 426x240 testsrc2 + sine RTMP publish with -re and
 * a keyframe per segment; hls.js from web/'s node_modules in /usr/bin/chromium,
 * default hls.js config, pinned to the transcoded 240p rendition).
 *
 * The player joins once the edge's playlist window is full (6 segments), as a
 * viewer arriving mid-stream would: hls.js never drifts back once playing, so
 * joining a young stream (fewer segments than its target latency) would show
 * a lower latency than any later viewer gets.
 *
 * Glass-to-glass = Date.now() − hls.playingDate in the page, sampled every
 * second over `playSec` of playback after 10 s of warm-up (hls.js config:
 * defaults plus `maxLiveSyncPlaybackRate: 1.5`, so a slow start-up is caught up): the wall clock now minus the
 * EXT-X-PROGRAM-DATE-TIME of the frame on screen. The PDT is the ingest's
 * wall clock when the segment's first frame arrived (first segment close −
 * its duration, then the media timeline), so the publisher's encode and RTMP
 * hop (tens of ms on loopback) are not in it. Same host, same clock.
 * The PDT anchor can itself be late: the first segment's close may be seen
 * late (the segmenter starting under load). Each later segment closes when
 * the next keyframe arrives, so closed − PDT should be one segment duration;
 * the median shortfall is printed as "PDT anchor late by" and added back
 * ("corrected"), and the target is judged on the corrected p50.
 *
 * Breakdown (p50 over the segments played), per segment N of the 240p rendition:
 *  - segment: capture of its first frame (PDT) → segment closed at the ingest
 *    (the segmenter's CSV line: the next keyframe arrived) ≈ one segment;
 *  - closed → job announced (ledger createdAt);
 *  - announced → transcoded (the ok attempt's endedAt: bids, dispatch, transfer, ffmpeg, renditions back);
 *  - transcoded → stored (the ingest verifies the renditions and stores them: 'segment ready');
 *  - stored → listed at the edge (gossip, the edge's fetch + hash check, LiveWindow),
 *    seen by polling the edge's 240p playlist every 100 ms;
 *  - player: glass-to-glass p50 − (PDT → listed p50 − half a segment): a frame in the
 *    middle of a segment is captured half a segment after its PDT; the rest is the
 *    player's distance from the live edge (hls.js keeps HOLD-BACK, or 3 target
 *    durations, behind the newest listed segment) plus playlist reload and buffering.
 *
 * Targets: p50 ≤ 8 s at 2 s segments, ≤ 4 s in low-latency mode (the issue's figures;
 * p95 shown too). `node node/dist/bench/index.js --only p4` runs this phase alone.
 */
import { loadavg } from 'node:os'
import { parseMediaPlaylist } from '@diststream/hls'
import { Cluster, getJson, getText, waitUntil } from '../test/helpers/cluster.js'
import { launchBrowser, openPlayer, playFor, readStats, startPlaybackNetwork } from '../test/helpers/hlsjs.js'
import type { PlaybackStats } from '../test/helpers/hlsjs.js'
import type { JobView } from './phases.js'
import { LogTap, sleep, stats, table } from './util.js'

export interface P4Mode {
  mode: 'standard' | 'low-latency'
  segmentSec: number
  targetSec: number
  samples: number
  /** Glass-to-glass (s). */
  g2g: { p50: number, p95: number }
  /**
   * How much later than its first frame's arrival a segment's PDT is (s, p50, ≥ 0): a segment
   * closes when the next keyframe arrives, so closed − PDT should be one segment; when it is
   * less, the PDT anchor (the first segment's close − its duration) was late by the difference.
   */
  anchorSec: number
  /** Glass-to-glass with the PDT anchor error added back (what the viewer sees; judged against the target). */
  g2gCorrected: { p50: number, p95: number }
  /** hls.latency (s). */
  latency: { p50: number, p95: number }
  targetLatency: number | null
  /** p50 of each stage (ms), in pipeline order. */
  stages: Array<{ stage: string, p50: number, p95: number, n: number }>
  player: PlaybackStats
  loadBefore: string
  loadAfter: string
}

/**
 * hls.js's defaults, except that it may play up to 1.5× to reach its target latency
 * (`maxLiveSyncPlaybackRate`, hls.js's own catch-up): with the default (1) a start-up
 * that takes long on a loaded machine stays in the latency for good, and the figure
 * would measure that start-up, not the delivery.
 */
const HLS_CONFIG = { maxLiveSyncPlaybackRate: 1.5 }
/** Media seconds played before sampling starts (time to catch up). */
const WARMUP_SEC = 10

const load = (): string => loadavg().map(x => x.toFixed(2)).join(' ')

async function runMode (lowLatency: boolean, playSec: number, log: (s: string) => void): Promise<P4Mode> {
  const cluster = new Cluster()
  const loadBefore = load()
  const browser = await launchBrowser()
  try {
    const net = await startPlaybackNetwork(cluster, { lowLatency })
    const tap = new LogTap()
    tap.add(net.ingest)
    const edgeHttp = (await net.edge.info).http
    const ingestHttp = (await net.ingest.info).http
    log(`  ${lowLatency ? 'low-latency' : 'standard'}: stream ${net.streamId} live at the edge, ${net.segmentSeconds} s segments; starting hls.js`)

    // Listing times at the edge, one poll at a time every 100 ms.
    const listed = new Map<number, { at: number, pdtMs?: number, durationSec: number }>()
    let polling = true
    const poller = (async () => {
      while (polling) {
        const res = await getText(`${edgeHttp}/live/${net.streamId}/240p/index.m3u8`).catch(() => undefined)
        const at = Date.now()
        if (res?.status === 200) {
          for (const s of parseMediaPlaylist(res.text).segments) {
            if (s.gap !== true && !listed.has(s.seq)) listed.set(s.seq, { at, ...(s.pdtMs !== undefined ? { pdtMs: s.pdtMs } : {}), durationSec: s.durationSec })
          }
        }
        await sleep(100)
      }
    })()

    // Join a stream whose playlist window is full (6 segments), as a viewer arriving mid-stream does:
    // a player joining a young stream starts closer to the live edge than it will ever be again.
    await waitUntil(async () => [...listed.keys()].length >= 6, 60_000, 'six segments listed at the edge', 250)
    const page = await openPlayer(browser, net.masterUrl, '240p/', HLS_CONFIG)
    const all = await playFor(page, WARMUP_SEC + playSec, (WARMUP_SEC + playSec) * 1000 + 60_000)
    const startTime = (await readStats(page)).startTime
    const samples = all.filter(s => s.currentTime - startTime >= WARMUP_SEC)
    const player = await readStats(page)
    polling = false
    await poller
    await net.source.stop()

    const jobs = ((await getJson(`${ingestHttp}/api/jobs?limit=500`)).body as JobView[]).filter(j => j.streamId === net.streamId)
    const ready = tap.find('segment ready', net.ingest.name).filter(l => l.j.streamId === net.streamId)
    const steps: Record<string, number[]> = { segment: [], 'closed → announced': [], 'announced → transcoded': [], 'transcoded → stored': [], 'stored → listed at edge': [], 'PDT → listed at edge': [] }
    const anchor: number[] = []
    for (const r of ready) {
      const seq = r.j.seq as number
      const stored = r.j.time as number
      const closed = stored - (r.j.ms as number)
      const l = listed.get(seq)
      const job = jobs.find(j => j.seq === seq)
      const ok = job?.history.find(h => h.outcome === 'ok' && h.endedAt != null)
      if (l?.pdtMs == null || job == null || ok == null) continue
      steps.segment!.push(closed - l.pdtMs)
      anchor.push(l.durationSec * 1000 - (closed - l.pdtMs))
      steps['closed → announced']!.push(job.createdAt - closed)
      steps['announced → transcoded']!.push(ok.endedAt! - job.createdAt)
      steps['transcoded → stored']!.push(stored - ok.endedAt!)
      steps['stored → listed at edge']!.push(l.at - stored)
      steps['PDT → listed at edge']!.push(l.at - l.pdtMs)
    }
    const g2g = stats(samples.map(s => s.glassToGlassMs).filter((x): x is number => x != null))
    const anchorMs = Math.max(0, stats(anchor).p50)
    const lat = stats(samples.map(s => s.latency).filter((x): x is number => x != null).map(x => x * 1000))
    const stages = Object.entries(steps).map(([stage, xs]) => { const s = stats(xs); return { stage, p50: s.p50, p95: s.p95, n: s.n } })
    const avail = stages.find(s => s.stage === 'PDT → listed at edge')!
    // The player's share, from the corrected figures (the PDT anchor error cancels out of PDT → listed).
    stages.push({ stage: 'player (hold-back, reload, buffer)', p50: g2g.p50 - (avail.p50 - net.segmentSeconds * 500), p95: NaN, n: g2g.n })
    await page.close()
    return {
      mode: lowLatency ? 'low-latency' : 'standard',
      segmentSec: net.segmentSeconds,
      targetSec: lowLatency ? 4 : 8,
      samples: g2g.n,
      g2g: { p50: g2g.p50 / 1000, p95: g2g.p95 / 1000 },
      anchorSec: anchorMs / 1000,
      g2gCorrected: { p50: (g2g.p50 + anchorMs) / 1000, p95: (g2g.p95 + anchorMs) / 1000 },
      latency: { p50: lat.p50 / 1000, p95: lat.p95 / 1000 },
      targetLatency: samples.at(-1)?.targetLatency ?? null,
      stages,
      player,
      loadBefore,
      loadAfter: load()
    }
  } finally {
    await browser.close().catch(() => { /* the browser already exited */ })
    await cluster.stop()
  }
}

/** Both modes, one after the other. */
export async function runP4 (playSec = 30, log: (s: string) => void = s => { console.log(s) }): Promise<P4Mode[]> {
  const out: P4Mode[] = []
  for (const ll of [false, true]) out.push(await runMode(ll, playSec, log))
  return out
}

const s2 = (x: number): string => Number.isFinite(x) ? x.toFixed(2) : '—'
const ms = (x: number): string => Number.isFinite(x) ? `${Math.round(x)} ms` : '—'

export function formatP4 (modes: P4Mode[]): string {
  const lines = ['== P4: glass-to-glass in hls.js (Date.now() − hls.playingDate, sampled every second)']
  lines.push(table(['mode', 'segments', 'samples', 'glass-to-glass p50 / p95', 'PDT anchor late by', 'corrected p50 / p95', 'hls.latency p50', 'hls target latency', 'target (p50)', '', 'load avg before → after'],
    modes.map(m => [m.mode, `${m.segmentSec} s`, String(m.samples), `${s2(m.g2g.p50)} s / ${s2(m.g2g.p95)} s`, `${s2(m.anchorSec)} s`, `${s2(m.g2gCorrected.p50)} s / ${s2(m.g2gCorrected.p95)} s`,
      `${s2(m.latency.p50)} s`, `${s2(m.targetLatency ?? NaN)} s`, `≤ ${m.targetSec} s`,
      m.g2gCorrected.p50 <= m.targetSec ? 'met' : 'MISSED', `${m.loadBefore} → ${m.loadAfter}`])))
  for (const m of modes) {
    lines.push(`-- where the delay goes, ${m.mode} (p50 / p95 per segment; player stalls ${m.player.stallsAfterStart}, waiting ${m.player.waitingAfterStart}, blocking reloads ${m.player.blockingReloads}, errors ${JSON.stringify(m.player.errors)})`)
    lines.push(table(['stage', 'p50', 'p95', 'n'], m.stages.map(s => [s.stage, ms(s.p50), ms(s.p95), String(s.n)])))
  }
  return lines.join('\n')
}
