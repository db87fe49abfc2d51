#!/usr/bin/env node
/**
 * `pnpm sim` (= `node packages/sim/dist/src/cli.js run`): the scale experiment's
 * table. `... cli.js measure`: re-measure the per-hop inputs on real libp2p
 * nodes. Options: --sizes 100,1000,10000 --jobs 200 --seed 1 --rtt 20-150
 * --only <part of a design's name> --json --inputs <measured.json>.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { measure } from './measure.js'
import { MEASURED } from './inputs.js'
import { simulate } from './model.js'
import type { Inputs } from './inputs.js'
import type { SimOptions, SimResult } from './model.js'

/** The designs compared: today's, then the throttled ones. */
export const SCENARIOS: Array<{ name: string, opts: Partial<SimOptions> & Pick<SimOptions, 'design'> }> = [
  { name: 'flood (today), window 150', opts: { design: 'flood' } },
  { name: 'flood, window 500', opts: { design: 'flood', bidWindowMs: 500 } },
  { name: 'prob k=4×2, window 500', opts: { design: 'prob', k: 4, oversample: 2, bidWindowMs: 500 } },
  { name: 'rendezvous k=4, window 500', opts: { design: 'rendezvous', k: 4, bidWindowMs: 500 } },
  { name: 'sharded k=4, window 500', opts: { design: 'sharded', k: 4, bidWindowMs: 500 } },
  { name: 'sharded k=4, first 2, window 500', opts: { design: 'sharded', k: 4, closeAfter: 2, bidWindowMs: 500 } },
  { name: 'sharded k=4, first 2, window 500, 0-RTT select', opts: { design: 'sharded', k: 4, closeAfter: 2, bidWindowMs: 500, optimisticSelect: true } }
]

const f = (x: number, d = 0): string => Number.isFinite(x) ? x.toFixed(d) : '∞'

export function row (name: string, r: SimResult): string {
  const sat = r.saturated.length > 0 ? ` (saturated: ${r.saturated.join(', ')}; latency without background load)` : ''
  return `| ${r.options.nodes} | ${name} | ${f(r.dispatchMs.p50)} / ${f(r.dispatchMs.p95)}${sat} | ${f(r.requestMs.p50)} / ${f(r.requestMs.p95)} | ${f(r.msgsPerJob.total)} (${f(r.msgsPerJob.gossip)} + ${f(r.msgsPerJob.bids)} + ${f(r.msgsPerJob.requests)}) | ${f(r.msgsPerJob.ihaveIds)} | ${r.failed}/${r.retried}/${r.windowClosed} | ${f(r.load.worker.presenceMsgsPerSec)} msg/s, ${f(r.load.worker.presenceBytesPerSec / 1000, 1)} kB/s | ${f(r.load.worker.cpu * 100, 1)} % / ${f(r.load.ingest.cpu * 100, 1)} % | ${f(r.wallMs / 1000, 1)} s |`
}

export const HEADER = [
  '| nodes | design | dispatch p50 / p95, ms | request at worker p50 / p95, ms | messages per job (gossip + bid/ack + request) | IHAVE ids per job | failed / retried / closed by window | presence in, per worker | CPU worker / ingest | sim wall |',
  '|---|---|---|---|---|---|---|---|---|---|'
]

async function main (): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      sizes: { type: 'string', default: '100,1000,10000' },
      jobs: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      rtt: { type: 'string', default: '20-150' },
      inputs: { type: 'string' },
      json: { type: 'boolean', default: false },
      only: { type: 'string' }
    }
  })
  const cmd = positionals[0] ?? 'run'
  if (cmd === 'measure') {
    const m = await measure({ log: s => { process.stderr.write(`measure: ${s}\n`) } })
    process.stdout.write(JSON.stringify(m, null, 2) + '\n')
    return
  }
  if (cmd !== 'run') throw new Error(`unknown command ${cmd} (run | measure)`)
  const sizes = values.sizes.split(',').map(Number)
  const jobs = Number(values.jobs)
  const seed = Number(values.seed)
  const [rttMinMs, rttMaxMs] = values.rtt.split('-').map(Number) as [number, number]
  if (sizes.some(n => !Number.isInteger(n) || n < 10) || !(jobs > 0) || !Number.isFinite(seed) || !(rttMinMs >= 0 && rttMaxMs >= rttMinMs)) {
    throw new Error('bad options: --sizes N,N (≥ 10) --jobs N (> 0) --seed N --rtt MIN-MAX')
  }
  let inputs: Inputs = MEASURED
  if (values.inputs != null) {
    const m = JSON.parse(readFileSync(values.inputs, 'utf8'))
    inputs = { gossipHopMs: m.gossipHop1Ms.p50, cpuPerGossipTransmissionMs: m.cpuPerGossipTransmissionMs, bidArrivalMs: m.bidArrivalMs.p50, bidArrivalOptimisticMs: m.bidArrivalOptimisticMs.p50, ed25519VerifyMs: m.ed25519VerifyMs, cpuPerBidRoundTripMs: m.cpuPerBidRoundTripMs, newConnBidMs: m.newConnBidMs.p50, bytes: m.bytes }
  }
  const out: Array<{ name: string, result: SimResult }> = []
  if (!values.json) {
    process.stdout.write(`DistStream scale model: seed ${seed}, ${jobs} jobs per cell, WAN RTT ${rttMinMs}-${rttMaxMs} ms, inputs ${JSON.stringify(inputs)}\n\n`)
    process.stdout.write(HEADER.join('\n') + '\n')
  }
  for (const nodes of sizes) {
    for (const s of SCENARIOS.filter(x => values.only == null || x.name.includes(values.only))) {
      const result = simulate({ ...s.opts, nodes, jobs, seed, rttMinMs, rttMaxMs, inputs })
      out.push({ name: s.name, result })
      if (!values.json) process.stdout.write(row(s.name, result) + '\n')
    }
  }
  if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n')
}

main().catch((err) => { process.stderr.write(`sim: ${err?.stack ?? String(err)}\n`); process.exitCode = 1 })
