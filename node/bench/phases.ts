/** The measuring phases of the benchmark; index.ts documents the method of each. */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { buildTranscodeCommand, probeMedia, testSourceArgs } from '@diststream/media'
import type { ResolvedFfmpeg, RungSpec } from '@diststream/media'
import { callApi, Cluster, getJson, waitUntil } from '../test/helpers/cluster.js'
import type { NodeProcess } from '../test/helpers/cluster.js'
import { publishFile } from './publish.js'
import type { PublishResult } from './publish.js'
import { LogTap, runTimed, sleep } from './util.js'
import type { LogLine } from './util.js'

/** Every cluster this bench started and has not stopped yet, for the watchdog. */
const live = new Set<Cluster>()
export async function newCluster (opts: { logLevel?: string } = {}): Promise<Cluster> {
  const c = new Cluster(opts)
  live.add(c)
  const stop = c.stop.bind(c)
  c.stop = async () => { live.delete(c); await stop() }
  return c
}

/** SIGKILLs every node process still running (watchdog / Ctrl-C path). */
export function killAll (): void {
  for (const c of live) for (const n of c.nodes) n.proc.kill('SIGKILL')
}

export interface BenchConfig {
  ffmpeg: ResolvedFfmpeg
  work: string
  sourceSec: number
  width: number
  height: number
  fps: number
  segmentSec: number
  ladderSpec: string
}

/** 1. The source file: the live tests' test pattern (testsrc2 + 440 Hz sine), GOP = one segment, no -re. */
export async function makeSource (cfg: BenchConfig): Promise<{ file: string, ms: number, args: string[] }> {
  const file = join(cfg.work, `source-${cfg.height}p-${cfg.sourceSec}s.flv`)
  const args = ['-y', ...testSourceArgs({ ffmpegPath: cfg.ffmpeg.ffmpeg, url: file, width: cfg.width, height: cfg.height, fps: cfg.fps, gopSeconds: cfg.segmentSec, durationSec: cfg.sourceSec, overlay: false })
    .filter(a => a !== '-re')]
  const r = await runTimed(cfg.ffmpeg.ffmpeg, args, 120_000)
  if (r.code !== 0) throw new Error(`making the source failed (${r.code}): ${r.stderr}`)
  return { file, ms: r.ms, args }
}

/** 2. Baseline: one continuous ffmpeg run of the whole file with the workers' own command builder. */
export async function runBaseline (cfg: BenchConfig, source: string, ladder: RungSpec[], fpsMilli: number): Promise<{ ms: number, args: string[], outputSec: number }> {
  const outDir = join(cfg.work, 'baseline')
  await mkdir(outDir, { recursive: true })
  const { command, outputs } = buildTranscodeCommand({ ffmpegPath: cfg.ffmpeg.ffmpeg, input: source, outDir, ladder, fpsMilli, durationSec: cfg.segmentSec })
  const args = (command as any)._getArguments() as string[]
  const r = await runTimed(cfg.ffmpeg.ffmpeg, args, 180_000)
  if (r.code !== 0) throw new Error(`baseline ffmpeg failed (${r.code}): ${r.stderr}`)
  const probe = await probeMedia(outputs[0]!.path, { ffprobePath: cfg.ffmpeg.ffprobe })
  return { ms: r.ms, args, outputSec: probe.durationSec }
}

export interface Net {
  cluster: Cluster
  ingest: NodeProcess
  workers: NodeProcess[]
  edge?: NodeProcess
  streamId: string
  rtmpUrl: string
}

