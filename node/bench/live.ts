/** P2 and dispatch overhead: the realtime run with an edge (index.ts documents the method). */
import { watch } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseMediaPlaylist } from '@diststream/hls'
import { getText, waitUntil } from '../test/helpers/cluster.js'
import { drain, segmentTimings, startNetwork } from './phases.js'
import type { BenchConfig, JobView, SegmentTiming } from './phases.js'
import { LogTap, rssMiB, runTimed, sleep } from './util.js'
import type { LogLine } from './util.js'

/** Watches a worker's scratch dir: per job, kernel birth times of `job-<id>-XXXXXX` dir (request read) and its `in.ts` (segment bytes received). */
class ScratchWatch {
  readonly seen = new Map<string, { dirBirth: number, inBirth?: number }>()
  readonly pending = new Set<Promise<void>>()
  private readonly watcher
  private stopped = false

  constructor (dir: string) {
    this.watcher = watch(dir, (_ev, name) => {
      const id = /^job-([0-9a-f]+)-/.exec(String(name ?? ''))?.[1]
      if (id == null || this.seen.has(id)) return
      const p = this.track(id, join(dir, String(name)))
      this.pending.add(p)
      void p.finally(() => this.pending.delete(p))
    })
  }

  private async track (id: string, dir: string): Promise<void> {
    const d = await stat(dir).catch(() => null)
    if (d == null) return
    const rec: { dirBirth: number, inBirth?: number } = { dirBirth: d.birthtimeMs }
    this.seen.set(id, rec)
    const end = Date.now() + 5000
    while (!this.stopped && Date.now() < end) {
      const f = await stat(join(dir, 'in.ts')).catch(() => null)
      if (f != null) { rec.inBirth = f.birthtimeMs; return }
      if (await stat(dir).catch(() => null) == null) return
      await sleep(3)
    }
  }

  async close (): Promise<void> {
    this.stopped = true
    this.watcher.close()
    await Promise.allSettled([...this.pending])
  }
}

export interface LiveResult {
  maxJobs: number
  publishMs: number
  publishCode: number
  segments: SegmentTiming[]
  transcodeMs: number[]
  /** jobId → the worker's 'segment transcoded' elapsedMs */
  elapsedByJob: Map<string, number>
  /** seq → bench time the seq was first listed (as a real segment, not a GAP) in the edge's media playlist */
  firstSeen: Map<number, number>
  gaps: number[]
  polls: number
  pollErrors: number
  jobs: JobView[]
  scratch: Map<string, { dirBirth: number, inBirth?: number }>
  metricsLatency: { count: number, sum: number }
  rssAfterMiB: Record<string, number>
  problems: LogLine[]
}

/** 4. P2 + dispatch overhead: realtime (-re) publish, ingest + 2 workers + edge, edge playlist polled every 50 ms. */
export async function runLive (cfg: BenchConfig, source: string, maxJobs: number, rendition: string): Promise<LiveResult> {
  const tap = new LogTap()
  const net = await startNetwork(cfg, `p2-m${maxJobs}`, maxJobs, true, tap)
  const watches = net.workers.map(w => new ScratchWatch(join(w.dataDir, 'work')))
  const firstSeen = new Map<number, number>()
  const gaps = new Set<number>()
  let polls = 0
  let pollErrors = 0
  try {
    const edgeHttp = (await net.edge!.info).http
    const url = `${edgeHttp}/live/${net.streamId}/${rendition}/index.m3u8`
    let stopPolling = false
    const poller = (async () => {
      const end = Date.now() + (cfg.sourceSec + 90) * 1000
      while (!stopPolling && Date.now() < end) {
        const t0 = Date.now()
        try {
          const r = await getText(url)
          const at = Date.now()
          polls++
          if (r.status === 200) {
            for (const s of parseMediaPlaylist(r.text).segments) {
              if (s.gap === true) gaps.add(s.seq)
              else if (!firstSeen.has(s.seq)) firstSeen.set(s.seq, at)
            }
          }
        } catch { pollErrors++ }
        await sleep(Math.max(0, 50 - (Date.now() - t0)))
      }
    })()
    const pub = await runTimed(cfg.ffmpeg.ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-re', '-i', source, '-c', 'copy', '-f', 'flv', net.rtmpUrl], (cfg.sourceSec + 30) * 1000)
    const { jobs, ready } = await drain(net, tap, 60_000)
    const segments = segmentTimings(ready)
    // Let the last announcements reach the edge (bounded).
    await waitUntil(async () => segments.every(s => firstSeen.has(s.seq) || gaps.has(s.seq)), 5000, 'the edge to list every segment', 100).catch(() => { /* bounded wait: what is missing then is reported as missing */ })
    stopPolling = true
    await poller
    const { http } = await net.ingest.info
    const metrics = (await getText(`${http}/metrics`)).text
    const num = (re: RegExp): number => Number(re.exec(metrics)?.[1] ?? NaN)
    const rssAfterMiB: Record<string, number> = {}
    for (const n of [...net.workers, net.edge!]) rssAfterMiB[n.name] = await rssMiB(n.proc.pid)
    for (const w of watches) await w.close()
    return {
      maxJobs,
      publishMs: pub.ms,
      publishCode: pub.code,
      segments,
      firstSeen,
      gaps: [...gaps].sort((a, b) => a - b),
      polls,
      pollErrors,
      jobs,
      scratch: new Map(watches.flatMap(w => [...w.seen])),
      metricsLatency: { count: num(/^diststream_segment_latency_seconds_count (\S+)/m), sum: num(/^diststream_segment_latency_seconds_sum (\S+)/m) },
      rssAfterMiB,
      transcodeMs: net.workers.flatMap(w => tap.find('segment transcoded', w.name).map(l => l.j.elapsedMs as number)),
      elapsedByJob: new Map(net.workers.flatMap(w => tap.find('segment transcoded', w.name).map(l => [l.j.jobId as string, l.j.elapsedMs as number] as const))),
      problems: tap.problems
    }
  } finally {
    for (const w of watches) await w.close()
    await net.cluster.stop()
  }
}
