/**
 * `pnpm bench --only net100 [--workers 40] [--edges 57] [--publish 30] [--settle 45] [--idle-window 30] [--batch 3]`:
 * NET100 (net100.ts) at the size by default, smaller for a shared machine. Seconds for
 * --publish, --settle and --idle-window.
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { NET100_DEFAULTS, runNet100 } from './net100.js'
import { formatNet100 } from './net100-report.js'
import { foreignWork } from './util.js'

/** Bounds of the options: a typo must not start 10,000 processes. */
const LIMITS = { workers: [1, 200], edges: [1, 200], publish: [6, 600], settle: [0, 600], 'idle-window': [5, 600], batch: [1, 10] } as const

export function parseNet100Args (argv: string[]): { workers: number, edges: number, publishSec: number, settleMs: number, idleWindowMs: number, batch: number } {
  const d = NET100_DEFAULTS
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      workers: { type: 'string', default: String(d.workers) },
      edges: { type: 'string', default: String(d.edges) },
      publish: { type: 'string', default: String(d.publishSec) },
      settle: { type: 'string', default: String(d.settleMs / 1000) },
      'idle-window': { type: 'string', default: String(d.idleWindowMs / 1000) },
      batch: { type: 'string', default: String(d.batch) }
    }
  })
  const num = (k: keyof typeof LIMITS): number => {
    const v = Number(values[k])
    const [lo, hi] = LIMITS[k]
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`--${k}: an integer from ${lo} to ${hi}, not ${String(values[k])}`)
    return v
  }
  return { workers: num('workers'), edges: num('edges'), publishSec: num('publish'), settleMs: num('settle') * 1000, idleWindowMs: num('idle-window') * 1000, batch: num('batch') }
}

export async function onlyNet100 (): Promise<void> {
  const opts = parseNet100Args(process.argv.slice(2))
  const t0 = Date.now()
  const log = (s: string): void => { process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}\n`) }
  const foreign = await foreignWork()
  console.log(`DistStream benchmark, NET only: 1 bootstrap, 2 ingests, ${opts.workers} workers, ${opts.edges} edges = ${opts.workers + opts.edges + 3} processes; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}; foreign ${foreign.join(' ') || 'none'}`)
  if (foreign.length > 0) console.log('  NOTE: processes this bench did not start compete for the cores: every figure is skewed by them')
  const r = await runNet100({ ...opts, log })
  process.stdout.write(formatNet100(r) + '\n')
  log('done')
}
