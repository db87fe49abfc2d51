/**
 * CPU accounting of node processes and their ffmpeg children, from /proc (Linux), by stage.
 *
 * A node's own CPU is `utime + stime` of its pid (`/proc/<pid>/stat`, fields 14–15). Its
 * children's CPU is known exactly in total (`cutime + cstime`, fields 16–17: every child the
 * node has reaped) but not per child, so a sampler walks /proc every {@link SAMPLE_MS} ms,
 * finds each child of a watched node (its ppid), classifies it once by its command line
 * ({@link classify}) and keeps the last `utime + stime` it saw. A child that exits between two
 * samples loses its last interval (≤ SAMPLE_MS of CPU); the report scales the sampled figures
 * per stage to the exact `cutime + cstime` total and prints how much of it sampling saw.
 */
import { readdir, readFile } from 'node:fs/promises'

/** How often /proc is walked: short enough that a 0.1 s ffprobe is seen, cheap enough on 2 cores. */
export const SAMPLE_MS = 20
/** Linux USER_HZ: /proc CPU times are in these ticks (100 on every Linux ABI we run on). */
const TICKS_PER_SEC = 100

interface ProcTimes { ppid: number, self: number, children: number }

async function readTimes (pid: number): Promise<ProcTimes | null> {
  try {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17); index 0 = field 3.
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) }
  } catch {
    return null // the process ended between readdir and read
  }
}

/**
 * The stage a child process belongs to, from its command line: what the ingest and the worker
 * spawn (segmenter, CMAF remux, probe, verification, spot check PSNR, transcode).
 */
/** The stage name of probation's picture checks (the first PROBATION_JOBS results of each new worker). */
export const PROBATION_STAGE = 'probation check (psnr, every rung)'

export function classify (argv: string[]): string {
  const bin = (argv[0] ?? '').split('/').pop() ?? ''
  const has = (a: string): boolean => argv.includes(a)
  const after = (flag: string): string | undefined => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined }
  if (bin.startsWith('ffprobe')) return has('-count_frames') ? 'verify (decode)' : 'probe'
  // One picture check of every rung against the source (psnr@r0, psnr@r1, …) is probation's
  // (ingest/session/probation.ts); the spot check scores one rendition (psnr@r0 only). A one-rung
  // ladder's probation check counts as a spot check here.
  if (argv.some(a => a.includes('psnr@r1'))) return PROBATION_STAGE
  if (argv.some(a => a.includes('psnr'))) return 'spot check (psnr)'
  if (after('-f') === 'segment' || argv.some(a => a === 'segment')) return 'segmenter'
  if (has('libx264') || argv.some(a => /^h264_|^libx264/.test(a))) return 'transcode (ffmpeg)'
  if (after('-f') === 'null') return 'verify (decode)'
  if (has('-movflags') && has('copy')) return 'cmaf remux'
  if (has('trace_headers')) return 'probe'
  return `other: ${bin} ${argv.slice(1, 6).join(' ')}`
}

export interface CpuAccount {
  /** Seconds of the node's own CPU (JS, libp2p, hashing, parsing) over the window. */
  self: number
  /** Seconds of its reaped children's CPU over the window (exact). */
  children: number
  /** Sampled seconds per stage (children), before scaling to `children`. */
  stages: Map<string, number>
}

interface Child { root: number, stage: string, first: number, last: number }

/** Samples the CPU of `roots` and their direct children from {@link start} to {@link stop}. */
export class CpuSampler {
  readonly #roots: number[]
  readonly #base = new Map<number, ProcTimes>()
  readonly #children = new Map<number, Child>()
  readonly #ignored = new Set<number>()
  #timer?: NodeJS.Timeout
  #busy = false

  constructor (roots: number[]) { this.#roots = roots }

  async start (): Promise<void> {
    for (const pid of this.#roots) {
      const t = await readTimes(pid)
      if (t == null) throw new Error(`process ${pid} is not running`)
      this.#base.set(pid, t)
    }
    // Children running now are not ours to count from zero: remember their current times.
    await this.#sample(true)
    this.#timer = setInterval(() => {
      if (this.#busy) return
      this.#busy = true
      this.#sample(false).catch((err: Error) => { process.stderr.write(`cpu sampler: ${err.message}\n`) }).finally(() => { this.#busy = false })
    }, SAMPLE_MS)
  }

  async #sample (baseline: boolean): Promise<void> {
    const roots = new Set(this.#roots)
    for (const d of await readdir('/proc')) {
      const pid = Number(d)
      if (!Number.isInteger(pid) || this.#ignored.has(pid)) continue
      const known = this.#children.get(pid)
      const t = await readTimes(pid)
      if (t == null) continue
      if (known != null) { known.last = t.self; continue }
      if (!roots.has(t.ppid)) { this.#ignored.add(pid); continue }
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(a => a !== '')
      this.#children.set(pid, { root: t.ppid, stage: classify(argv), first: baseline ? t.self : 0, last: t.self })
    }
  }

  /** Stops sampling; the account of each root pid over the window. */
  async stop (): Promise<Map<number, CpuAccount>> {
    clearInterval(this.#timer)
    await this.#sample(false)
    const out = new Map<number, CpuAccount>()
    for (const pid of this.#roots) {
      const base = this.#base.get(pid)!
      const now = await readTimes(pid)
      const stages = new Map<string, number>()
      for (const c of this.#children.values()) {
        if (c.root !== pid) continue
        stages.set(c.stage, (stages.get(c.stage) ?? 0) + (c.last - c.first) / TICKS_PER_SEC)
      }
      out.set(pid, {
        self: now == null ? NaN : (now.self - base.self) / TICKS_PER_SEC,
        children: now == null ? NaN : (now.children - base.children) / TICKS_PER_SEC,
        stages
      })
    }
    return out
  }
}
