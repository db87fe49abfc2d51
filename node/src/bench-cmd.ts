import { join } from 'node:path'
import { DEFAULT_PRESET, ffmpegVersion, resolveFfmpeg } from '@diststream/media'
import { calibrate, calibrationSource, throughput, writeCalibration } from '@diststream/worker'
import { pino } from 'pino'
import { toConfig } from './config.js'
import { setUpEncoder } from './encoder.js'
import type { Calibration } from '@diststream/worker'
import type { RungSpec } from '@diststream/media'

const REPEATS = 3

/** One row of `diststream-node bench`. */
export interface BenchRow {
  rungs: string
  segmentsPerSec: number
  realtime: number
  segmentMs: number
  fixedMs: number
  msPerMediaSec: number
}

/** The rung sets measured: the whole ladder, then each rung alone (same source). */
export function rungSets (ladder: readonly RungSpec[]): RungSpec[][] {
  return ladder.length > 1 ? [[...ladder], ...ladder.map(r => [r])] : [[...ladder]]
}

export function benchRow (c: Calibration, segmentMs: number): BenchRow {
  const run = c.runs.reduce((a, b) => (b.durationMs > a.durationMs ? b : a))
  const t = throughput(run, segmentMs)
  return { rungs: c.ladder.map(r => r.name).join(','), segmentsPerSec: t.segmentsPerSec, realtime: t.realtime, segmentMs: run.elapsedMs * segmentMs / run.durationMs, fixedMs: c.fixedMs, msPerMediaSec: c.msPerMediaSec }
}

export function formatBench (rows: BenchRow[]): string {
  const head = ['rungs', 'segments/s', 'realtime', 'per segment', 'fixed', 'per media s']
  const body = rows.map(r => [r.rungs, r.segmentsPerSec.toFixed(2), `${r.realtime.toFixed(2)}×`, `${Math.round(r.segmentMs)} ms`, `${r.fixedMs} ms`, `${r.msPerMediaSec} ms`])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i]!.length)))
  return [head, ...body].map(cols => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')
}

/**
 * `diststream-node bench`: runs this machine's worker calibration (with `--gpu`, on the hardware
 * encoder found) for the ladder and each of its rungs, prints segments per second and the
 * realtime factor, and stores the whole-ladder calibration in the data dir for the worker.
 */
export async function runBenchCommand (raw: Record<string, unknown>): Promise<void> {
  const config = toConfig({ ...raw, role: 'worker' })
  const logger = pino({ level: config.logLevel === 'info' ? 'error' : config.logLevel })
  const ff = resolveFfmpeg()
  const version = await ffmpegVersion(ff.ffmpeg)
  const { transcoder, detection } = await setUpEncoder(config, ff.ffmpeg, logger)
  const source = calibrationSource(config.ladder)
  const segmentMs = config.segmentSeconds * 1000
  const out = (s: string): void => { process.stdout.write(s + '\n') }
  out(`diststream-node bench: ffmpeg ${version} (${ff.ffmpeg}), encoder ${transcoder.encoder} (${transcoder.hwKind}), preset ${DEFAULT_PRESET}`)
  if (detection != null) out(`--gpu: ${detection}`)
  out(`source ${source.width}x${source.height} 30 fps testsrc2 + AAC; clips of 0.5 s and ${config.segmentSeconds} s, best of ${REPEATS}; one transcode at a time`)
  const rows: BenchRow[] = []
  for (const set of rungSets(config.ladder)) {
    const c = await calibrate({ ffmpegPath: ff.ffmpeg, ffmpegVersion: version, ladder: set, source, transcoder, preset: DEFAULT_PRESET, workDir: join(config.dataDir, 'work'), clipsSec: [0.5, config.segmentSeconds], repeats: REPEATS })
    if (set.length === config.ladder.length && config.segmentSeconds === 2) await writeCalibration(config.dataDir, c)
    rows.push(benchRow(c, segmentMs))
  }
  out('')
  out(formatBench(rows))
  out('')
  out(`segments/s and realtime: one ${config.segmentSeconds} s segment at a time (realtime = media seconds per wall second); fixed and per media s: the worker's cost model`)
  if (transcoder.fellBack) out('note: the hardware encoder failed during the bench; the figures are libx264\'s')
}
