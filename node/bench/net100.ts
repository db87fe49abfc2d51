/**
 * NET100 (`pnpm bench --only net100`): 100 real `diststream-node` processes on loopback, measured.
 * The method is printed with the figures (net100-report.ts) and written up in docs/benchmarks.md.
 *
 * 1 bootstrap, 2 ingests, `workers` workers (--max-jobs 1, ladder 240p), `edges` edges; every
 * node is given only the bootstrap's address; processes start `batch` at a time (each start
 * costs CPU). Phases: every worker and edge knows both ingests (bounded) → settle → idle window
 * (CPU, RSS, counters) → both ingests publish a realtime test source at once; every edge is asked
 * for both streams until it plays them → the ingests store their last segment → loaded figures →
 * streams ended, every segment of both streams checked byte for byte on every edge → nodes
 * stopped → per-hop costs measured on loopback (the simulator's `measure`, a TCP echo) for the
 * simulator run in the report. Every wait is bounded; every process is stopped on the way out
 * (and by index.ts's SIGINT/SIGTERM/watchdog handlers through `killAll`).
 */
import { loadavg } from 'node:os'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import type { TestSource } from '@diststream/media'
import { measure } from '@diststream/sim'
import type { Measured } from '@diststream/sim'
import { callApi, getJson, getText, waitUntil } from '../test/helpers/cluster.js'
import type { NodeProcess } from '../test/helpers/cluster.js'
import { createStream, edgeListing, edgeSegmentHash, ingestHoldings, missing } from '../test/helpers/streams.js'
import type { Holdings } from '../test/helpers/streams.js'
import { parseMediaPlaylist } from '@diststream/hls'
import { newCluster } from './phases.js'
import type { JobView } from './phases.js'
import { diffCounts, loopbackRtt, procTimes, rssMB, scrapeAll, TICKS_PER_SECOND } from './net100-probe.js'
import type { Counts, ProcTimes } from './net100-probe.js'
import { sleep } from './util.js'

export interface Net100Options {
  workers: number
  edges: number
  /** Seconds each ingest publishes (realtime). */
  publishSec: number
  settleMs: number
  idleWindowMs: number
  /** Node processes started at once. */
  batch: number
  log: (s: string) => void
}

export const NET100_DEFAULTS: Omit<Net100Options, 'log'> = { workers: 40, edges: 57, publishSec: 30, settleMs: 45_000, idleWindowMs: 30_000, batch: 3 }

const COMMON = ['--segment-seconds', '2', '--ladder', '240p', '--playlist-window', '60']
/** Bounds of the waits (ms). */
const DISCOVER_MS = 180_000
const PLAY_EXTRA_MS = 120_000
const STORE_MS = 90_000
/** The ingest's holdings must not change for this long before its last segment counts as stored. */
const STABLE_MS = 9000
const LIST_MS = 120_000

export interface NodeFigures {
  name: string
  role: string
  /** % of one core over the window: the node's own CPU (utime+stime). */
  idleCpu: number
  loadedCpu: number
  /** % of one core: its reaped children (ffmpeg) over the loaded window. */
  loadedChildrenCpu: number
  idleRssMB: number
  loadedRssMB: number
  idleCounts: Counts
  loadCounts: Counts
}

export interface Net100Result {
  opts: Omit<Net100Options, 'log'>
  nodes: number
  startSec: number
  /** Workers each ingest listed before the idle window. */
  workersSeen: number[]
  notDiscovered: string[]
  idleWindowSec: number
  loadWindowSec: number
  figures: NodeFigures[]
  scrapeFailures: string[]
  /** ms from publish start until that edge played both streams; null = never within the bound. */
  playMs: Record<string, number | null>
  jobs: JobView[]
  sourceCodes: number[]
  byteCheck: { checked: number, mismatches: string[], incomplete: string[] }
  segmentsPerStream: Record<string, Record<string, number>>
  loads: Array<{ phase: string, load: number[] }>
  problems: string[]
  rtt: { p50: number, p95: number }
  measured?: Measured
  measureError?: string
}

