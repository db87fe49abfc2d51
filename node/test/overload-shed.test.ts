/**
 * Live means live (issue 13), in real processes: an ingest, ONE deliberately
 * slow worker (test/fixtures/fake-ffmpeg-slow.sh: a fixed pixel rate in
 * front of the real ffmpeg, too slow for the whole 360p+240p ladder in a
 * segment's time, fast enough for 240p alone) and an edge. Without shedding
 * every job would queue behind the last and the stream would fall further
 * behind with each segment; the ingest sheds 360p instead. Asserted from the
 * edge's playlists (each segment's close, from its program date-time, to its
 * first listing) and the ingest's API: the source and 240p keep being listed
 * within two segment durations of their close, the API says 360p is shed
 * (the master still lists it, its shed segments are EXT-X-GAP), no job waits
 * unboundedly, nothing passes through; then a fast worker joins and 360p
 * comes back.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { chromium } from 'playwright-core'
import { Cluster, getJson, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { createStream, metric } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

const SLOW = fileURLToPath(new URL('../../test/fixtures/fake-ffmpeg-slow.sh', import.meta.url))
const SEGMENT_SECONDS = 2
const SEGMENT_MS = SEGMENT_SECONDS * 1000
/**
 * 8 ms per thousand output pixels: 360p (230 kpx) costs 1.84 s and 240p
 * (102 kpx) 0.82 s before the real encode, so the whole ladder takes well
 * over a segment's 2 s (the worker falls 1 s or more behind per segment) and
 * 240p alone about half of it.
 */
const SLOW_MS_PER_KPIXEL = '8'
/** The fast worker joins this long after the publish starts: time for the shed to settle and be measured. */
const FAST_JOINS_AFTER_MS = 30_000
/** Long enough for the fast worker to start, the quiet spell (8 durations) and 360p segments after it. */
const PUBLISH_SECONDS = 80
/** Segments closed this long after the API first reported the shed are "after shedding kicked in" (the jobs on the worker then drain). */
const DRAIN_MS = 2 * SEGMENT_MS
/** The bound of the issue: listed at the edge within two segment durations of closing. */
const LISTED_WITHIN_MS = 2 * SEGMENT_MS
const EDGE_POLL_MS = 100
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

type Rungs = Array<{ name: string, live: boolean }>

/** Polls the edge's media playlists: per rendition, seq → when first listed (not a gap), when its segment closed (PDT + duration), and the gaps. */
class EdgeWatch {
  readonly listed = new Map<string, Map<number, { at: number, closedAt: number }>>()
  readonly gaps = new Map<string, Set<number>>()
  #stop = false
  readonly #done: Promise<void>

  constructor (edgeHttp: string, streamId: string, renditions: string[]) {
    for (const r of renditions) { this.listed.set(r, new Map()); this.gaps.set(r, new Set()) }
    this.#done = (async () => {
      while (!this.#stop) {
        const t0 = Date.now()
        await Promise.all(renditions.map(async r => {
          const res = await getText(`${edgeHttp}/live/${streamId}/${r}/index.m3u8`).catch(() => undefined)
          const at = Date.now()
          if (res?.status !== 200) return
          for (const s of parseMediaPlaylist(res.text).segments) {
            if (s.gap === true) this.gaps.get(r)!.add(s.seq)
            else if (!this.listed.get(r)!.has(s.seq) && s.pdtMs != null) this.listed.get(r)!.set(s.seq, { at, closedAt: s.pdtMs + s.durationSec * 1000 })
          }
        }))
        await new Promise(resolve => setTimeout(resolve, Math.max(0, EDGE_POLL_MS - (Date.now() - t0))))
      }
    })()
  }

  /** Listed − closed, ms, of `rendition`'s segments that closed in [from, to). */
  latencies (rendition: string, from = 0, to = Infinity): Array<[number, number]> {
    return [...this.listed.get(rendition)!].filter(([, v]) => v.closedAt >= from && v.closedAt < to).map(([seq, v]) => [seq, v.at - v.closedAt] as [number, number]).sort((a, b) => a[0] - b[0])
  }

  async stop (): Promise<void> { this.#stop = true; await this.#done }
}

