/** Small helpers of the benchmark: log taps, timed processes, statistics, RSS, tables. */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { NodeProcess } from '../test/helpers/cluster.js'

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** One parsed pino line of a node, with the bench's own receive time. */
export interface LogLine { node: string, at: number, j: Record<string, any> }

/**
 * Every JSON log line of the given node processes from now on (the Cluster keeps only the last
 * 2000 lines per node; a debug-level minute needs more). Lines at warn (40) or above are also
 * kept apart, for the "problems seen" section.
 */
export class LogTap {
  readonly lines: LogLine[] = []
  readonly problems: LogLine[] = []

  add (node: NodeProcess): void {
    for (const s of [node.proc.stdout!, node.proc.stderr!]) {
      createInterface({ input: s }).on('line', (line) => {
        const at = Date.now()
        if (!line.startsWith('{')) {
          // The node's own "SIGTERM: stopping" on a Cluster stop is expected; anything else is kept.
          if (line.trim() !== '' && !/^SIG[A-Z]+: stopping/.test(line)) this.problems.push({ node: node.name, at, j: { level: 50, msg: `non-JSON output: ${line.slice(0, 300)}` } })
          return
        }
        try {
          const j = JSON.parse(line)
          const rec = { node: node.name, at, j }
          this.lines.push(rec)
          if (typeof j.level === 'number' && j.level >= 40) this.problems.push(rec)
        } catch { /* not a JSON log line: not a problem record */ }
      })
    }
  }

  find (msg: string, node?: string): LogLine[] {
    return this.lines.filter(l => l.j.msg === msg && (node == null || l.node === node))
  }
}

/** Distinct problem messages, counted, for the report. */
export function summarizeProblems (lines: LogLine[]): string[] {
  const counts = new Map<string, number>()
  for (const l of lines) {
    const err = l.j.err == null ? '' : `: ${typeof l.j.err === 'string' ? l.j.err : String(l.j.err.message ?? JSON.stringify(l.j.err))}`.slice(0, 240)
    const key = `[${l.node}] ${l.j.level >= 50 ? 'ERROR' : 'WARN'} ${String(l.j.msg)}${err}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`)
}

/** Runs a command to the end (bounded by `timeoutMs`, then SIGKILL); returns its wall time and exit code. */
export async function runTimed (cmd: string, args: string[], timeoutMs: number): Promise<{ ms: number, code: number, stderr: string }> {
  const t0 = performance.now()
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000) })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number>(resolve => {
    child.on('error', (e) => { stderr += e.message; resolve(127) })
    child.on('close', (c) => { resolve(c ?? 137) })
  })
  clearTimeout(timer)
  return { ms: performance.now() - t0, code, stderr }
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1]!
}

export function stats (values: number[]): { n: number, p50: number, p95: number, min: number, max: number, mean: number } {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    min: values.length > 0 ? Math.min(...values) : NaN,
    max: values.length > 0 ? Math.max(...values) : NaN,
    mean: values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : NaN
  }
}

/** VmRSS of a live process in MiB (from /proc/<pid>/status); NaN if it cannot be read. */
export async function rssMiB (pid: number | undefined): Promise<number> {
  if (pid == null) return NaN
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1])
    return kb / 1024
  } catch {
    return NaN
  }
}

/** Where a process's resident memory is, in MiB: file-backed pages (the node binary, shared libraries) and anonymous ones (V8's heap, native allocations). */
export interface RssSplit { file: number, anon: number }

export async function rssSplitMiB (pid: number | undefined): Promise<RssSplit> {
  try {
    const status = await readFile(`/proc/${pid ?? -1}/status`, 'utf8')
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1])
    return { file: kb('RssFile') / 1024, anon: (kb('RssAnon') + kb('RssShmem')) / 1024 }
  } catch {
    return { file: NaN, anon: NaN }
  }
}

/** A node's V8 heap in use, in MiB, from its own Prometheus metrics (`diststream_nodejs_heap_size_used_bytes`); NaN if not read. */
export async function heapUsedMiB (httpUrl: string): Promise<number> {
  try {
    const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    return Number(/^diststream_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1]) / 1048576
  } catch {
    return NaN
  }
}

export const r1 = (n: number): number => Math.round(n * 10) / 10
export const r3 = (n: number): number => Math.round(n * 1000) / 1000

/** A plain fixed-width table. */
export function table (head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(head), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/**
 * Processes on this machine that are not this bench's descendants but compete for the same
 * cores in the same way (ffmpeg, diststream nodes, node test runners): a sign that figures
 * measured now are skewed. Returns short descriptions like "ffmpeg×2".
 */
export async function foreignWork (): Promise<string[]> {
  const { readdir } = await import('node:fs/promises')
  const parent = new Map<number, number>()
  const what = new Map<number, string>()
  for (const d of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(d)
    if (!Number.isInteger(pid)) continue
    try {
      const st = await readFile(`/proc/${pid}/stat`, 'utf8')
      const after = st.slice(st.lastIndexOf(')') + 2).split(' ')
      parent.set(pid, Number(after[1]))
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ')
      if (/(^|\/)ffmpeg /.test(cmd)) what.set(pid, 'ffmpeg')
      else if (/diststream|bin\.js .*--role|node .*--test/.test(cmd)) what.set(pid, 'node')
    } catch { /* the process ended while we read it */ }
  }
  const ours = (pid: number): boolean => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === process.pid) return true
    return false
  }
  const ancestors = new Set<number>()
  for (let p = process.pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) ancestors.add(p)
  const counts = new Map<string, number>()
  for (const [pid, w] of what) if (!ours(pid) && !ancestors.has(pid)) counts.set(w, (counts.get(w) ?? 0) + 1)
  return [...counts].map(([w, n]) => `${w}×${n}`)
}
