/** Turns the phases' raw results into the printed figures, table and JSON line. */
import { availableParallelism } from 'node:os'
import type { RungSpec } from '@diststream/media'
import type { LiveResult } from './live.js'
import { reportP3 } from './p3.js'
import type { P3Result } from './p3.js'
import type { BenchConfig, NetworkResult } from './phases.js'
import { r1, r3, stats, summarizeProblems, table } from './util.js'
import type { RssSplit } from './util.js'

export interface ReportInput {
  cfg: BenchConfig
  src: { file: string, ms: number, args: string[] }
  ladder: RungSpec[]
  idleRss: { worker: number, edge: number, idleSec: number, split: Record<'worker' | 'edge', RssSplit & { heap: number }> }
  baseline: { ms: number, args: string[], outputSec: number }
  nets: NetworkResult[]
  best: NetworkResult
  loads: string[]
  live: LiveResult
  rendition: string
  totalSec: number
  /** P3 (dispatch overhead with 10 workers); absent if that phase failed. */
  p3?: P3Result
  p3Error?: string
}

const MB = (mib: number): number => mib * 1024 * 1024 / 1e6
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
const msf = (ms: number): string => ms === Infinity ? 'never (not listed)' : `${Math.round(ms)} ms`
const met = (ok: boolean | null): string => ok == null ? 'invalid' : ok ? 'met' : 'MISSED'

function states (jobs: Array<{ state: string }>): string {
  const c = new Map<string, number>()
  for (const j of jobs) c.set(j.state, (c.get(j.state) ?? 0) + 1)
  return [...c].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
}

