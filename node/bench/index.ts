/**
 * DistStream benchmark (`pnpm bench`). Prints figures, not pass/fail: its configuration, every
 * figure as measured, the target and whether it was met, a table, and one `BENCH_RESULT {json}`
 * line at the end. Real `diststream-node` processes on loopback (the test Cluster), real ffmpeg.
 * Every wait is bounded; the whole run takes about 3–4 minutes on 2 cores.
 *
 * METHOD
 *
 * Source. A 60 s 1280x720 30 fps file made first (same test pattern as the live tests:
 * lavfi testsrc2 + 440 Hz sine, x264 veryfast, GOP 2 s = one segment, AAC 48 kHz), FLV, no -re.
 * Ladder: 720p,480p,360p fitted to the source with ladderForSource; 2 s segments.
 *
 * P1 = network wall time ÷ baseline wall time, both measured in this run on this machine.
 *  - Baseline: ONE continuous ffmpeg over the whole file, built with the workers' own
 *    buildTranscodeCommand (split + scale + setsar per rung, libx264 veryfast, 2 B-frames,
 *    GOP = 60 frames, no scene cut, copied audio, one MPEG-TS output per rung): spawn → exit.
 *  - Network: one ingest + two workers, separate processes, connected by --bootstrap. The same
 *    file is published over RTMP with `-c copy`, without -re. A plain `ffmpeg -i file -c copy
 *    -f flv rtmp://…` is over in ~0.4 s, before the ingest's segmenter has attached, and the
 *    ingest then cuts nothing; so the bench pipes the FLV into that ffmpeg itself (publish.ts):
 *    the first 1 s of media at once, the rest once the ingest has logged 'publish started'
 *    (+1.5 s for the segmenter to attach), then as fast as the pipe takes it ("burst").
 *    Wall time = first segment closed at the ingest → last segment's renditions stored at the
 *    ingest, both from the ingest's debug line 'segment ready' (closed = pino time − ms,
 *    stored = pino time). Includes the ingest's end-of-stream detection for the last segment
 *    (the segmenter's -rw_timeout), printed separately as "end-of-stream wait".
 *    Run with --max-jobs 1 and 2 per worker; P1 is the better burst run (fewest untranscoded
 *    segments, then shortest wall time). A run in which any segment was passed through
 *    untranscoded (no bid, or every attempt failed) did less work than the baseline: its ratio
 *    is printed but P1 is then "invalid", with the counts.
 *  - Supplementary "paced" runs: the same, but fed at the speed the baseline itself achieved
 *    (60 s ÷ baseline wall s, × realtime). If the network keeps up at that speed with every
 *    segment transcoded, wall ÷ baseline is a comparable ratio. The paced run with fewest
 *    untranscoded segments, then shortest wall, picks --max-jobs for P2.
 *  - Target P1 ≤ 1.10.
 *
 * P2 = segment closed at the ingest → segment listed in the edge's media playlist, p50 and p95.
 *  - ingest + two workers (--max-jobs picked by the paced P1 runs) + one edge, the same 60 s file published WITH -re
 *    (realtime, 60 s, so 30 segments). The bench polls the edge's 720p media playlist every
 *    50 ms (one request at a time) and records, per seq, the bench's clock when the response
 *    first listing it arrived. Closed time per seq = pino time − ms of the ingest's
 *    'segment ready'. Same host, same wall clock. Polling adds 0–50 ms (about 25 ms on average)
 *    plus the request's own time. Also shown: closed → stored (the ingest's part) and the
 *    ingest's diststream_segment_latency_seconds histogram mean as a cross-check, and closed →
 *    stored split into steps: closed → job announced (ledger createdAt); announced → segment
 *    bytes at the worker (see [B] below); worker transcode = job dir birth + the worker's
 *    'segment transcoded' elapsedMs − in.ts birth; the rest (renditions back, the ingest's
 *    per-rendition verify, store) up to stored. A seq never listed as a real segment (missing,
 *    or published as an #EXT-X-GAP entry) counts as an infinite latency in p50/p95.
 *  - Target p95 ≤ 0.75 × segment duration = 1.5 s.
 *
 * Dispatch overhead (same live run), from the job announce (ledger createdAt in /api/jobs,
 * taken just before the auction is opened and the announce published) to:
 *  - [A] "dispatch start": the first attempt's startedAt in /api/jobs (auction closed, bids
 *    ranked; the libp2p dial to the worker and the segment transfer are NOT included);
 *  - [B] "segment bytes at the worker": the kernel birth time of `in.ts` in the worker's
 *    scratch dir (<data-dir>/work/job-<jobId>-XXXXXX/in.ts), which the worker creates right after
 *    it has read every byte of the segment from the stream. Read by the bench with fs.watch on
 *    the scratch dir + stat polling every 3 ms (packages unchanged; no worker log carries this).
 *    Kernel file times are tick-coarse (up to ~4 ms early). [B] is the figure compared with the
 *    target; [A] and the request-received time (the job dir's birth) are shown for context.
 *  - Target ≤ 50 ms on loopback, applied to p95 (p50 shown too).
 *
 * P3 = dispatch overhead with 10 workers (p3.ts): one ingest + 10 worker processes on loopback,
 * --max-jobs 1 each, ladder 240p only (one small rung) from a 640x360 source, 2 s segments, a
 * realtime (-re) ffmpeg test source for 40 s (about 20 jobs). Per job: first attempt startedAt −
 * createdAt from the ingest's /api/jobs ledger, i.e. job announced → bids collected (the auction
 * closes early once every worker known to have room has bid, else at the 150 ms window) →
 * ranked → the transcode attempt started; the transcode itself is not included. Jobs passed
 * through without an attempt are not in it; a job that waited in the ingest's queue because all
 * 10 workers were busy (only when transcodes run slower than realtime) has that wait in it. Shown against
 * the loopback dispatch target (≤ 50 ms, p95). `node node/dist/bench/index.js --only p3` runs
 * this phase alone.
 *
 * Idle RSS: a worker-only and an edge-only diststream-node, each alone (no bootstrap), started
 * while the source is being made; VmRSS from /proc/<pid>/status 10 s after both printed
 * "node started". 1 MB = 10^6 bytes (VmRSS kB are KiB). Target ≤ 120 MB each. The RSS of the
 * live run's workers and edge after the run is shown for context (not a target).
 *
 * P4: glass-to-glass in hls.js (Chromium), standard and --low-latency: see p4.ts.
 *
 * CPU per segment: see cost.ts (each node's own CPU and its ffmpeg children's, by stage, from /proc).
 *
 * Swarming: see swarm.ts (ingest upload bytes per segment ÷ rendition bytes, with 6 edges).
 *
 * NET100: see net100.ts (`--only net100 [--workers 40 --edges 57 ...]`: 100 real nodes, measured
 * next to the scale model; net100-cli.ts has the options).
 *
 * Noise. These 2 cores may be shared: before each phase the bench prints the load average and
 * any ffmpeg / diststream / node-test processes it did not start, and flags the run as skewed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ffmpegVersion, ladderForSource, parseLadder, probeMedia, resolveFfmpeg } from '@diststream/media'
import { runLive } from './live.js'
import { killAll, makeSource, runBaseline, runNetworkTranscode, startIdle } from './phases.js'
import type { BenchConfig, NetworkResult } from './phases.js'
import { reportP3, runP3 } from './p3.js'
import type { P3Result } from './p3.js'
import { report } from './report.js'
import { killEdgeHttp, reportEdgeHttp, runEdgeHttp } from './edge-http.js'
import { runSwarm, swarmReport } from './swarm.js'
import { formatP6, runP6 } from './p6.js'
import { formatIdle, runIdle } from './idle.js'
import { formatP4, runP4 } from './p4.js'
import { formatCost, runCost } from './cost.js'
import { foreignWork, heapUsedMiB, rssMiB, rssSplitMiB, sleep, summarizeProblems } from './util.js'
import type { RssSplit } from './util.js'
import { onlyNet100 } from './net100-cli.js'
import { stopNet100Sources } from './net100.js'

const IDLE_MS = 10_000
const P3_SOURCE_SEC = 40
/** Length of the cost phase's source: 15 segments, enough for a spot check or two. */
const COST_SOURCE_SEC = 30

