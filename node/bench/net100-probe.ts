/**
 * What the net100 bench reads from the nodes and the machine: each node's own message counters
 * (`diststream_p2p_messages_total` on its /metrics), its CPU times and RSS from /proc, and the
 * loopback round trip.
 */
import { readFile } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { getText } from '../test/helpers/cluster.js'
import type { NodeProcess } from '../test/helpers/cluster.js'
import { percentile } from './util.js'

/** Linux USER_HZ: /proc CPU times are in these ticks. */
export const TICKS_PER_SECOND = 100

/** `kind|name|direction` → count. */
export type Counts = Map<string, number>

const LINE = /^diststream_p2p_messages_total\{([^}]*)\} ([0-9.e+-]+)$/gm
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g

/** The message counters in a /metrics text. */
export function parseCounts (text: string): Counts {
  const out: Counts = new Map()
  for (const m of text.matchAll(LINE)) {
    const labels: Record<string, string> = {}
    for (const l of m[1]!.matchAll(LABEL)) labels[l[1]!] = l[2]!
    out.set(`${labels.kind ?? ''}|${labels.name ?? ''}|${labels.direction ?? ''}`, Number(m[2]))
  }
  return out
}

/** `b − a`, key by key. */
export function diffCounts (a: Counts, b: Counts): Counts {
  const out: Counts = new Map()
  for (const [k, v] of b) out.set(k, v - (a.get(k) ?? 0))
  return out
}

/** Sums counts over nodes. */
export function sumCounts (all: Counts[]): Counts {
  const out: Counts = new Map()
  for (const c of all) for (const [k, v] of c) out.set(k, (out.get(k) ?? 0) + v)
  return out
}

/** Every node's counters now (bounded: 15 s per request, 3 tries); a node that does not answer: empty, and listed. */
export async function scrapeAll (nodes: NodeProcess[]): Promise<{ counts: Counts[], failed: string[] }> {
  const failed: string[] = []
  const counts = await Promise.all(nodes.map(async n => {
    const { http } = await n.info
    for (let i = 0; i < 3; i++) {
      try {
        const r = await getText(`${http}/metrics`)
        if (r.status === 200) return parseCounts(r.text)
      } catch { /* retried: a node on a loaded machine may answer late */ }
    }
    failed.push(n.name)
    return new Map() as Counts
  }))
  return { counts, failed }
}

export interface ProcTimes { self: number, children: number }

/** utime+stime of the process and of its reaped children (ticks); NaN if it is gone. */
export async function procTimes (pid: number | undefined): Promise<ProcTimes> {
  try {
    const stat = await readFile(`/proc/${pid ?? -1}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) }
  } catch {
    return { self: NaN, children: NaN }
  }
}

/** VmRSS in MB (10^6 bytes); NaN if the process is gone. */
export async function rssMB (pid: number | undefined): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid ?? -1}/status`, 'utf8')
    return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]) * 1024 / 1e6
  } catch {
    return NaN
  }
}

/** Loopback TCP round trip: one byte out, echoed back, `n` times one at a time (ms, p50/p95). */
export async function loopbackRtt (n = 200): Promise<{ p50: number, p95: number }> {
  const server = createServer(s => { s.on('data', d => { s.write(d) }) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const sock = connect(port, '127.0.0.1')
  sock.setNoDelay(true)
  const samples: number[] = []
  try {
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve).once('error', reject) })
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error('loopback echo timed out')) }, 5000)
        sock.once('data', () => { clearTimeout(timer); resolve() })
        sock.write('x')
      })
      samples.push(performance.now() - t0)
    }
  } finally {
    sock.destroy()
    server.close()
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) }
}