export function report (i: ReportInput): string {
  const { cfg, live } = i
  const out: string[] = []
  const say = (s = ''): void => { out.push(s) }

  // ---- P1
  say('')
  say('== Configuration')
  say(`  source: ${i.src.file.split('/').pop()} (made in ${sec(i.src.ms)}): ffmpeg ${i.src.args.join(' ')}`)
  say(`  ladder: ${i.ladder.map(r => `${r.name} ${r.width}x${r.height} ${r.videoKbps}k`).join(', ')}`)
  say(`  baseline: ffmpeg ${i.baseline.args.join(' ')}`)
  const busy = i.loads.some(l => l.includes('foreign'))
  say(`  load average (1/5/15 min) at each phase start, + processes not started by this bench: ${i.loads.join(' | ')}`)
  if (busy) say('  NOTE: ffmpeg / diststream / node-test processes this bench did not start were running during it (see above): every figure is skewed by them')
  say('  network: separate diststream-node processes on 127.0.0.1 (ingest; 2 workers; + edge for P2), --log-level debug, bid window 150 ms (default)')

  say('')
  say('== P1: network transcode wall time ÷ one continuous ffmpeg (same file, same machine, this run)')
  say(`  baseline: ${sec(i.baseline.ms)} for ${i.baseline.outputSec.toFixed(2)} s of output (${(cfg.sourceSec / (i.baseline.ms / 1000)).toFixed(2)}× realtime)`)
  for (const n of i.nets) {
    const unt = n.segments.filter(s => !s.transcoded).map(s => s.seq)
    const attempts = n.jobs.flatMap(j => j.history)
    const failedAttempts = attempts.filter(a => a.outcome !== 'ok' && a.outcome != null)
    const reasons = [...new Set(failedAttempts.map(a => `${a.outcome}: ${a.reason ?? ''}`.slice(0, 100)))]
    const tx = stats(n.transcodeMs)
    say(`  ${label(n)}, 2 workers × --max-jobs ${n.maxJobs}: wall ${sec(n.wallMs)} (first closed → last stored) → ratio ${(n.wallMs / i.baseline.ms).toFixed(3)}${unt.length > 0 ? ' (not comparable: untranscoded segments)' : ''}`)
    say(`    publish: gate released ${sec(n.publish.releasedAt - n.publish.openedAt)} after connecting, data written in ${sec(n.publish.writtenAt - n.publish.releasedAt)}, ffmpeg exit ${n.publish.code}; segments closed over ${sec(spread(n.segments.map(s => s.closed)))}; end-of-stream wait ${sec(n.eosDelayMs)}`)
    say(`    segments stored ${n.segments.length}, untranscoded (source passed through) ${unt.length}${unt.length > 0 ? ` (seq ${unt.join(',')})` : ''}; segmenter ended: ${n.segmenterEnded}`)
    say(`    jobs: ${states(n.jobs)}; attempts ${attempts.length}, failed ${failedAttempts.length}${reasons.length > 0 ? ` (${reasons.slice(0, 3).join(' | ')})` : ''}`)
    say(`    per-segment transcode (worker elapsedMs): n ${tx.n}, p50 ${msf(tx.p50)}, max ${msf(tx.max)}; busy per worker ${n.busyMsByWorker.map(sec).join(' + ')}; probation picture checks at the ingest ${n.probationChecks}`)
  }
  const bestValid = i.best.segments.length > 0 && i.best.segments.every(s => s.transcoded)
  const p1 = i.best.wallMs / i.baseline.ms
  say(`  P1 = ${p1.toFixed(3)} (burst, max-jobs ${i.best.maxJobs}, fresh workers: ${i.best.probationChecks} of ${i.best.jobs.length} results picture-checked on probation)${bestValid ? '' : ` — INVALID: ${i.best.segments.filter(s => !s.transcoded).length} of ${i.best.segments.length} segments were passed through untranscoded, so the network did less work than the baseline`}; target ≤ 1.10: ${met(bestValid ? p1 <= 1.10 : null)}`)
  for (const n of i.nets.filter(n => n !== i.best && (Number.isFinite(n.speed) || !n.probation))) {
    const ok = n.segments.length > 0 && n.segments.every(s => s.transcoded)
    say(`  supplementary, ${label(n)}, max-jobs ${n.maxJobs}: ${(n.wallMs / i.baseline.ms).toFixed(3)}${ok ? '' : ' — invalid (untranscoded segments)'}; target ≤ 1.10: ${met(ok ? n.wallMs / i.baseline.ms <= 1.10 : null)}`)
  }

  // ---- P2
  const byseq = new Map(live.segments.map(s => [s.seq, s]))
  const lat: number[] = []
  const missing: number[] = []
  for (const s of live.segments) {
    const seen = live.firstSeen.get(s.seq)
    if (seen == null) missing.push(s.seq)
    lat.push(seen == null ? Infinity : seen - s.closed)
  }
  const p2 = stats(lat)
  const ingestPart = stats(live.segments.map(s => s.stored - s.closed))
  const edgePart = stats([...live.firstSeen].filter(([q]) => byseq.has(q)).map(([q, t]) => t - byseq.get(q)!.stored))
  const gapButTranscoded = live.gaps.filter(q => byseq.get(q)?.transcoded === true)
  const untranscodedLive = live.segments.filter(s => !s.transcoded).map(s => s.seq)
  const p2Target = 0.75 * cfg.segmentSec * 1000
  say('')
  say(`== P2: segment closed at the ingest → listed in the edge's ${i.rendition} playlist (realtime -re publish, ${cfg.sourceSec} s, 2 workers × --max-jobs ${live.maxJobs} + edge)`)
  say(`  publish took ${sec(live.publishMs)}, exit ${live.publishCode}; segments stored ${live.segments.length}, listed at the edge ${lat.length}, never listed ${missing.length}${missing.length > 0 ? ` (seq ${missing.join(',')})` : ''}, GAP entries ${live.gaps.length}${live.gaps.length > 0 ? ` (seq ${live.gaps.join(',')}; of these transcoded and stored at the ingest but too late for the edge: ${gapButTranscoded.length > 0 ? gapButTranscoded.join(',') : 'none'})` : ''}, untranscoded ${untranscodedLive.length}${untranscodedLive.length > 0 ? ` (seq ${untranscodedLive.join(',')})` : ''}`)
  const ltx = stats(live.transcodeMs)
  say(`  jobs: ${states(live.jobs)}; per-segment transcode (worker elapsedMs) p50 ${msf(ltx.p50)}, p95 ${msf(ltx.p95)}; playlist polls ${live.polls} (errors ${live.pollErrors})`)
  say('  (a segment never listed as a real segment — missing or published as a GAP — counts as an infinite latency in p50/p95)')
  say(`  closed → edge playlist: p50 ${msf(p2.p50)}, p95 ${msf(p2.p95)}, min ${msf(p2.min)}, max ${msf(p2.max)} (n=${p2.n})`)
  say(`    of which closed → stored at the ingest: p50 ${msf(ingestPart.p50)}, p95 ${msf(ingestPart.p95)}; stored → listed at the edge: p50 ${msf(edgePart.p50)}, p95 ${msf(edgePart.p95)}`)
  const parts = { pre: [] as number[], dispatch: [] as number[], worker: [] as number[], back: [] as number[] }
  for (const j of live.jobs) {
    const seg = byseq.get(j.seq)
    const w = live.scratch.get(j.jobId)
    const el = live.elapsedByJob.get(j.jobId)
    if (seg == null || w?.inBirth == null || el == null || j.state !== 'done') continue
    parts.pre.push(j.createdAt - seg.closed)
    parts.dispatch.push(w.inBirth - j.createdAt)
    parts.worker.push(w.dirBirth + el - w.inBirth)
    parts.back.push(seg.stored - (w.dirBirth + el))
  }
  const p5095 = (xs: number[]): string => `p50 ${msf(stats(xs).p50)}, p95 ${msf(stats(xs).p95)}`
  say(`    closed → stored by step (n=${parts.pre.length}): closed → job announced ${p5095(parts.pre)} | announced → bytes at worker ${p5095(parts.dispatch)} | worker transcode to its result ${p5095(parts.worker)} | result → stored at the ingest (renditions back, verify, store) ${p5095(parts.back)}`)
  say(`    ingest /metrics diststream_segment_latency_seconds: count ${live.metricsLatency.count}, mean ${msf(live.metricsLatency.sum / live.metricsLatency.count * 1000)}`)
  say(`    per seq (ms): ${live.segments.map(s => `${s.seq}:${live.firstSeen.has(s.seq) ? Math.round(live.firstSeen.get(s.seq)! - s.closed) : '-'}`).join(' ')}`)
  say(`  P2 p95 = ${msf(p2.p95)}; target ≤ ${msf(p2Target)} (0.75 × ${cfg.segmentSec} s): ${met(p2.n > 0 ? p2.p95 <= p2Target : null)}`)

  // ---- Dispatch
  const withAttempt = live.jobs.filter(j => j.history.length > 0)
  const dA = stats(withAttempt.map(j => j.history[0]!.startedAt - j.createdAt))
  const dReq: number[] = []
  const dB: number[] = []
  for (const j of live.jobs) {
    const w = live.scratch.get(j.jobId)
    if (w == null) continue
    dReq.push(w.dirBirth - j.createdAt)
    if (w.inBirth != null) dB.push(w.inBirth - j.createdAt)
  }
  const b = stats(dB)
  const req = stats(dReq)
  const bids = stats(live.jobs.map(j => j.bids))
  say('')
  say('== Dispatch overhead (live run): job announce (ledger createdAt) → …')
  say(`  [A] first attempt started (ingest ledger): p50 ${msf(dA.p50)}, p95 ${msf(dA.p95)}, max ${msf(dA.max)} (n=${dA.n}); bids per job p50 ${bids.p50}, min ${bids.min}`)
  say(`      request received at the worker (job dir birth): p50 ${msf(req.p50)}, p95 ${msf(req.p95)} (n=${req.n})`)
  say(`  [B] segment bytes at the worker (in.ts birth): p50 ${msf(b.p50)}, p95 ${msf(b.p95)}, max ${msf(b.max)} (n=${b.n} of ${live.jobs.length} jobs)`)
  say(`  dispatch overhead p95 [B] = ${msf(b.p95)}; target ≤ 50 ms: ${met(b.n > 0 ? b.p95 <= 50 : null)}`)

  // ---- P3
  const p3 = i.p3 != null ? reportP3(i.p3) : undefined
  if (p3 != null) for (const l of p3.lines) say(l)
  else if (i.p3Error != null) { say(''); say(`== P3: FAILED: ${i.p3Error}`) }

  // ---- RSS
  say('')
  say(`== Idle RSS (alone, no bootstrap, ${i.idleRss.idleSec.toFixed(1)} s after start)`)
  say(`  worker-only: ${MB(i.idleRss.worker).toFixed(1)} MB (${i.idleRss.worker.toFixed(1)} MiB); edge-only: ${MB(i.idleRss.edge).toFixed(1)} MB (${i.idleRss.edge.toFixed(1)} MiB); target ≤ 120 MB: ${met(MB(i.idleRss.worker) <= 120 && MB(i.idleRss.edge) <= 120)}`)
  for (const role of ['worker', 'edge'] as const) {
    const x = i.idleRss.split[role]
    say(`  ${role}-only, where it is: file-backed ${MB(x.file).toFixed(1)} MB (the node binary's and shared libraries' pages), anonymous ${MB(x.anon).toFixed(1)} MB, of which the V8 heap in use ${MB(x.heap).toFixed(1)} MB (module code and sources, libp2p's state; the rest: V8's free heap pages, native allocations)`)
  }
  say(`  for context, after the live run: ${Object.entries(live.rssAfterMiB).map(([k, v]) => `${k} ${MB(v).toFixed(1)} MB`).join(', ')}`)

  // ---- Problems
  const problems = [...i.nets.flatMap(n => n.problems), ...live.problems, ...(i.p3?.problems ?? [])]
  say('')
  say(`== Warnings and errors logged by the nodes (${problems.length})`)
  for (const p of summarizeProblems(problems).slice(0, 25)) say(`  ${p}`)

  // ---- Table
  const rows = [
    ['P1 network ÷ continuous ffmpeg', `${p1.toFixed(3)} (${sec(i.best.wallMs)} ÷ ${sec(i.baseline.ms)}, burst, max-jobs ${i.best.maxJobs})`, '≤ 1.10', met(bestValid ? p1 <= 1.10 : null)],
    ...i.nets.filter(n => n !== i.best).map(n => {
      const ok = n.segments.length > 0 && n.segments.every(s => s.transcoded)
      return [`  ${label(n)}, max-jobs ${n.maxJobs}`, `${(n.wallMs / i.baseline.ms).toFixed(3)} (${sec(n.wallMs)}, ${n.segments.filter(s => !s.transcoded).length}/${n.segments.length} untranscoded)`, '', ok ? '' : 'invalid']
    }),
    ['P2 closed → edge playlist p50', msf(p2.p50), '', ''],
    ['P2 closed → edge playlist p95', msf(p2.p95), `≤ ${msf(p2Target)}`, met(p2.n > 0 ? p2.p95 <= p2Target : null)],
    ['Dispatch announce → bytes at worker p50', msf(b.p50), '', ''],
    ['Dispatch announce → bytes at worker p95', msf(b.p95), '≤ 50 ms', met(b.n > 0 ? b.p95 <= 50 : null)],
    ...(p3?.rows ?? []),
    ['Idle RSS worker-only', `${MB(i.idleRss.worker).toFixed(1)} MB`, '≤ 120 MB', met(MB(i.idleRss.worker) <= 120)],
    ['Idle RSS edge-only', `${MB(i.idleRss.edge).toFixed(1)} MB`, '≤ 120 MB', met(MB(i.idleRss.edge) <= 120)]
  ]
  say('')
  say('== Summary')
  say(table(['figure', 'measured', 'target', 'result'], rows))
  say(`  (bench took ${i.totalSec.toFixed(0)} s)`)

  const json = {
    config: { cores: availableParallelism(), sourceSec: cfg.sourceSec, width: cfg.width, height: cfg.height, fps: cfg.fps, segmentSec: cfg.segmentSec, ladder: cfg.ladderSpec },
    p1: { value: r3(p1), valid: bestValid, maxJobs: i.best.maxJobs, networkMs: Math.round(i.best.wallMs), baselineMs: Math.round(i.baseline.ms), runs: i.nets.map(n => ({ publish: label(n), maxJobs: n.maxJobs, networkMs: Math.round(n.wallMs), ratio: r3(n.wallMs / i.baseline.ms), segments: n.segments.length, untranscoded: n.segments.filter(s => !s.transcoded).length })), target: 1.10, met: bestValid ? p1 <= 1.10 : null },
    p2: { p50Ms: Number.isFinite(p2.p50) ? Math.round(p2.p50) : null, p95Ms: Number.isFinite(p2.p95) ? Math.round(p2.p95) : null, n: p2.n, notListed: missing.length, gaps: live.gaps.length, publish: `-re ${cfg.sourceSec} s`, maxJobs: live.maxJobs, targetMs: p2Target, met: p2.n > 0 ? p2.p95 <= p2Target : null },
    dispatch: { bytesAtWorker: { p50Ms: Math.round(b.p50), p95Ms: Math.round(b.p95), n: b.n }, attemptStart: { p50Ms: Math.round(dA.p50), p95Ms: Math.round(dA.p95), n: dA.n }, targetMs: 50, met: b.n > 0 ? b.p95 <= 50 : null },
    idleRssMB: { worker: r1(MB(i.idleRss.worker)), edge: r1(MB(i.idleRss.edge)), target: 120, met: MB(i.idleRss.worker) <= 120 && MB(i.idleRss.edge) <= 120 },
    p3: p3?.json ?? null,
    problems: problems.length
  }
  say(`BENCH_RESULT ${JSON.stringify(json)}`)
  return out.join('\n')
}

function label (n: NetworkResult): string {
  return `${Number.isFinite(n.speed) ? `paced ${n.speed.toFixed(2)}×` : 'burst'}${n.probation ? '' : ', workers past probation'}`
}

function spread (xs: number[]): number {
  return xs.length > 0 ? Math.max(...xs) - Math.min(...xs) : NaN
}