/** `--only idle`: the IDLE phase alone (16 idle nodes, about 2 minutes); `--cpu-prof <dir>` profiles one edge. */
async function onlyIdle (): Promise<void> {
  console.log(`DistStream benchmark, IDLE only; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}; foreign ${(await foreignWork()).join(' ') || 'none'}`)
  const prof = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined
  const r = await runIdle(prof != null ? { cpuProfDir: prof } : {})
  process.stdout.write(formatIdle(r) + '\n' + `BENCH_RESULT ${JSON.stringify({ idle: r })}\n`)
}

/** `--only p6`: the P6 phase alone (about 2.5 minutes). */
async function onlyP6 (): Promise<void> {
  const r = await runP6(20)
  process.stdout.write(formatP6(r) + '\n' + `BENCH_RESULT ${JSON.stringify({ p6: r })}\n`)
}

/** `--only p4`: the P4 phase alone (glass-to-glass in hls.js, standard and low-latency; about 3 minutes). */
async function onlyP4 (): Promise<void> {
  console.log(`DistStream benchmark, P4 only; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}; foreign ${(await foreignWork()).join(' ') || 'none'}`)
  const r = await runP4(30)
  process.stdout.write(formatP4(r) + '\n' + `BENCH_RESULT ${JSON.stringify({ p4: r })}\n`)
}