const roleOf = (name: string): string => name.replace(/-\d+$/, '')

/** Aborted by {@link stopNet100Sources}: the publishers end with the bench (SIGINT, SIGTERM, watchdog). */
const sourcesAbort = new AbortController()
export function stopNet100Sources (): void { sourcesAbort.abort() }

async function times (nodes: NodeProcess[]): Promise<ProcTimes[]> {
  return await Promise.all(nodes.map(async n => await procTimes(n.proc.pid)))
}

/** An edge plays a stream: master playlist, a media playlist with a segment, and that segment, all 200. */
async function plays (http: string, id: string): Promise<boolean> {
  const master = await getText(`${http}/live/${id}/index.m3u8`)
  if (master.status !== 200) return false
  const variant = /^([^#\s][^/\s]*)\/index\.m3u8$/m.exec(master.text)?.[1]
  if (variant == null) return false
  const media = await getText(`${http}/live/${id}/${variant}/index.m3u8`)
  if (media.status !== 200) return false
  const seg = parseMediaPlaylist(media.text).segments.find(s => s.gap !== true)
  if (seg == null) return false
  const res = await fetch(`${http}/live/${id}/${variant}/${seg.uri}`, { signal: AbortSignal.timeout(15_000) })
  await res.arrayBuffer()
  return res.status === 200
}

export async function runNet100 (o: Net100Options): Promise<Net100Result> {
  const { log } = o
  const loads: Net100Result['loads'] = []
  const mark = (phase: string): void => { loads.push({ phase, load: loadavg() }) }
  const ffmpeg = resolveFfmpeg()
  const cluster = await newCluster({ logLevel: 'info' })
  const sources: TestSource[] = []
  try {
    const t0 = performance.now()
    mark('start')
    const boot = await cluster.start('bootstrap', ['--role', 'bootstrap'])
    const addr = await boot.bootstrapAddr()
    const specs: Array<[string, string[]]> = [
      ...[0, 1].map((i): [string, string[]] => [`ingest-${i}`, ['--role', 'ingest']]),
      ...Array.from({ length: o.workers }, (_, i): [string, string[]] => [`worker-${i}`, ['--role', 'worker', '--max-jobs', '1', '--no-calibrate']]),
      ...Array.from({ length: o.edges }, (_, i): [string, string[]] => [`edge-${i}`, ['--role', 'edge']])
    ]
    for (let i = 0; i < specs.length; i += o.batch) {
      await Promise.all(specs.slice(i, i + o.batch).map(async ([name, args]) => await cluster.start(name, [...args, '--bootstrap', addr, ...COMMON])))
      if (i % (o.batch * 5) === 0) log(`  started ${cluster.nodes.length} of ${specs.length + 1} nodes`)
    }
    const nodes = [...cluster.nodes]
    const ingests = nodes.filter(n => roleOf(n.name) === 'ingest')
    const edges = nodes.filter(n => roleOf(n.name) === 'edge')
    const startSec = (performance.now() - t0) / 1000
    log(`  ${nodes.length} nodes started in ${startSec.toFixed(1)} s; waiting for every worker and edge to know both ingests`)

    const ingestIds = await Promise.all(ingests.map(async n => (await n.info).peerId))
    const notDiscovered: string[] = []
    const end = Date.now() + DISCOVER_MS
    await Promise.all(nodes.filter(n => !['ingest', 'bootstrap'].includes(roleOf(n.name))).map(async n => {
      const { http } = await n.info
      await waitUntil(async () => {
        const { body } = await getJson(`${http}/api/node`)
        return ingestIds.every(id => body.peers.some((p: any) => p.peerId === id && p.roles.includes('ingest')))
      }, Math.max(1000, end - Date.now()), `${n.name} to know both ingests`, 1000).catch(() => { notDiscovered.push(n.name) })
    }))
    const workersSeen = await Promise.all(ingests.map(async n => {
      const { body } = await getJson(`${(await n.info).http}/api/node`)
      return (body.peers as any[]).filter(p => p.roles.includes('worker')).length
    }))
    log(`  discovery: ${notDiscovered.length} nodes do not know both ingests; the ingests list ${workersSeen.join(' and ')} workers; settling ${o.settleMs / 1000} s`)
    await sleep(o.settleMs)

    // Idle window.
    mark('idle window')
    const c0 = await scrapeAll(nodes)
    const p0 = await times(nodes)
    const i0 = performance.now()
    await sleep(o.idleWindowMs)
    // CPU first: the scrape itself costs the nodes CPU, which belongs to no window.
    const p1 = await times(nodes)
    const c1 = await scrapeAll(nodes)
    const idleWindowSec = (performance.now() - i0) / 1000
    const idleRss = await Promise.all(nodes.map(async n => await rssMB(n.proc.pid)))
    log(`  idle window ${idleWindowSec.toFixed(1)} s done; publishing both streams for ${o.publishSec} s`)

    // Publish both streams; every edge is asked for both until it plays them.
    const streams = await Promise.all(ingests.map(async (n, i) => ({ node: n, ...(await createStream((await n.info).http, `net100-${i}`, cluster.apiToken)) })))
    mark('publish')
    const l0 = performance.now()
    sources.push(...await Promise.all(streams.map(async s => startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await s.node.info).rtmpPort}/live/${s.key}`, width: 426, height: 240, fps: 15, gopSeconds: 2, durationSec: o.publishSec, signal: sourcesAbort.signal }))))
    const watchdog = setTimeout(() => { for (const s of sources) void s.stop() }, (o.publishSec + 60) * 1000)
    const playMs: Record<string, number | null> = {}
    const playing = Promise.all(edges.map(async e => {
      const { http } = await e.info
      try {
        for (const s of streams) await waitUntil(async () => await plays(http, s.id), o.publishSec * 1000 + PLAY_EXTRA_MS - (performance.now() - l0), `${e.name} to play ${s.id}`, 1000)
        playMs[e.name] = performance.now() - l0
      } catch {
        playMs[e.name] = null
      }
    }))
    const sourceCodes = await Promise.all(sources.map(async s => await s.done))
    clearTimeout(watchdog)
    await playing
    log(`  publish done (exit ${sourceCodes.join(', ')}); ${Object.values(playMs).filter(v => v != null).length} of ${edges.length} edges play both streams; waiting for the ingests' last segments`)

    const holdings = new Map<string, Holdings>()
    await Promise.all(streams.map(async s => {
      let last = ''
      let since = Date.now()
      await waitUntil(async () => {
        const h = await ingestHoldings(s.node.dataDir, s.id)
        const sig = [...h].map(([r, m]) => `${r}:${m.size}`).join(',')
        if (sig !== last) { last = sig; since = Date.now() }
        holdings.set(s.id, h)
        return h.size > 0 && Date.now() - since > STABLE_MS
      }, STORE_MS, `${s.node.name} to store its last segment`, 1000).catch(() => { /* reported as incomplete below */ })
    }))
    const p2 = await times(nodes)
    const c2 = await scrapeAll(nodes)
    const loadWindowSec = (performance.now() - l0) / 1000
    const loadedRss = await Promise.all(nodes.map(async n => await rssMB(n.proc.pid)))
    mark('loaded end')

    const jobs: JobView[] = []
    for (const s of streams) {
      const { body } = await getJson(`${(await s.node.info).http}/api/jobs?limit=500`)
      if (Array.isArray(body)) jobs.push(...(body as JobView[]).filter(j => j.streamId === s.id))
    }

    // Byte for byte: every rendition segment each ingest stored, on every edge.
    for (const s of streams) await waitUntil(async () => (await callApi(`${(await s.node.info).http}/api/streams/${s.id}`, 'DELETE', cluster.apiToken)).status === 200, 60_000, `${s.node.name} to end ${s.id}`, 1000).catch((err: Error) => { log(`  ${err.message}: the edges' listings may not end`) })
    log(`  checking every segment of both streams on ${edges.length} edges`)
    const byteCheck = { checked: 0, mismatches: [] as string[], incomplete: [] as string[] }
    const listEnd = Date.now() + LIST_MS
    for (const e of edges) {
      const { http } = await e.info
      for (const s of streams) {
        const h = holdings.get(s.id) ?? new Map()
        const complete = await waitUntil(async () => { const l = await edgeListing(http, s.id); return l.ended && missing(h, l).length === 0 }, Math.max(2000, listEnd - Date.now()), 'listing', 1000).catch(() => false)
        if (complete !== true) byteCheck.incomplete.push(`${e.name} ${s.id}`)
        for (const [r, seqs] of h) {
          for (const [seq, hash] of seqs) {
            const got = await edgeSegmentHash(http, s.id, r, seq).catch((err: Error) => `error: ${err.message}`)
            byteCheck.checked++
            if (got !== hash) byteCheck.mismatches.push(`${e.name} ${s.id} ${r}/${seq}: ${got.slice(0, 60)}`)
          }
        }
      }
    }
    const segmentsPerStream: Net100Result['segmentsPerStream'] = {}
    for (const [id, h] of holdings) segmentsPerStream[id] = Object.fromEntries([...h].map(([r, m]) => [r, m.size]))

    const pct = (a: number, b: number, s: number): number => 100 * (b - a) / TICKS_PER_SECOND / s
    const figures: NodeFigures[] = nodes.map((n, i) => ({
      name: n.name,
      role: roleOf(n.name),
      idleCpu: pct(p0[i]!.self, p1[i]!.self, idleWindowSec),
      loadedCpu: pct(p1[i]!.self, p2[i]!.self, loadWindowSec),
      loadedChildrenCpu: pct(p1[i]!.children, p2[i]!.children, loadWindowSec),
      idleRssMB: idleRss[i]!,
      loadedRssMB: loadedRss[i]!,
      idleCounts: diffCounts(c0.counts[i]!, c1.counts[i]!),
      loadCounts: diffCounts(c1.counts[i]!, c2.counts[i]!)
    }))
    const problems = nodes.flatMap(n => n.logs.filter(l => /"level":(40|50|60)/.test(l)).map(l => `[${n.name}] ${(/"msg":"([^"]*)"/.exec(l)?.[1] ?? l).slice(0, 160)}`))
    const scrapeFailures = [...new Set([...c0.failed, ...c1.failed, ...c2.failed])]
    log('  stopping the nodes')
    await cluster.stop()

    // Per-hop costs on loopback, measured now that the machine is quiet again.
    mark('measure')
    log('  measuring per-hop costs on loopback (TCP echo; the simulator\'s libp2p measure)')
    const rtt = await loopbackRtt()
    let measured: Measured | undefined
    let measureError: string | undefined
    try { measured = await measure({ reps: 100, cpuBurst: 500 }) } catch (err) { measureError = (err as Error).message }
    return { opts: { workers: o.workers, edges: o.edges, publishSec: o.publishSec, settleMs: o.settleMs, idleWindowMs: o.idleWindowMs, batch: o.batch }, nodes: nodes.length, startSec, workersSeen, notDiscovered, idleWindowSec, loadWindowSec, figures, scrapeFailures, playMs, jobs, sourceCodes, byteCheck, segmentsPerStream, loads, problems, rtt, measured, measureError }
  } finally {
    await Promise.all(sources.map(async s => { await s.stop() }))
    await cluster.stop()
  }
}