describe('a live stream on a worker too slow for its ladder sheds 360p, stays live, and gets it back when a fast worker joins', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '360p,240p', '--playlist-window', '100', '--container', 'ts']
  let ingest: NodeProcess
  let edge: NodeProcess
  let work = ''

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-shed-'))
    // No spot checks: with one worker there is no second opinion, and later they would take the fast worker's slot.
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--spot-check-rate', '0', ...common])
    const boot = await ingest.bootstrapAddr()
    await cluster.start('slow-worker', ['--role', 'worker', '--max-jobs', '1', '--no-calibrate', '--bootstrap', boot, ...common], { FFMPEG_PATH: SLOW, REAL_FFMPEG: ffmpeg.ffmpeg, SLOW_MS_PER_KPIXEL })
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, work) })

  it('sheds, stays within two durations, restores', async (t) => {
    const { http } = await ingest.info
    const edgeHttp = (await edge.info).http
    await waitForRoles(http, { worker: 1, edge: 1 })
    const created = await createStream(http, 'shed', cluster.apiToken)
    const rungsNow = async (): Promise<Rungs | undefined> => (await getJson(`${http}/api/streams/${created.id}`)).body.rungs
    const startedAt = Date.now()
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    await waitUntil(async () => (await getText(`${edgeHttp}/live/${created.id}/index.m3u8`)).status === 200, 30_000, 'the edge to serve the stream', 250)
    const watch = new EdgeWatch(edgeHttp, created.id, ['source', '240p', '360p'])
    try {
      // 1. The slow worker falls behind: the API reports 360p shed (costliest first), 240p live.
      const shed = await waitUntil(async () => {
        const r = await rungsNow()
        return r?.some(x => x.name === '360p' && !x.live) === true ? { rungs: r, at: Date.now() } : undefined
      }, FAST_JOINS_AFTER_MS - 5000, 'the API to report 360p shed', 250)
      t.diagnostic(`shed ${shed.at - startedAt} ms into the publish: ${JSON.stringify(shed.rungs)}`)
      assert.deepEqual(shed.rungs, [{ name: '360p', live: false }, { name: '240p', live: true }], 'costliest first, the cheapest stays')
      // The dashboard's snapshot says the same.
      const dash = (await getJson(`${http}/api/dashboard`)).body.streams.find((x: { id: string }) => x.id === created.id)
      assert.deepEqual(dash?.rungs, [{ name: '360p', live: false }, { name: '240p', live: true }], 'the dashboard\'s snapshot marks 360p shed')
      // And the dashboard page shows it: 360p struck through and marked shed, 240p plain.
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] })
      try {
        const page = await browser.newPage()
        await page.goto(`${http}/streams`)
        const row = page.locator(`[data-testid=stream-table] tr[data-stream="${created.id}"]`)
        await row.locator('[data-shed=true]', { hasText: '360p shed' }).waitFor({ timeout: 15_000 })
        assert.equal(await row.locator('.chip-plain', { hasText: '240p' }).count(), 1, '240p shown live')
      } finally {
        await browser.close()
      }
      const master = parseMasterPlaylist((await getText(`${edgeHttp}/live/${created.id}/index.m3u8`)).text).variants.map(v => v.uri.split('/')[0])
      assert.ok(master.includes('360p'), `the master keeps listing the shed rung (a stable rung list): ${master.join(',')}`)

      // 2. A fast worker (the real ffmpeg) joins: capacity is back.
      await new Promise(resolve => setTimeout(resolve, Math.max(0, startedAt + FAST_JOINS_AFTER_MS - Date.now())))
      const fastAt = Date.now()
      await cluster.start('fast-worker', ['--role', 'worker', '--max-jobs', '1', '--no-calibrate', '--bootstrap', await ingest.bootstrapAddr(), ...common])
      const restored = await waitUntil(async () => {
        const r = await rungsNow()
        return r?.every(x => x.live) === true ? Date.now() : undefined
      }, PUBLISH_SECONDS * 1000 - (Date.now() - startedAt) - 10_000, 'the API to report 360p live again', 250)
      t.diagnostic(`restored ${restored - fastAt} ms after the fast worker started`)
      assert.equal(await source.done, 0, 'the publisher ran to the end')
      // The last segments reach the edge.
      await waitUntil(async () => watch.listed.get('source')!.size >= PUBLISH_SECONDS / SEGMENT_SECONDS - 2, 30_000, 'the edge to list the source to its end', 500)
      await new Promise(resolve => setTimeout(resolve, 3 * SEGMENT_MS))
      await watch.stop()

      const jobs = ((await getJson(`${http}/api/jobs?limit=500`)).body as Array<{ streamId: string, seq: number, createdAt: number, history: Array<{ startedAt: number }> }>)
        .filter(j => j.streamId === created.id).sort((a, b) => a.seq - b.seq)
      const waits = jobs.map(j => [j.seq, (j.history[0]?.startedAt ?? Date.now()) - j.createdAt] as const)
      t.diagnostic(`queue wait ms by seq: ${waits.map(([s, ms]) => `${s}:${ms}`).join(' ')}`)
      for (const r of ['source', '240p', '360p']) t.diagnostic(`${r} closed → listed ms by seq: ${watch.latencies(r).map(([s, ms]) => `${s}:${ms}`).join(' ')}`)

      // 3. Live means live: after the shed took hold (and before the fast worker joined), every
      // segment of the source and of 240p was listed within two durations of closing.
      for (const r of ['source', '240p']) {
        const all = watch.latencies(r)
        const steady = watch.latencies(r, shed.at + DRAIN_MS, fastAt)
        assert.ok(steady.length >= 5, `${r}: enough segments while shed (${steady.length})`)
        assert.deepEqual(steady.filter(([, ms]) => ms > LISTED_WITHIN_MS), [], `${r}: listed within ${LISTED_WITHIN_MS} ms of closing while shed`)
        // And never more than two durations behind normal from the first segment to the last; normal is the
        // first segment's latency: the whole ladder on this pool with nothing queued in front of it.
        const normal = all[0]![1]
        assert.deepEqual(all.filter(([, ms]) => ms > normal + 2 * SEGMENT_MS), [], `${r}: within two durations of normal (${normal} ms) throughout`)
      }
      // The shed rung's segments are gaps, not missing: the source plays every one of them.
      const gaps360 = [...watch.gaps.get('360p')!]
      assert.ok(gaps360.length >= 5, `360p's shed segments are EXT-X-GAP (${gaps360.length})`)
      for (const seq of gaps360) assert.ok(watch.listed.get('source')!.has(seq), `source ${seq} plays while 360p is shed`)
      // Back: segments closed after the restore have 360p again.
      const back = watch.latencies('360p', restored + SEGMENT_MS)
      assert.ok(back.length >= 3, `360p listed again after the restore (${back.length} segments)`)

      // 4. No job waited unboundedly: from its creation to its first attempt.
      assert.ok(waits.length >= PUBLISH_SECONDS / SEGMENT_SECONDS - 2, `a job per segment (${waits.length})`)
      assert.deepEqual(waits.filter(([, ms]) => ms > 2 * SEGMENT_MS), [], 'no job waited more than two durations for a worker')
      const m = (await getText(`${http}/metrics`)).text
      assert.ok(metric(m, 'diststream_rungs_shed_total') >= gaps360.length, 'shed rungs are counted')
      assert.equal(metric(m, 'diststream_jobs_passthrough_total'), 0, 'shedding, not passing the source through')
    } finally {
      await watch.stop()
    }
  })
})