/** `--only cost`: the CPU cost of one segment by stage (cost.ts; about 1.5 minutes). */
async function onlyCost (): Promise<void> {
  const ffmpeg = resolveFfmpeg()
  const work = await mkdtemp(join(tmpdir(), 'ds-bench-'))
  try {
    console.log(`DistStream benchmark, cost only; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}; foreign ${(await foreignWork()).join(' ') || 'none'}`)
    const r = await runCost({ ffmpeg, work, sourceSec: COST_SOURCE_SEC, width: 1280, height: 720, fps: 30, segmentSec: 2, ladderSpec: '720p,480p,360p' })
    process.stdout.write(formatCost(r) + '\n')
    console.log(`load average after: ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** `--only p3`: the P3 phase alone (about 1.5 minutes). */
async function onlyP3 (): Promise<void> {
  console.log(`DistStream benchmark, P3 only; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}; foreign ${(await foreignWork()).join(' ') || 'none'}`)
  const raw = await runP3(resolveFfmpeg(), P3_SOURCE_SEC)
  const r = reportP3(raw)
  console.log(r.lines.join('\n'))
  console.log(`== Warnings and errors logged by the nodes (${raw.problems.length})`)
  for (const p of summarizeProblems(raw.problems).slice(0, 25)) console.log(`  ${p}`)
  for (const j of raw.jobs.filter(j => j.state !== 'done')) console.log(`  job ${j.seq} ${j.state}: ${j.reason ?? ''} ${JSON.stringify(j.history)}`)
  console.log(`load average after: ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
  console.log(`BENCH_RESULT ${JSON.stringify({ p3: r.json })}`)
}

async function main (): Promise<void> {
  const t0 = Date.now()
  const ffmpeg = resolveFfmpeg()
  const work = await mkdtemp(join(tmpdir(), 'ds-bench-'))
  const cfg: BenchConfig = { ffmpeg, work, sourceSec: 60, width: 1280, height: 720, fps: 30, segmentSec: 2, ladderSpec: '720p,480p,360p' }
  const loads: string[] = []
  const load = async (): Promise<string> => {
    const foreign = await foreignWork()
    const l = `${loadavg().map(x => x.toFixed(2)).join(' ')}${foreign.length > 0 ? ` + foreign ${foreign.join(' ')}` : ''}`
    loads.push(l)
    return l
  }
  const log = (s: string): void => { process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}\n`) }
  try {
    console.log('DistStream benchmark')
    console.log(`  machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, ffmpeg ${await ffmpegVersion(ffmpeg.ffmpeg)} at ${ffmpeg.ffmpeg}`)
    if (process.argv.includes('--swarm-only')) {
      // `node node/dist/bench/index.js --swarm-only`: just the swarming figure (about a minute)
      log(`swarming: 1 ingest, 1 worker, 6 edges; load ${await load()}`)
      process.stdout.write(swarmReport(await runSwarm(cfg)) + '\n')
      return
    }
    console.log(`  source: ${cfg.sourceSec} s ${cfg.width}x${cfg.height} ${cfg.fps} fps testsrc2 + sine, GOP ${cfg.segmentSec} s; ladder ${cfg.ladderSpec}; segments ${cfg.segmentSec} s`)

    log(`starting idle worker-only and edge-only nodes; making the source file; load average ${await load()}`)
    const idle = await startIdle()
    const src = await makeSource(cfg)
    log(`source made in ${(src.ms / 1000).toFixed(1)} s: ${src.file}`)
    await sleep(Math.max(0, idle.startedAt + IDLE_MS - Date.now()))
    const split = async (n: typeof idle.worker): Promise<RssSplit & { heap: number }> => ({ ...await rssSplitMiB(n.proc.pid), heap: await heapUsedMiB((await n.info).http) })
    const idleRss = { worker: await rssMiB(idle.worker.proc.pid), edge: await rssMiB(idle.edge.proc.pid), idleSec: (Date.now() - idle.startedAt) / 1000, split: { worker: await split(idle.worker), edge: await split(idle.edge) } }
    await idle.cluster.stop()
    log(`idle RSS after ${idleRss.idleSec.toFixed(1)} s: worker ${idleRss.worker.toFixed(1)} MiB, edge ${idleRss.edge.toFixed(1)} MiB`)

    const probe = await probeMedia(src.file, { ffprobePath: ffmpeg.ffprobe })
    const ladder = ladderForSource(parseLadder(cfg.ladderSpec), probe.width, probe.height)
    log(`baseline: one continuous ffmpeg; load ${await load()}`)
    const baseline = await runBaseline(cfg, src.file, ladder, probe.fpsMilli)
    log(`baseline (one continuous ffmpeg): ${(baseline.ms / 1000).toFixed(2)} s for ${baseline.outputSec.toFixed(2)} s of video`)

    const baseSpeed = cfg.sourceSec / (baseline.ms / 1000)
    const nets: NetworkResult[] = []
    for (const speed of [Infinity, baseSpeed]) {
      for (const maxJobs of [1, 2]) {
        log(`network transcode, 2 workers × --max-jobs ${maxJobs}: publishing ${Number.isFinite(speed) ? `paced at the baseline's ${speed.toFixed(2)}× realtime` : 'as fast as possible (no -re)'}; load ${await load()}`)
        const r = await runNetworkTranscode(cfg, src.file, maxJobs, speed)
        nets.push(r)
        log(`  ${r.segments.length} segments (${untranscoded(r)} untranscoded), wall ${(r.wallMs / 1000).toFixed(2)} s, jobs ${JSON.stringify(countStates(r.jobs))}`)
      }
    }
    // The runs above start fresh workers, so every job is on probation (each result picture-checked
    // at the ingest). This one is a network whose workers are past it: the same burst, probation off.
    log(`network transcode, 2 workers × --max-jobs 1, workers past probation (--probation-jobs 0): as fast as possible; load ${await load()}`)
    const trusted = await runNetworkTranscode(cfg, src.file, 1, Infinity, false)
    nets.push(trusted)
    log(`  ${trusted.segments.length} segments (${untranscoded(trusted)} untranscoded), wall ${(trusted.wallMs / 1000).toFixed(2)} s, jobs ${JSON.stringify(countStates(trusted.jobs))}`)
    const rank = (a: NetworkResult, b: NetworkResult): number => untranscoded(a) - untranscoded(b) || a.wallMs - b.wallMs
    const best = nets.filter(n => !Number.isFinite(n.speed) && n.probation && n.segments.length > 0).sort(rank)[0] ?? nets[0]!
    const paced = nets.filter(n => Number.isFinite(n.speed))
    const liveMaxJobs = ([...paced].filter(n => n.segments.length > 0).sort(rank)[0] ?? best).maxJobs

    log(`live run, 2 workers × --max-jobs ${liveMaxJobs} + edge: publishing with -re (${cfg.sourceSec} s); load ${await load()}`)
    const live = await runLive(cfg, src.file, liveMaxJobs, ladder[0]!.name)
    log(`  ${live.segments.length} segments, ${live.firstSeen.size} listed at the edge, ${live.gaps.length} GAP entries, ${live.polls} polls; load ${await load()}`)

    log(`P3: ingest + 10 workers × --max-jobs 1, 240p, -re 40 s source; load ${await load()}`)
    let p3: P3Result | undefined
    let p3Error: string | undefined
    try {
      p3 = await runP3(ffmpeg, P3_SOURCE_SEC)
      log(`  ${p3.jobs.length} jobs, ${p3.overheadMs.length} started; load ${await load()}`)
    } catch (err) {
      p3Error = (err as Error).message
      log(`  P3 failed: ${p3Error}`)
    }

    log(`swarming: 1 ingest, 1 worker, 6 edges; load ${await load()}`)
    const swarm = await runSwarm(cfg)
    log(`  ingest uploaded ${swarm.servedCopies} copies of ${swarm.renditionSegments} rendition segments`)

    const out = report({ cfg, src, ladder, idleRss, baseline, nets, best, live, loads, rendition: ladder[0]!.name, totalSec: (Date.now() - t0) / 1000, p3, p3Error })
    process.stdout.write(out + '\n' + swarmReport(swarm) + '\n')

    // CPU per segment by process and stage (method in cost.ts).
    log(`CPU per segment: ingest + 2 workers, ${COST_SOURCE_SEC} s realtime; load ${await load()}`)
    process.stdout.write(formatCost(await runCost({ ...cfg, sourceSec: COST_SOURCE_SEC })) + '\n')

    // P5 and 1,000 viewers (method in edge-http.ts).
    log(`P5: edge vs nginx for a hot segment, then 1,000 viewers; load ${await load()}`)
    process.stdout.write(reportEdgeHttp(await runEdgeHttp(log)) + '\n')

    // P6: a worker killed mid-job, 20 times (method in p6.ts).
    log(`P6: ingest + 3 workers, a worker SIGKILLed mid-job 20 times; load ${await load()}`)
    process.stdout.write(formatP6(await runP6(20, log)) + '\n')

    // P4: glass-to-glass in hls.js, standard and --low-latency (method in p4.ts).
    log(`P4: hls.js glass-to-glass, standard then low-latency; load ${await load()}`)
    process.stdout.write(formatP4(await runP4(30, log)) + '\n')
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

export const untranscoded = (r: NetworkResult): number => r.segments.filter(s => !s.transcoded).length

export function countStates (jobs: Array<{ state: string }>): Record<string, number> {
  const c: Record<string, number> = {}
  for (const j of jobs) c[j.state] = (c[j.state] ?? 0) + 1
  return c
}

process.once('SIGINT', () => { killAll(); killEdgeHttp(); stopNet100Sources(); process.exit(130) })
process.once('SIGTERM', () => { killAll(); killEdgeHttp(); stopNet100Sources(); process.exit(143) })

// Bounded as a whole: a stuck phase cannot hold the bench forever.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
/** NET100 starts 100 processes on 2 cores: its own, longer bound. */
const WATCHDOG_MIN = only === 'net100' ? 60 : 25
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: watchdog fired after ${WATCHDOG_MIN} minutes; killing the nodes and exiting\n`)
  killAll()
  killEdgeHttp()
  stopNet100Sources()
  process.exit(3)
}, WATCHDOG_MIN * 60_000)
watchdog.unref()

if (only != null && !['p3', 'p4', 'p6', 'idle', 'cost', 'net100'].includes(only)) throw new Error(`--only: unknown phase ${only} (p3, p4, p6, idle, cost, net100)`)
;(only === 'net100' ? onlyNet100() : only === 'idle' ? onlyIdle() : only === 'cost' ? onlyCost() : only === 'p3' ? onlyP3() : only === 'p4' ? onlyP4() : only === 'p6' ? onlyP6() : main()).then(() => { clearTimeout(watchdog) }, (err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? String(err)}\n`)
  process.exitCode = 1
})