/** Starts ingest + 2 workers (+ edge), waits until the ingest sees them, creates a stream. */
export async function startNetwork (cfg: BenchConfig, tag: string, maxJobs: number, withEdge: boolean, tap: LogTap, ingestArgs: string[] = []): Promise<Net> {
  const cluster = await newCluster()
  const common = ['--segment-seconds', String(cfg.segmentSec), '--ladder', cfg.ladderSpec, '--playlist-window', '60']
  // P1 measures throughput: without an edge (the P1 runs) the ingest may queue
  // jobs as long as it takes, so every segment is transcoded and the network does
  // the baseline's work. The live run (with an edge) keeps the default cap.
  const queue = withEdge ? [] : ['--max-queue-seconds', '600']
  const ingest = await cluster.start(`${tag}-ingest`, ['--role', 'ingest', ...queue, ...ingestArgs, ...common])
  tap.add(ingest)
  const boot = await ingest.bootstrapAddr()
  const workers = await Promise.all(['a', 'b'].map(async n => await cluster.start(`${tag}-worker-${n}`, ['--role', 'worker', '--max-jobs', String(maxJobs), '--bootstrap', boot, ...common])))
  workers.forEach(w => { tap.add(w) })
  const edge = withEdge ? await cluster.start(`${tag}-edge`, ['--role', 'edge', '--bootstrap', boot, ...common]) : undefined
  if (edge != null) tap.add(edge)
  const { http, rtmpPort } = await ingest.info
  await waitUntil(async () => {
    const { body } = await getJson(`${http}/api/node`)
    const roles: string[] = body.peers.flatMap((p: any) => p.roles)
    return roles.filter(r => r === 'worker').length === 2 && (!withEdge || roles.includes('edge'))
  }, 20_000, 'the ingest to see its workers')
  const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: `bench-${tag}` })
  if (created.status !== 201) throw new Error(`creating a stream failed: ${created.status} ${JSON.stringify(created.body)}`)
  return { cluster, ingest, workers, edge, streamId: created.body.id, rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live/${created.body.key}` }
}

export interface JobView { jobId: string, streamId: string, seq: number, state: string, worker: string | null, attempts: number, bids: number, durationMs: number | null, createdAt: number, finishedAt: number | null, reason: string | null, history: Array<{ worker: string, outcome: string | null, reason: string | null, startedAt: number, endedAt: number | null }> }

/** Waits (bounded) for the segmenter to end and every job of the stream to reach a terminal state. */
export async function drain (net: Net, tap: LogTap, ms: number): Promise<{ jobs: JobView[], ready: LogLine[], segmenterEnded: boolean }> {
  const { http } = await net.ingest.info
  const ended = (): boolean => tap.find('segmenter ended', net.ingest.name).some(l => l.j.streamId === net.streamId)
  const ready = (): LogLine[] => tap.find('segment ready', net.ingest.name).filter(l => l.j.streamId === net.streamId)
  const jobsOf = async (): Promise<JobView[]> => ((await getJson(`${http}/api/jobs?limit=500`)).body as JobView[]).filter(j => j.streamId === net.streamId)
  let jobs: JobView[] = []
  try {
    await waitUntil(async () => {
      if (!ended()) return false
      jobs = await jobsOf()
      const failedSegments = tap.find('segment processing failed', net.ingest.name).length
      return jobs.every(j => ['done', 'failed', 'passthrough'].includes(j.state)) && ready().length + failedSegments >= jobs.length
    }, ms, 'the stream to drain', 200)
  } catch (err) {
    process.stderr.write(`  (warning: ${(err as Error).message})\n`)
  }
  jobs = await jobsOf()
  return { jobs, ready: ready(), segmenterEnded: ended() }
}

export interface SegmentTiming { seq: number, closed: number, stored: number, transcoded: boolean }

export function segmentTimings (ready: LogLine[]): SegmentTiming[] {
  return ready.map(l => ({ seq: l.j.seq as number, closed: (l.j.time as number) - (l.j.ms as number), stored: l.j.time as number, transcoded: Array.isArray(l.j.renditions) && l.j.renditions.some((n: string) => n !== 'source') }))
    .sort((a, b) => a.seq - b.seq)
}

export interface NetworkResult {
  maxJobs: number
  /**
   * Whether the ingest ran its probation (the default: the first PROBATION_JOBS results of each
   * new worker are picture-checked against the source before they are served); false = a run
   * with `--probation-jobs 0`, as a network whose workers are past probation.
   */
  probation: boolean
  /** Picture checks of probation the ingest ran ('probation check passed' in its debug log). */
  probationChecks: number
  /** Publish speed after the gate (media s per wall s); Infinity = as fast as possible. */
  speed: number
  publish: PublishResult
  segments: SegmentTiming[]
  jobs: JobView[]
  /** first segment closed → last segment stored */
  wallMs: number
  /** last segment closed − publisher exited: the ingest's end-of-stream detection (-rw_timeout) */
  eosDelayMs: number
  busyMsByWorker: number[]
  transcodeMs: number[]
  segmenterEnded: boolean
  problems: LogLine[]
}

/** Resolves once the ingest logged 'publish started' for the stream, plus `marginMs` for its segmenter to attach. */
export async function publishStarted (net: Net, tap: LogTap, marginMs: number): Promise<void> {
  await waitUntil(async () => tap.find('publish started', net.ingest.name).some(l => l.j.streamId === net.streamId), 15_000, "the ingest's 'publish started'", 20)
  await sleep(marginMs)
}

/** 3. P1, network side: the same file published over RTMP at `speed` (Infinity = as fast as it goes). */
export async function runNetworkTranscode (cfg: BenchConfig, source: string, maxJobs: number, speed: number, probation = true): Promise<NetworkResult> {
  const tap = new LogTap()
  const tag = `p1-m${maxJobs}-${Number.isFinite(speed) ? `x${speed.toFixed(2)}` : 'burst'}${probation ? '' : '-trusted'}`
  const net = await startNetwork(cfg, tag, maxJobs, false, tap, probation ? [] : ['--probation-jobs', '0'])
  try {
    const publish = await publishFile({ ffmpegPath: cfg.ffmpeg.ffmpeg, file: source, url: net.rtmpUrl, speed, holdMediaMs: 1000, gate: publishStarted(net, tap, 1500), timeoutMs: 180_000 })
    const { jobs, ready, segmenterEnded } = await drain(net, tap, 120_000)
    const segments = segmentTimings(ready)
    const lastClosed = Math.max(...segments.map(s => s.closed))
    const wallMs = segments.length > 0 ? Math.max(...segments.map(s => s.stored)) - Math.min(...segments.map(s => s.closed)) : NaN
    const transcoded = net.workers.map(w => tap.find('segment transcoded', w.name).map(l => l.j.elapsedMs as number))
    return {
      maxJobs,
      probation,
      probationChecks: tap.find('probation check passed', net.ingest.name).length + tap.lines.filter(l => l.node === net.ingest.name && String(l.j.msg).startsWith('probation check:')).length,
      speed,
      publish,
      segments,
      jobs,
      wallMs,
      eosDelayMs: segments.length > 0 ? lastClosed - publish.exitedAt : NaN,
      busyMsByWorker: transcoded.map(t => t.reduce((a, b) => a + b, 0)),
      transcodeMs: transcoded.flat(),
      segmenterEnded,
      problems: tap.problems
    }
  } finally {
    await net.cluster.stop()
  }
}

/** 5. Idle RSS: a worker-only and an edge-only process, alone (no bootstrap), after `idleMs` idle. */
export async function startIdle (): Promise<{ cluster: Cluster, worker: NodeProcess, edge: NodeProcess, startedAt: number, tap: LogTap }> {
  const cluster = await newCluster()
  const tap = new LogTap()
  // One after the other: Cluster.start run concurrently on a fresh Cluster races on its root
  // dir (`this.root ??= await mkdtemp(...)`) and leaves the first node's data dir behind.
  const worker = await cluster.start('idle-worker', ['--role', 'worker'])
  const edge = await cluster.start('idle-edge', ['--role', 'edge'])
  tap.add(worker)
  tap.add(edge)
  return { cluster, worker, edge, startedAt: Date.now(), tap }
}
