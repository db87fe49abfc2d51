/**
 * P5 and the 1,000-viewer figure: how fast one edge serves a hot segment.
 *
 * METHOD
 *
 * One `diststream-node --role ingest,edge` process; a 6 s 640x360 test pattern (2 s GOP)
 * published over RTMP, no worker (the source passes through), so the stream has three 2 s
 * MPEG-TS segments. Once it has ended, the bench requests segment 1 from the edge once (now
 * hot: in the edge's memory cache) and writes the very same bytes under a temp root for nginx.
 *
 * P5 = edge req/s ÷ nginx req/s for that one file, same run, same machine:
 *  - nginx from Debian, started by the bench with a temp config on 127.0.0.1 (daemon off,
 *    1 worker process, like the edge's one Node process; sendfile on, access log off,
 *    keepalive, the same Cache-Control header), stopped afterwards. Absent nginx: P5 skipped.
 *  - autocannon (in the bench's process), 64 connections, HTTP/1.1 keep-alive, no pipelining,
 *    3 s warm-up each, then 3 rounds of (edge 4 s, nginx 4 s) alternating, so a change in the
 *    machine's load during the run hits both alike. req/s = requests ÷ seconds over the rounds;
 *    every response must be 200 (non-2xx are counted and printed). The load average is printed.
 *  - Target ≥ 0.8.
 *  - Also: each server's CPU time per request (utime + stime from /proc/<pid>/stat, the edge's
 *    process; nginx's master and worker), over the same rounds. Unlike req/s on this shared
 *    2-core machine, that does not depend on how busy the other processes keep the cores.
 *
 * 1,000 viewers: autocannon with 1,000 connections to the edge, each a viewer fetching the hot
 * segment once per segment duration (2 s): 500 req/s overall (autocannon's overallRate), 10 s.
 * p99 latency (request sent → last byte) is the figure; target < 100 ms. The same 1,000
 * connections without a rate limit (saturation) are shown for context.
 *
 * Run alone with `node node/dist/bench/edge-http.js`; `pnpm bench` runs it last.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { callApi, Cluster, getJson, waitUntil } from '../test/helpers/cluster.js'
import { freePort } from '../src/net.js'
import type { ChildProcess } from 'node:child_process'

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']

export interface LoadFigures { cpuMsPerRequest?: number, reqPerSec: number, p50Ms: number, p99Ms: number, non2xx: number, errors: number, timeouts: number, bytesPerSec: number, requests: number }

export interface EdgeHttpResult {
  segmentBytes: number
  loadavg: string[]
  rounds: Array<{ edge: number, nginx?: number }>
  edge: LoadFigures
  nginx?: LoadFigures
  nginxSkipped?: string
  ratio?: number
  viewers: LoadFigures
  saturation: LoadFigures
}

const running = new Set<ChildProcess>()

/** CPU time (user + system, ms) a process has used, from /proc/<pid>/stat (Linux; 0 elsewhere). */
async function cpuMs (pid: number | undefined): Promise<number> {
  if (pid == null) return 0
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10 // fields 14, 15 in clock ticks (100 Hz)
  } catch {
    return 0
  }
}

/** The pid and its direct children (nginx: the master and its worker). */
async function withChildren (pid: number | undefined): Promise<number[]> {
  if (pid == null) return []
  const out = [pid]
  for (const d of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(d)) continue
    const stat = await readFile(`/proc/${d}/stat`, 'utf8').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid === pid) out.push(Number(d))
  }
  return out
}

const cpuOf = async (pids: number[]): Promise<number> => (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0)
const clusters = new Set<Cluster>()

/** SIGKILLs what this phase started (watchdog / Ctrl-C path). */
export function killEdgeHttp (): void {
  for (const p of running) p.kill('SIGKILL')
  for (const c of clusters) for (const n of c.nodes) n.proc.kill('SIGKILL')
}

