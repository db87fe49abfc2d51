/**
 * P3: dispatch overhead with 10 workers on loopback (index.ts documents the method).
 *
 * One ingest and 10 worker processes (--max-jobs 1 each), one small rung (240p from a 640x360
 * source), 2 s segments, a realtime (-re) ffmpeg test source for `sourceSec`. Dispatch overhead
 * per job = the ingest ledger's first attempt startedAt − createdAt (job announced → auction
 * closed, bids ranked, the transcode attempt started), read from /api/jobs; transcode time is
 * not in it.
 */
import { INGEST_DEFAULTS } from '@diststream/ingest/defaults'
import { startTestSource } from '@diststream/media'
import { AUCTION_FIRST_BIDS } from '@diststream/scheduler'
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
  /** jobId → workers that logged 'no bid: stream not announced yet' (they had not heard the stream's announce). */
  noBidUnknownStream: Record<string, number>
  /** jobId → each bid's times from the worker's 'bid sent' log: job heard, bid stream dialled, BidAck read (ms since epoch; one clock, one machine). */
  bids: Record<string, Array<{ heardAt: number, dialAt: number, ackAt: number }>>
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
      bids: groupBids(tap.lines.filter(l => l.j.msg === 'bid sent' && typeof l.j.heardAt === 'number')),
      noBidUnknownStream: countBy(tap.lines.filter(l => l.j.msg === 'no bid: stream not announced yet').map(l => String(l.j.jobId))),
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
  const overhead = (j: JobView): number => j.history[0]!.startedAt - j.createdAt
  const started = r.jobs.filter(j => j.history.length > 0).sort((a, b) => a.seq - b.seq)
  const slow = started.filter(j => overhead(j) > 50)
  return {
    lines: [
      '',
      `== P3: dispatch overhead with ${r.workers} workers (loopback; ingest + ${r.workers} worker processes, --max-jobs 1, ladder 240p, -re source ${r.sourceSec} s 640x360)`,
      `  nodes up in ${(r.startMs / 1000).toFixed(1)} s, ${r.workersSeen} of ${r.workers} workers in the ingest's presence table at the start${r.workersSeen < r.workers ? ' (FEWER: the machine is overloaded)' : ''}; source ffmpeg exit ${r.sourceCode}; jobs ${r.jobs.length} (${[...states].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), run by ${r.workersUsed} distinct workers`,
      ...(r.unseen.length > 0 ? [`  workers the ingest did not list: ${r.unseen.join('; ')}`] : []),
      `  job announced (ledger createdAt) → first attempt started (auction closed, bids ranked): p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, min ${ms(s.min)}, max ${ms(s.max)} (n=${s.n})`,
      `  bids per job: p50 ${bids.p50}, min ${bids.min}, max ${bids.max}`,
      `  per job (seq:ms/bids): ${started.map(j => `${j.seq}:${Math.round(overhead(j))}/${j.bids}`).join(' ')}`,
      ...stages(started, r.bids).map(x => `  ${x}`),
      ...slow.map(j => `  seq ${j.seq} over 50 ms: ${Math.round(overhead(j))} ms, ${j.bids} bid(s)${j.bids < AUCTION_FIRST_BIDS ? `, fewer than the ${AUCTION_FIRST_BIDS} an auction of this pool closes on, so it waited out the bid window (${INGEST_DEFAULTS.bidWindowMs} ms)` : ''}; workers that had not yet heard the stream's announce and did not bid: ${r.noBidUnknownStream[j.jobId] ?? 0}`),
      `  P3 p95 = ${ms(s.p95)}; compared with the loopback dispatch target ≤ 50 ms: ${met == null ? 'invalid (no job started)' : met ? 'met' : 'MISSED'}`
    ],
    rows: [
      [`P3 dispatch overhead, ${r.workers} workers, p50`, ms(s.p50), '', ''],
      [`P3 dispatch overhead, ${r.workers} workers, p95`, ms(s.p95), '≤ 50 ms', met == null ? 'invalid' : met ? 'met' : 'MISSED']
    ],
    json: { workers: r.workers, workersSeen: r.workersSeen, p50Ms: Number.isFinite(s.p50) ? Math.round(s.p50) : null, p95Ms: Number.isFinite(s.p95) ? Math.round(s.p95) : null, n: s.n, jobs: r.jobs.length, bidsP50: bids.p50, targetMs: 50, met }
  }
}

function countBy (keys: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of keys) out[k] = (out[k] ?? 0) + 1
  return out
}

function groupBids (lines: LogLine[]): P3Result['bids'] {
  const out: P3Result['bids'] = {}
  for (const l of lines) (out[String(l.j.jobId)] ??= []).push({ heardAt: l.j.heardAt as number, dialAt: l.j.dialAt as number, ackAt: l.j.time as number })
  return out
}

/** Where a job's dispatch time goes, p50 / p95 over every bid (and every job for the last stage). */
function stages (jobs: JobView[], bids: P3Result['bids']): string[] {
  const all = jobs.flatMap(j => (bids[j.jobId] ?? []).map(b => ({ j, b })))
  if (all.length === 0) return ['where the time goes: no bid timings in the workers\' logs']
  const line = (name: string, xs: number[]): string => { const s = stats(xs); return `${name.padEnd(62)} p50 ${Math.round(s.p50)} ms, p95 ${Math.round(s.p95)} ms (n=${s.n})` }
  // The auction closes on the AUCTION_FIRST_BIDS-th bid: its BidAck → the attempt started.
  const closing = jobs.flatMap(j => { const acks = (bids[j.jobId] ?? []).map(b => b.ackAt).sort((a, b) => a - b); const k = acks[AUCTION_FIRST_BIDS - 1]; return k == null ? [] : [j.history[0]!.startedAt - k] })
  return [
    'where the time goes (from the workers\' debug logs; every node on this machine\'s one clock):',
    line('  job created at the ingest → heard by a bidding worker (gossip)', all.map(x => x.b.heardAt - x.j.createdAt)),
    line('  heard → bid stream dialled (the worker\'s checks and election)', all.map(x => x.b.dialAt - x.b.heardAt)),
    line('  dialled → BidAck read (stream open, Bid, the ingest\'s ack)', all.map(x => x.b.ackAt - x.b.dialAt)),
    line('  closing bid\'s BidAck → attempt started (auction close, ranking)', closing)
  ]
}
