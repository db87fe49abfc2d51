/**
 * IDLE: what being idle costs. 16 real `diststream-node` processes on loopback
 * (1 bootstrap, 1 ingest, 6 workers with --no-calibrate, 8 edges, all given
 * only the bootstrap's address, --log-level info), no stream. After every node
 * has started, the bench waits `settleMs` (45 s) for the network to settle,
 * then reads each process's CPU time (utime + stime, /proc/<pid>/stat, in
 * clock ticks of 10 ms) at the start and the end of a `windowMs` (30 s)
 * window. Per node: CPU time in the window ÷ the window's wall time, as a
 * percentage of one core; printed per role and as the mean over all nodes.
 * CPU time, not wall time: other work on the machine does not count against
 * a node (it may still slow it; the load average is printed). Target: mean
 * ≤ 0.5 % of a core per idle node.
 *
 * `--cpu-prof <dir>` (with `--only idle`) also runs one edge with node's
 * --cpu-prof: its profile (.cpuprofile, open in Chrome's DevTools) is written
 * to `<dir>` when the bench stops it.
 *
 * Run alone: `node node/dist/bench/index.js --only idle` (after `pnpm build`).
 */
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { Cluster } from '../test/helpers/cluster.js'
import type { NodeProcess } from '../test/helpers/cluster.js'
import { r3, sleep, table } from './util.js'

/** /proc/<pid>/stat's utime and stime are in clock ticks; Linux's USER_HZ is 100. */
const TICKS_PER_SECOND = 100
export const IDLE_TARGET_PERCENT = 0.5

export interface IdleInit {
  workers?: number
  edges?: number
  settleMs?: number
  windowMs?: number
  /** Run one edge with --cpu-prof, its profile written here. */
  cpuProfDir?: string
  log?: (s: string) => void
}

export interface IdleResult {
  nodes: number
  settleMs: number
  windowMs: number
  /** CPU % of one core per node, by node name. */
  perNode: Record<string, number>
  perRole: Record<string, { n: number, mean: number, max: number }>
  mean: number
  max: number
  load: number[]
}

async function cpuTicks (pid: number | undefined): Promise<number> {
  if (pid == null) return NaN
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15)
}

const roleOf = (name: string): string => name.replace(/-\d+$/, '')

export async function runIdle (init: IdleInit = {}): Promise<IdleResult> {
  const log = init.log ?? ((s: string) => { console.log(s) })
  const workers = init.workers ?? 6
  const edges = init.edges ?? 8
  const settleMs = init.settleMs ?? 45_000
  const windowMs = init.windowMs ?? 30_000
  const cluster = new Cluster({ logLevel: 'info' })
  try {
    const boot = await cluster.start('bootstrap', ['--role', 'bootstrap'])
    const addr = await boot.bootstrapAddr()
    const specs: Array<[string, string[], NodeJS.ProcessEnv]> = [
      ['ingest-0', ['--role', 'ingest'], {}],
      ...Array.from({ length: workers }, (_, i): [string, string[], NodeJS.ProcessEnv] => [`worker-${i}`, ['--role', 'worker', '--max-jobs', '1', '--no-calibrate'], {}]),
      ...Array.from({ length: edges }, (_, i): [string, string[], NodeJS.ProcessEnv] => [`edge-${i}`, ['--role', 'edge'], i === 0 && init.cpuProfDir != null ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${init.cpuProfDir}` } : {}])
    ]
    for (let i = 0; i < specs.length; i += 3) {
      await Promise.all(specs.slice(i, i + 3).map(async ([name, args, env]) => await cluster.start(name, [...args, '--bootstrap', addr], env)))
    }
    log(`  idle: ${cluster.nodes.length} nodes started; settling ${settleMs / 1000} s`)
    await sleep(settleMs)
    const nodes: NodeProcess[] = [...cluster.nodes]
    const t0 = performance.now()
    const before = await Promise.all(nodes.map(async n => await cpuTicks(n.proc.pid)))
    await sleep(windowMs)
    const after = await Promise.all(nodes.map(async n => await cpuTicks(n.proc.pid)))
    const wallS = (performance.now() - t0) / 1000
    const perNode: Record<string, number> = {}
    nodes.forEach((n, i) => { perNode[n.name] = r3(100 * (after[i]! - before[i]!) / TICKS_PER_SECOND / wallS) })
    const perRole: IdleResult['perRole'] = {}
    for (const [name, pct] of Object.entries(perNode)) {
      const r = (perRole[roleOf(name)] ??= { n: 0, mean: 0, max: 0 })
      r.mean = (r.mean * r.n + pct) / (r.n + 1)
      r.n++
      r.max = Math.max(r.max, pct)
    }
    for (const r of Object.values(perRole)) r.mean = r3(r.mean)
    const all = Object.values(perNode)
    return { nodes: nodes.length, settleMs, windowMs, perNode, perRole, mean: r3(all.reduce((a, b) => a + b, 0) / all.length), max: Math.max(...all), load: loadavg() }
  } finally {
    await cluster.stop()
  }
}

export function formatIdle (r: IdleResult): string {
  const rows = Object.entries(r.perRole).map(([role, s]) => [role, String(s.n), `${s.mean} %`, `${s.max} %`])
  return [
    `IDLE: ${r.nodes} idle nodes, CPU (utime+stime from /proc) over ${r.windowMs / 1000} s after ${r.settleMs / 1000} s to settle; load average ${r.load.map(x => x.toFixed(2)).join(' ')}`,
    table(['role', 'nodes', 'mean CPU (% of a core)', 'max'], rows),
    `  mean per node: ${r.mean} % of a core (max ${r.max} %); target ≤ ${IDLE_TARGET_PERCENT} %: ${r.mean <= IDLE_TARGET_PERCENT ? 'met' : 'NOT met'}`
  ].join('\n')
}