/** Several runs as one: requests ÷ time; latencies and sizes from the worst run (p99) and the mean (p50). */
function combine (runs: LoadFigures[]): LoadFigures {
  const sum = (f: (x: LoadFigures) => number): number => runs.reduce((a, x) => a + f(x), 0)
  return {
    reqPerSec: sum(x => x.reqPerSec) / runs.length,
    p50Ms: Math.round(sum(x => x.p50Ms) / runs.length),
    p99Ms: Math.max(...runs.map(x => x.p99Ms)),
    non2xx: sum(x => x.non2xx),
    errors: sum(x => x.errors),
    timeouts: sum(x => x.timeouts),
    bytesPerSec: sum(x => x.bytesPerSec) / runs.length,
    requests: sum(x => x.requests),
    cpuMsPerRequest: runs.every(x => x.cpuMsPerRequest != null) ? sum(x => x.cpuMsPerRequest! * x.requests) / Math.max(1, sum(x => x.requests)) : undefined
  }
}

async function load (url: string, o: { connections: number, seconds: number, overallRate?: number }): Promise<LoadFigures> {
  const r = await autocannon({ url, connections: o.connections, duration: o.seconds, pipelining: 1, overallRate: o.overallRate, timeout: 10 })
  return {
    reqPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    bytesPerSec: r.throughput.average,
    requests: r.requests.total
  }
}

function nginxConf (root: string, www: string, port: number): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${root}/tmp-body;
  proxy_temp_path ${root}/tmp-proxy;
  fastcgi_temp_path ${root}/tmp-fastcgi;
  uwsgi_temp_path ${root}/tmp-uwsgi;
  scgi_temp_path ${root}/tmp-scgi;
  types { video/mp2t ts; }
  server {
    listen 127.0.0.1:${port};
    root ${www};
    add_header Cache-Control "public, max-age=31536000, immutable";
  }
}
`
}

async function startNginx (bin: string, root: string, www: string): Promise<{ url: string, pid?: number, stop: () => Promise<void> }> {
  const port = await freePort()
  const conf = join(root, 'nginx.conf')
  await writeFile(conf, nginxConf(root, www, port))
  const proc = spawn(bin, ['-e', join(root, 'error.log'), '-p', root, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  running.add(proc)
  let stderr = ''
  proc.stderr!.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = new Promise<void>(resolve => proc.once('exit', () => { running.delete(proc); resolve() }))
  const url = `http://127.0.0.1:${port}`
  try {
    await waitUntil(async () => proc.exitCode == null && (await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) }).then(r => r.status > 0, () => false)), 10_000, 'nginx to answer')
  } catch (err) {
    proc.kill('SIGKILL')
    throw new Error(`nginx did not start: ${stderr.trim() || String(err)}`)
  }
  return {
    url,
    pid: proc.pid,
    stop: async () => {
      proc.kill('SIGQUIT')
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(t)
    }
  }
}

