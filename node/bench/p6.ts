/**
 * P6: the cost of a worker dying mid-job. One ingest and three workers
 * (--max-jobs 1), separate processes; a live 640x360 test pattern over RTMP
 * with -re, 2 s segments, ladder 360p,240p. The bench polls the ingest's
 * workers' diststream_worker_active_jobs every 50 ms; when one is transcoding
 * a job whose attempt has run for at least 300 ms (ledger), it SIGKILLs it and restarts it
 * with its data dir; then waits ≥ 3 s before the next kill, until `kills`
 * kills are done. Per killed job: extra delay = its announce → done time
 * (ledger durationMs) − the median of the jobs no kill touched; reported as
 * p50/p95 ÷ segment duration, with the count of killed jobs that ended
 * without renditions (passed through: a GAP at the edge). Goal: 0 missing and
 * p95 ≤ 1.0.
 *
 * Run alone: `node node/dist/bench/index.js --only p6` (after `pnpm build`).
 */
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { callApi, Cluster, getJson, getText, waitUntil } from '../test/helpers/cluster.js'
import type { NodeProcess } from '../test/helpers/cluster.js'
import { sleep, stats } from './util.js'

export interface P6Result {
  kills: number
  /** Killed jobs (attempt running ≥ 300 ms when its worker died). */
  killedJobs: number
  missing: number
  extraDelayRatio: { p50: number, p95: number, max: number }
  normalMs: number
  segmentSec: number
  publishSec: number
  reasons: string[]
  /** Each killed job that did not end done: its seq, state, reason and attempts (worker, outcome, when after the job was created). */
  notDone: string[]
}

interface Job { jobId: string, seq: number, streamId: string, state: string, reason: string | null, createdAt: number, durationMs: number | null, history: Array<{ worker: string, outcome: string | null, reason: string | null, startedAt: number }> }

export async function runP6 (kills = 20, log: (s: string) => void = s => { console.log(s) }): Promise<P6Result> {
  const ffmpeg = resolveFfmpeg()
  const segmentSec = 2
  const cluster = new Cluster()
  try {
    const common = ['--segment-seconds', String(segmentSec), '--ladder', '360p,240p', '--spot-check-rate', '0']
    const ingest = await cluster.start('ingest', ['--role', 'ingest', ...common])
    const boot = await ingest.bootstrapAddr()
    const workers: NodeProcess[] = await Promise.all(['a', 'b', 'c'].map(async n => await cluster.start(`worker-${n}`, ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])))
    const { http, rtmpPort } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.filter((p: any) => p.roles.includes('worker')).length === 3, 30_000, 'three workers')
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'p6' })
    const streamId: string = created.body.id
    const publishSec = Math.max(60, kills * 5 + 30)
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.body.key}`, width: 640, height: 360, fps: 30, gopSeconds: segmentSec, durationSec: publishSec })
    let publishing = true
    void source.done.then(() => { publishing = false })

    const killed = new Map<string, number>() // jobId → kill time
    let done = 0
    let lastKill = Date.now() + 4000 - 3000 // let a few normal segments through first
    while (publishing && done < kills) {
      await sleep(50)
      if (Date.now() - lastKill < 3000) continue
      // A worker that is transcoding now (its own gauge), and the job it runs (the ledger).
      const active = await Promise.all(workers.map(async w => {
        try { return Number(/^diststream_worker_active_jobs (\d+)/m.exec((await getText(`${(await w.info).http}/metrics`)).text)?.[1] ?? 0) } catch { return 0 }
      }))
      const i = active.findIndex(n => n > 0)
      if (i < 0) continue
      const peer = (await workers[i]!.info).peerId
      const jobs = (await getJson(`${http}/api/jobs?limit=10`)).body as Job[]
      const now = Date.now()
      const victim = jobs.find(j => j.state === 'assigned' && !killed.has(j.jobId) && j.history.some(h => h.outcome === null && h.worker === peer && now - h.startedAt >= 300))
      if (victim === undefined) continue
      killed.set(victim.jobId, now)
      lastKill = now
      done++
      log(`  P6 kill ${done}/${kills}: ${workers[i]!.name} during seq ${victim.seq}`)
      workers[i] = await cluster.restart(workers[i]!)
    }
    await source.done
    await sleep(8000) // the last jobs finish
    const jobs = ((await getJson(`${http}/api/jobs?limit=500`)).body as Job[]).filter(j => j.streamId === streamId)
    const normal = jobs.filter(j => !killed.has(j.jobId) && j.state === 'done' && j.history.every(h => h.outcome === 'ok')).map(j => j.durationMs ?? NaN)
    const normalMs = stats(normal).p50
    const hit = jobs.filter(j => killed.has(j.jobId))
    const missing = hit.filter(j => j.state !== 'done').length
    const extra = hit.map(j => j.state === 'done' ? ((j.durationMs ?? Infinity) - normalMs) / 1000 / segmentSec : Infinity)
    const s = stats(extra)
    const reasons = [...new Set(hit.flatMap(j => j.history.filter(h => h.outcome !== 'ok').map(h => `${h.outcome}: ${(h.reason ?? '').slice(0, 60)}`)))].slice(0, 6)
    const notDone = hit.filter(j => j.state !== 'done').map(j =>
      `seq ${j.seq}: ${j.state}${j.reason != null ? ` (${j.reason.slice(0, 80)})` : ''}; attempts: ${j.history.map(h => `${h.worker.slice(-6)} ${h.outcome ?? 'running'}${h.reason != null ? ` ${h.reason.slice(0, 50)}` : ''} at +${h.startedAt - j.createdAt} ms`).join(', ') || 'none'}`)
    return { kills: done, killedJobs: hit.length, missing, extraDelayRatio: { p50: s.p50, p95: s.p95, max: s.max }, normalMs, segmentSec, publishSec, reasons, notDone }
  } finally {
    await cluster.stop()
  }
}

export function formatP6 (r: P6Result): string {
  const met = r.missing === 0 && r.extraDelayRatio.p95 <= 1.0
  return [
    `P6 worker killed mid-job (${r.kills} kills over a ${r.publishSec} s live stream, 3 workers, ${r.segmentSec} s segments):`,
    `  extra delay ÷ segment duration: p50 ${r.extraDelayRatio.p50.toFixed(2)}, p95 ${r.extraDelayRatio.p95.toFixed(2)}, max ${r.extraDelayRatio.max.toFixed(2)} (normal job ${Math.round(r.normalMs)} ms)`,
    `  missing segments: ${r.missing} of ${r.killedJobs} killed jobs`,
    ...r.notDone.map(x => `    ${x}`),
    `  failed attempts seen: ${r.reasons.join(' | ') || 'none'}`,
    `  target: 0 missing and p95 ≤ 1.0 — ${met ? 'MET' : 'MISSED'}`
  ].join('\n')
}
