/**
 * The CPU cost of one segment, by stage and process (`node node/dist/bench/index.js --only cost`).
 *
 * METHOD. One ingest and two workers (--max-jobs 1), separate processes on loopback, the
 * bench's 720p ladder (720p/480p/360p), 2 s CMAF segments, spot checks at
 * {@link COST_SPOT_RATE}. First the idle control plane: both workers calibrated, nothing
 * published, every node's own CPU over {@link IDLE_SEC} s. Then a `sourceSec` s 1280x720
 * 30 fps file (made by the bench, the same test pattern as the other phases) is published in
 * real time (publishFile, speed 1) and drained; {@link CpuSampler} (cpu.ts) accounts every
 * node's own CPU and its ffmpeg/ffprobe children by stage over that window. Per segment =
 * window CPU ÷ segments stored. The idle control plane per segment = idle CPU per second ×
 * segment duration, for the three nodes together. Only this bench's processes are counted;
 * other load on the machine slows things but does not add to these seconds.
 */
import { callApi, getJson, waitUntil } from '../test/helpers/cluster.js'
import { PROBATION_JOBS } from '@diststream/scheduler'
import { CpuSampler, PROBATION_STAGE } from './cpu.js'
import type { CpuAccount } from './cpu.js'
import { drain, makeSource, newCluster, publishStarted } from './phases.js'
import type { BenchConfig } from './phases.js'
import { publishFile } from './publish.js'
import { LogTap, sleep, table } from './util.js'

/** Seconds of the idle window (long enough for several presence rounds). */
export const IDLE_SEC = 10
/** Share of jobs spot-checked in this phase: the ingest's default, so its cost is in the account. */
export const COST_SPOT_RATE = 0.1

export interface CostResult {
  segments: number
  segmentSec: number
  idleSec: number
  /** node name → own CPU seconds per idle second */
  idlePerSec: Record<string, number>
  /** node name → account over the publish window */
  window: Record<string, { self: number, children: number, stages: Record<string, number> }>
  spotChecks: number
  /** Results the ingest picture-checked on probation (a new worker's first PROBATION_JOBS). */
  probationChecks: number
  jobs: Record<string, number>
}

const obj = (a: CpuAccount): { self: number, children: number, stages: Record<string, number> } => ({ self: a.self, children: a.children, stages: Object.fromEntries(a.stages) })