export async function runEdgeHttp (log: (s: string) => void = (s) => { process.stdout.write(`${s}\n`) }): Promise<EdgeHttpResult> {
  const ffmpeg = resolveFfmpeg()
  const root = await mkdtemp(join(tmpdir(), 'ds-bench-p5-'))
  const cluster = new Cluster()
  clusters.add(cluster)
  try {
    // MPEG-TS renditions: the hot segment is a .ts file nginx serves byte for byte (the same bytes as before CMAF became the default).
    const node = await cluster.start('edge', ['--role', 'ingest,edge', '--segment-seconds', '2', '--ladder', '360p', '--container', 'ts'])
    const { http, rtmpPort } = await node.info
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'p5' })
    const id: string = created.body.id
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.body.key as string}`, width: 640, height: 360, fps: 30, gopSeconds: 2, durationSec: 6 })
    await source.done
    await waitUntil(async () => (await getJson(`${http}/api/streams/${id}`)).body.state === 'idle', 60_000, 'the P5 stream to end')
    const segUrl = `${http}/live/${id}/source/1.ts`
    await waitUntil(async () => (await fetch(`${http}/live/${id}/source/index.m3u8`)).status === 200, 30_000, 'the edge playlist')
    const res = await fetch(segUrl)
    if (res.status !== 200) throw new Error(`hot segment: HTTP ${res.status}`)
    const bytes = Buffer.from(await res.arrayBuffer())
    log(`P5: hot segment ${id}/source/1.ts, ${bytes.byteLength} bytes`)

    const loadavgs = [loadavg().map(x => x.toFixed(1)).join(' ')]
    let ng: { url: string, pid?: number, stop: () => Promise<void> } | undefined
    let nginxUrl = ''
    let nginxSkipped: string | undefined
    const bin = NGINX_PATHS.find(p => existsSync(p))
    if (bin == null) {
      nginxSkipped = `nginx is not installed (looked for ${NGINX_PATHS.join(', ')}; on Debian: apt-get install -y nginx)`
    } else {
      const www = join(root, 'www')
      await mkdir(join(www, 'live', id, 'source'), { recursive: true })
      await writeFile(join(www, 'live', id, 'source', '1.ts'), bytes, { mode: 0o644 })
      // nginx's workers run as an unprivileged user when the bench is root: let them read the file.
      for (const d of [root, www, join(www, 'live'), join(www, 'live', id), join(www, 'live', id, 'source')]) await chmod(d, 0o755)
      try {
        ng = await startNginx(bin, root, www)
        nginxUrl = `${ng.url}/live/${id}/source/1.ts`
        const check = await fetch(nginxUrl)
        const same = Buffer.from(await check.arrayBuffer()).equals(bytes)
        if (check.status !== 200 || !same) throw new Error(`nginx serves HTTP ${check.status}, same bytes: ${same}`)
      } catch (err: any) {
        nginxSkipped = `nginx could not be run: ${String(err?.message ?? err)}`
        await ng?.stop()
        ng = undefined
      }
    }
    let edge: LoadFigures
    let nginx: LoadFigures | undefined
    const rounds: Array<{ edge: number, nginx?: number }> = []
    try {
      await load(segUrl, { connections: 64, seconds: 3 })
      if (ng != null) await load(nginxUrl, { connections: 64, seconds: 3 })
      const edgeRuns: LoadFigures[] = []
      const nginxRuns: LoadFigures[] = []
      const edgePids = [node.proc.pid!]
      const nginxPids = await withChildren(ng?.pid)
      const measured = async (url: string, pids: number[]): Promise<LoadFigures> => {
        const c0 = await cpuOf(pids)
        const r = await load(url, { connections: 64, seconds: 4 })
        return { ...r, cpuMsPerRequest: r.requests > 0 ? (await cpuOf(pids) - c0) / r.requests : undefined }
      }
      for (let i = 0; i < 3; i++) {
        const e = await measured(segUrl, edgePids)
        edgeRuns.push(e)
        const n = ng != null ? await measured(nginxUrl, nginxPids) : undefined
        if (n != null) nginxRuns.push(n)
        rounds.push({ edge: Math.round(e.reqPerSec), nginx: n != null ? Math.round(n.reqPerSec) : undefined })
        log(`P5 round ${i + 1}: edge ${Math.round(e.reqPerSec)} req/s${n != null ? `, nginx ${Math.round(n.reqPerSec)} req/s` : ''}`)
      }
      edge = combine(edgeRuns)
      nginx = nginxRuns.length > 0 ? combine(nginxRuns) : undefined
    } finally {
      await ng?.stop()
    }
    loadavgs.push(loadavg().map(x => x.toFixed(1)).join(' '))
    if (nginxSkipped != null) log(`P5 skipped: ${nginxSkipped}`)

    const viewers = await load(segUrl, { connections: 1000, seconds: 10, overallRate: 500 })
    loadavgs.push(loadavg().map(x => x.toFixed(1)).join(' '))
    log(`1,000 viewers (500 req/s): p50 ${viewers.p50Ms} ms, p99 ${viewers.p99Ms} ms, ${Math.round(viewers.reqPerSec)} req/s, non-2xx ${viewers.non2xx}, errors ${viewers.errors}`)
    const saturation = await load(segUrl, { connections: 1000, seconds: 10 })
    log(`1,000 connections, no rate limit: ${Math.round(saturation.reqPerSec)} req/s, p50 ${saturation.p50Ms} ms, p99 ${saturation.p99Ms} ms`)
    return { segmentBytes: bytes.byteLength, loadavg: loadavgs, rounds, edge, nginx, nginxSkipped, ratio: nginx != null ? edge.reqPerSec / nginx.reqPerSec : undefined, viewers, saturation }
  } finally {
    await cluster.stop()
    clusters.delete(cluster)
    await rm(root, { recursive: true, force: true })
  }
}

/** The printed section for the report. */
export function reportEdgeHttp (r: EdgeHttpResult): string {
  const f = (x: LoadFigures): string => `${Math.round(x.reqPerSec)} req/s, ${(x.bytesPerSec / 1e6).toFixed(0)} MB/s, latency p50 ${x.p50Ms} ms / p99 ${x.p99Ms} ms, ${x.requests} requests, non-2xx ${x.non2xx}, errors ${x.errors}, timeouts ${x.timeouts}`
  const out = ['', `== P5: edge req/s ÷ nginx req/s, one hot ${r.segmentBytes}-byte segment, autocannon 64 connections, 3 alternating rounds of 4 s each`]
  out.push(`  load average (1/5/15 min) before P5, after P5, after the 1,000 viewers: ${r.loadavg.join(' | ')}`)
  out.push(`  rounds (req/s): ${r.rounds.map(x => `edge ${x.edge}${x.nginx != null ? ` / nginx ${x.nginx}` : ''}`).join('; ')}`)
  out.push(`  edge:  ${f(r.edge)}`)
  if (r.nginx != null) {
    out.push(`  nginx: ${f(r.nginx)} (1 worker process, sendfile)`)
    out.push(`  P5 = ${r.ratio!.toFixed(3)} (target ≥ 0.8: ${r.ratio! >= 0.8 ? 'met' : 'MISSED'})`)
    if (r.edge.cpuMsPerRequest != null && r.nginx.cpuMsPerRequest != null) {
      out.push(`  server CPU per request (from /proc, independent of how busy the machine is): edge ${r.edge.cpuMsPerRequest.toFixed(3)} ms, nginx ${r.nginx.cpuMsPerRequest.toFixed(3)} ms → nginx ÷ edge = ${(r.nginx.cpuMsPerRequest / r.edge.cpuMsPerRequest).toFixed(3)} (the req/s ratio two idle cores would give if both were CPU-bound)`)
    }
  } else {
    out.push(`  P5 skipped: ${r.nginxSkipped ?? ''}`)
  }
  out.push('', '== 1,000 concurrent viewers on one edge: 1,000 connections, one hot segment each per 2 s (500 req/s), 10 s')
  out.push(`  ${f(r.viewers)}`)
  out.push(`  p99 ${r.viewers.p99Ms} ms (target < 100 ms: ${r.viewers.p99Ms < 100 && r.viewers.non2xx === 0 && r.viewers.errors === 0 ? 'met' : 'MISSED'})`)
  out.push(`  context, the same 1,000 connections without a rate limit: ${f(r.saturation)}`)
  out.push(`BENCH_P5 ${JSON.stringify({ edgeCpuMsPerRequest: r.edge.cpuMsPerRequest ?? null, nginxCpuMsPerRequest: r.nginx?.cpuMsPerRequest ?? null, segmentBytes: r.segmentBytes, edgeReqPerSec: r.edge.reqPerSec, nginxReqPerSec: r.nginx?.reqPerSec ?? null, p5: r.ratio ?? null, skipped: r.nginxSkipped ?? null, viewersP99Ms: r.viewers.p99Ms, viewersP50Ms: r.viewers.p50Ms, saturationReqPerSec: r.saturation.reqPerSec })}`)
  return out.join('\n')
}

// Run alone: node node/dist/bench/edge-http.js
if (process.argv[1] != null && import.meta.url.endsWith(process.argv[1].split('/').slice(-2).join('/'))) {
  const watchdog = setTimeout(() => { killEdgeHttp(); process.stderr.write('edge-http bench: watchdog after 4 minutes\n'); process.exit(3) }, 4 * 60_000)
  watchdog.unref()
  process.once('SIGINT', () => { killEdgeHttp(); process.exit(130) })
  runEdgeHttp().then(r => { clearTimeout(watchdog); process.stdout.write(reportEdgeHttp(r) + '\n') }, err => {
    process.stderr.write(`edge-http bench failed: ${err?.stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
