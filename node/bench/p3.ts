/**
 * P3: dispatch overhead with 10 workers on loopback (index.ts documents the method).
 *
 * One ingest and 10 worker processes (--max-jobs 1 each), one small rung (240p from a 640x360
 * source), 2 s segments, a realtime (-re) ffmpeg test source for `sourceSec`. Dispatch overhead
 * per job = the ingest ledger's first attempt startedAt − createdAt (job announced → auction
 * closed, bids ranked, the transcode attempt started), read from /api/jobs; transcode time is
 * not in it.
 */
import { startTestSource } from '@diststream/media'
import type { ResolvedFfmpeg } from '@diststream/media'
import { callApi, getJson, waitUntil } from '../test/helpers/cluster.js'
import { drain, newCluster } from './phases.js'
import type { JobView } from './phases.js'
import { LogTap, stats } from './util.js'
import type { LogLine } from './util.js'

export const P3_WORKERS = 10

export interface P3Result {
  workers: number
  /** Workers the ingest's presence table listed when the stream started. */
  workersSeen: number
  /** Workers missing from the ingest's table, with what they see themselves. */
  unseen: string[]
  sourceSec: number
  jobs: JobView[]
  /** ms, per job with an attempt: first attempt startedAt − createdAt */
  overheadMs: number[]
  bidsPerJob: number[]
  /** Workers that ran at least one job. */
  workersUsed: number
  sourceCode: number
  problems: LogLine[]
  startMs: number
}

export async function runP3 (ffmpeg: ResolvedFfmpeg, sourceSec: number): Promise<P3Result> {
  const tap = new LogTap()
  const cluster = await newCluster()
  try {
    const t0 = Date.now()
    const common = ['--segment-seconds', '2', '--ladder', '240p', '--playlist-window', '60']
    const ingest = await cluster.start('p3-ingest', ['--role', 'ingest', ...common])
    tap.add(ingest)
    const boot = await ingest.bootstrapAddr()
    const workers = await Promise.all(Array.from({ length: P3_WORKERS }, async (_, i) =>
      await cluster.start(`p3-worker-${i}`, ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])))
    workers.forEach(w => { tap.add(w) })
    const { http, rtmpPort } = await ingest.info
    // Presence entries lapse under heavy load; proceed after the wait with however many the
    // ingest sees, and report that number.
    let seen = 0
    await waitUntil(async () => {
      const { body } = await getJson(`${http}/api/node`)
      seen = body.peers.filter((p: any) => p.roles.includes('worker')).length
      return seen === P3_WORKERS
    }, 120_000, `the ingest to see its ${P3_WORKERS} workers`, 500).catch(() => { /* the phase reports how many workers it saw */ })
    if (seen === 0) throw new Error(`the ingest saw none of its ${P3_WORKERS} workers in 120 s`)
    // For a worker the ingest does not list: what the worker itself sees.
    const unseen: string[] = []
    if (seen < P3_WORKERS) {
      const listed = new Set(((await getJson(`${http}/api/node`)).body.peers as any[]).filter(p => p.roles.includes('worker')).map(p => p.peerId))
      const ingestId = (await ingest.info).peerId
      for (const w of workers) {
        const wi = await w.info
        if (listed.has(wi.peerId)) continue
        const body = (await getJson(`${wi.http}/api/node`).catch(() => ({ body: null }))).body
        const peers: any[] = body?.peers ?? []
        unseen.push(`${w.name}: ${peers.filter(p => p.connected).length} connected peers, ingest ${peers.some(p => p.peerId === ingestId && p.connected) ? 'connected' : 'NOT connected'}`)
      }
    }
    const startMs = Date.now() - t0
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'bench-p3' })
    if (created.status !== 201) throw new Error(`creating a stream failed: ${created.status} ${JSON.stringify(created.body)}`)
    const src = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.body.key}`, width: 640, height: 360, fps: 30, gopSeconds: 2, durationSec: sourceSec, overlay: false })
    const watchdog = setTimeout(() => { void src.stop() }, (sourceSec + 30) * 1000)
    const sourceCode = await src.done
    clearTimeout(watchdog)
    const { jobs } = await drain({ cluster, ingest, workers, streamId: created.body.id, rtmpUrl: '' }, tap, 60_000)
    const started = jobs.filter(j => j.history.length > 0)
    return {
      workers: P3_WORKERS,
      workersSeen: seen,
      unseen,
      sourceSec,
      jobs,
      overheadMs: started.map(j => j.history[0]!.startedAt - j.createdAt),
      bidsPerJob: jobs.map(j => j.bids),
      workersUsed: new Set(started.map(j => j.history[0]!.worker)).size,
      sourceCode,
      problems: tap.problems,
      startMs
    }
  } finally {
    await cluster.stop()
  }
}

/** The P3 section of the report, its summary rows, and its BENCH_RESULT part. */
export function reportP3 (r: P3Result): { lines: string[], rows: string[][], json: object } {
  const s = stats(r.overheadMs)
  const bids = stats(r.bidsPerJob)
  const ms = (x: number): string => Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a'
  const states = new Map<string, number>()
  for (const j of r.jobs) states.set(j.state, (states.get(j.state) ?? 0) + 1)
  const met = s.n > 0 ? s.p95 <= 50 : null
  return {
    lines: [
      '',
      `== P3: dispatch overhead with ${r.workers} workers (loopback; ingest + ${r.workers} worker processes, --max-jobs 1, ladder 240p, -re source ${r.sourceSec} s 640x360)`,
      `  nodes up in ${(r.startMs / 1000).toFixed(1)} s, ${r.workersSeen} of ${r.workers} workers in the ingest's presence table at the start${r.workersSeen < r.workers ? ' (FEWER: the machine is overloaded)' : ''}; source ffmpeg exit ${r.sourceCode}; jobs ${r.jobs.length} (${[...states].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), run by ${r.workersUsed} distinct workers`,
      ...(r.unseen.length > 0 ? [`  workers the ingest did not list: ${r.unseen.join('; ')}`] : []),
      `  job announced (ledger createdAt) → first attempt started (auction closed, bids ranked): p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, min ${ms(s.min)}, max ${ms(s.max)} (n=${s.n})`,
      `  bids per job: p50 ${bids.p50}, min ${bids.min}, max ${bids.max}`,
      `  per job (ms): ${r.overheadMs.map(x => Math.round(x)).join(' ')}`,
      `  P3 p95 = ${ms(s.p95)}; compared with the loopback dispatch target ≤ 50 ms: ${met == null ? 'invalid (no job started)' : met ? 'met' : 'MISSED'}`
    ],
    rows: [
      [`P3 dispatch overhead, ${r.workers} workers, p50`, ms(s.p50), '', ''],
      [`P3 dispatch overhead, ${r.workers} workers, p95`, ms(s.p95), '≤ 50 ms', met == null ? 'invalid' : met ? 'met' : 'MISSED']
    ],
    json: { workers: r.workers, workersSeen: r.workersSeen, p50Ms: Number.isFinite(s.p50) ? Math.round(s.p50) : null, p95Ms: Number.isFinite(s.p95) ? Math.round(s.p95) : null, n: s.n, jobs: r.jobs.length, bidsP50: bids.p50, targetMs: 50, met }
  }
}