export async function runCost (cfg: BenchConfig): Promise<CostResult> {
  const tap = new LogTap()
  const cluster = await newCluster()
  try {
    const src = await makeSource(cfg)
    const common = ['--segment-seconds', String(cfg.segmentSec), '--ladder', cfg.ladderSpec, '--playlist-window', '60']
    const ingest = await cluster.start('cost-ingest', ['--role', 'ingest', '--spot-check-rate', String(COST_SPOT_RATE), ...common])
    tap.add(ingest)
    const boot = await ingest.bootstrapAddr()
    const workers = await Promise.all(['a', 'b'].map(async n => await cluster.start(`cost-worker-${n}`, ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])))
    workers.forEach(w => { tap.add(w) })
    const nodes = [ingest, ...workers]
    const { http, rtmpPort } = await ingest.info
    await waitUntil(async () => workers.every(w => tap.lines.some(l => l.node === w.name && /^calibrat/.test(String(l.j.msg)))), 120_000, 'the workers to calibrate', 200)
    await waitUntil(async () => ((await getJson(`${http}/api/node`)).body.peers as any[]).filter(p => p.roles.includes('worker')).length === 2, 20_000, 'the ingest to see its workers')

    const idle = new CpuSampler(nodes.map(n => n.proc.pid!))
    await idle.start()
    await sleep(IDLE_SEC * 1000)
    const idleAcc = await idle.stop()

    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'bench-cost' })
    if (created.status !== 201) throw new Error(`creating a stream failed: ${created.status} ${JSON.stringify(created.body)}`)
    const net = { cluster, ingest, workers, streamId: created.body.id as string, rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live/${created.body.key as string}` }
    const sampler = new CpuSampler(nodes.map(n => n.proc.pid!))
    await sampler.start()
    const pub = await publishFile({ ffmpegPath: cfg.ffmpeg.ffmpeg, file: src.file, url: net.rtmpUrl, speed: 1, holdMediaMs: 1000, gate: publishStarted(net, tap, 1500), timeoutMs: (cfg.sourceSec + 60) * 1000 })
    if (pub.code !== 0) throw new Error(`publishing failed (${pub.code}): ${pub.stderr}`)
    const { jobs, ready } = await drain(net, tap, 120_000)
    const acc = await sampler.stop()
    const states: Record<string, number> = {}
    for (const j of jobs) states[j.state] = (states[j.state] ?? 0) + 1
    return {
      segments: ready.length,
      segmentSec: cfg.segmentSec,
      idleSec: IDLE_SEC,
      idlePerSec: Object.fromEntries(nodes.map(n => [n.name, idleAcc.get(n.proc.pid!)!.self / IDLE_SEC])),
      window: Object.fromEntries(nodes.map(n => [n.name, obj(acc.get(n.proc.pid!)!)])),
      spotChecks: tap.find('spot check', ingest.name).length,
      probationChecks: tap.find('probation check passed', ingest.name).length,
      jobs: states
    }
  } finally {
    await cluster.stop()
  }
}

/** The report: CPU seconds per segment by process and stage. */
export function formatCost (r: CostResult): string {
  const n = Math.max(1, r.segments)
  const f = (s: number): string => Number.isFinite(s) ? (s / n).toFixed(3) : 'n/a'
  const rows: string[][] = []
  let total = 0
  for (const [node, a] of Object.entries(r.window)) {
    rows.push([node, 'own (JS: control plane, dispatch, transfer, hashing, parsing)', f(a.self)])
    total += a.self
    const sampled = Object.values(a.stages).reduce((x, y) => x + y, 0)
    // Sampling misses a child's last ≤ 20 ms: scale the stages to the exact reaped total.
    const scale = sampled > 0 && Number.isFinite(a.children) ? a.children / sampled : 1
    for (const [stage, s] of Object.entries(a.stages).sort((x, y) => y[1] - x[1])) rows.push([node, stage, f(s * scale)])
    rows.push([node, `children total (sampling saw ${sampled > 0 ? Math.round(100 / scale) : 0} %)`, f(a.children)])
    total += Number.isFinite(a.children) ? a.children : 0
  }
  const idle = Object.values(r.idlePerSec).reduce((x, y) => x + y, 0) * r.segmentSec
  const ingestName = Object.keys(r.window).find(k => k.includes('ingest'))!
  const ing = r.window[ingestName]!
  // Probation's share, scaled to the exact children total as in the table.
  const ingSampled = Object.values(ing.stages).reduce((x, y) => x + y, 0)
  const probation = (ing.stages[PROBATION_STAGE] ?? 0) * (ingSampled > 0 && Number.isFinite(ing.children) ? ing.children / ingSampled : 1)
  return [
    '',
    `== CPU per segment (${r.segments} segments of ${r.segmentSec} s, 720p → ${'720p/480p/360p'}, CMAF, 2 workers, spot checks ${r.spotChecks}, probation checks ${r.probationChecks}; jobs ${JSON.stringify(r.jobs)})`,
    table(['process', 'stage', 'CPU s / segment'], rows),
    `  all processes: ${f(total)} CPU s per segment (${(total / n / r.segmentSec * 100).toFixed(0)} % of one core at realtime)`,
    `  ingest: ${f(ing.self + ing.children)} CPU s per segment; past probation (without its picture checks of ${r.probationChecks} new workers' results, each new worker's first ${PROBATION_JOBS} jobs only): ${f(ing.self + ing.children - probation)}`,
    `  idle control plane (no stream; own CPU of the 3 nodes × ${r.segmentSec} s): ${idle.toFixed(3)} CPU s per segment; per node ${Object.entries(r.idlePerSec).map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`).join(', ')} of a core`,
    `BENCH_RESULT ${JSON.stringify({ cost: r })}`
  ].join('\n')
}
