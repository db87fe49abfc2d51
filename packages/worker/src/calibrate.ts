import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ladderForSource, Transcoder } from '@diststream/media'
import { fitCostLine, framePixels } from './estimator.js'
import type { CostModel } from './estimator.js'
import type { RungSpec } from '@diststream/media'

const run = promisify(execFile)

/** Bump when the calibration method changes: older cache files are then ignored. */
export const CALIBRATION_VERSION = 1
export const CALIBRATION_FILE = 'calibration.json'
/** Clip lengths, s: two lengths separate the fixed per-run cost from the per-second cost. */
export const CALIBRATION_CLIPS_SEC: readonly number[] = [0.5, 2]
const FPS = 30

/** One timed run of the calibration. */
export interface CalibrationRun {
  durationMs: number
  elapsedMs: number
}

/** What a worker measured about itself; cached in the data dir under {@link calibrationKey}. */
export interface Calibration extends CostModel {
  key: string
  ffmpegVersion: string
  /** The encoder actually used (a GPU that failed during calibration leaves `libx264`). */
  encoder: string
  preset: string
  source: { width: number, height: number }
  /** The ladder fitted to the source, as transcoded. */
  ladder: RungSpec[]
  runs: CalibrationRun[]
  measuredAt: number
}

/** The cache key: recalibrate when the ffmpeg, the encoder, the preset or the ladder changes. */
export function calibrationKey (k: { ffmpegVersion: string, encoder: string, preset: string, ladder: readonly RungSpec[] }): string {
  const ladder = k.ladder.map(r => `${r.name}:${r.width}x${r.height}@${r.videoKbps}`).join(',')
  return `v${CALIBRATION_VERSION}|ffmpeg ${k.ffmpegVersion}|${k.encoder}|${k.preset}|${ladder}`
}

/** Segments per second and realtime factor of one calibration run (for `diststream-node bench`). */
export function throughput (r: CalibrationRun, segmentMs: number): { segmentsPerSec: number, realtime: number } {
  const perSegment = r.elapsedMs * (segmentMs / r.durationMs)
  return { segmentsPerSec: 1000 / perSegment, realtime: r.durationMs / r.elapsedMs }
}

/** The calibration source size: the ladder's tallest rung (16:9), so every rung is transcoded. */
export function calibrationSource (ladder: readonly RungSpec[]): { width: number, height: number } {
  const top = [...ladder].sort((a, b) => b.height - a.height)[0]
  if (top == null) throw new RangeError('calibration needs a ladder with at least one rung')
  return { width: Math.round(top.height * 16 / 9 / 2) * 2, height: top.height }
}

/** Writes a generated MPEG-TS clip like an ingest segment: testsrc2 + AAC, one GOP, IDR first. */
export async function makeCalibrationClip (ffmpegPath: string, file: string, size: { width: number, height: number }, seconds: number, signal?: AbortSignal): Promise<void> {
  const gop = Math.max(1, Math.round(seconds * FPS))
  await run(ffmpegPath, [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${size.width}x${size.height}:rate=${FPS}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-bf', '2',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
    '-b:v', `${Math.round(size.width * size.height * FPS * 0.1 / 1000)}k`,
    '-c:a', 'aac', '-ar', '48000', '-ac', '2',
    '-f', 'mpegts', file
  ], { signal })
}

export interface CalibrateOptions {
  ffmpegPath: string
  ffmpegVersion: string
  /** The ladder to calibrate (the node's `--ladder`, before fitting). */
  ladder: readonly RungSpec[]
  /** Runs the transcodes (its hardware encoder, if any, is what gets measured). */
  transcoder: Transcoder
  preset: string
  /** Scratch directory (a subdirectory is created and removed). */
  workDir: string
  /** Clip lengths, seconds (default {@link CALIBRATION_CLIPS_SEC}). */
  clipsSec?: readonly number[]
  /** Transcodes per clip; the fastest counts (default 1; more resists a busy machine). */
  repeats?: number
  /** Clip size (default {@link calibrationSource} of the ladder). */
  source?: { width: number, height: number }
  signal?: AbortSignal
}

/**
 * Measures this machine: transcodes generated clips of each length in {@link CALIBRATION_CLIPS_SEC}
 * into the ladder (fitted to a source the size of its tallest rung), one at a time, and fits the
 * cost line. Takes about 1.5× the time of one 2 s segment's transcode.
 */
export async function calibrate (opts: CalibrateOptions): Promise<Calibration> {
  const source = opts.source ?? calibrationSource(opts.ladder)
  const ladder = ladderForSource(opts.ladder, source.width, source.height)
  if (ladder.length === 0) throw new RangeError(`no rung of the ladder fits a ${source.width}x${source.height} source`)
  await mkdir(opts.workDir, { recursive: true })
  const dir = await mkdtemp(join(opts.workDir, 'calibrate-'))
  try {
    const runs: CalibrationRun[] = []
    let encoder = opts.transcoder.encoder
    for (const [i, sec] of (opts.clipsSec ?? CALIBRATION_CLIPS_SEC).entries()) {
      const clip = join(dir, `clip${i}.ts`)
      await makeCalibrationClip(opts.ffmpegPath, clip, source, sec, opts.signal)
      let best = Infinity
      for (let k = 0; k < Math.max(1, opts.repeats ?? 1); k++) {
        const t0 = performance.now()
        const r = await opts.transcoder.transcode({ input: clip, outDir: join(dir, `out${i}-${k}`), ladder, fpsMilli: FPS * 1000, durationSec: sec, signal: opts.signal })
        best = Math.min(best, performance.now() - t0)
        encoder = r.encoder
      }
      runs.push({ durationMs: Math.round(sec * 1000), elapsedMs: Math.max(1, Math.round(best)) })
    }
    const line = fitCostLine(runs)
    return {
      key: calibrationKey({ ffmpegVersion: opts.ffmpegVersion, encoder, preset: opts.preset, ladder: opts.ladder }),
      ffmpegVersion: opts.ffmpegVersion,
      encoder,
      preset: opts.preset,
      source,
      ladder,
      runs,
      measuredAt: Date.now(),
      fixedMs: Math.round(line.fixedMs),
      msPerMediaSec: Math.round(line.msPerMediaSec * 10) / 10,
      pixelsPerFrame: framePixels(source, ladder),
      fps: FPS
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The cached calibration if its key matches, else undefined (a missing or unreadable file too). */
export async function readCalibration (dataDir: string, key: string): Promise<Calibration | undefined> {
  try {
    const c = JSON.parse(await readFile(join(dataDir, CALIBRATION_FILE), 'utf8')) as Partial<Calibration>
    const ok = c.key === key && [c.fixedMs, c.msPerMediaSec, c.pixelsPerFrame, c.fps].every(v => typeof v === 'number' && Number.isFinite(v) && v >= 0) && (c.msPerMediaSec ?? 0) > 0 && (c.pixelsPerFrame ?? 0) > 0 && (c.fps ?? 0) > 0
    return ok ? c as Calibration : undefined
  } catch {
    // No cached calibration, or an unreadable one: calibrate again.
    return undefined
  }
}

/** Writes the calibration atomically (temp file + rename). */
export async function writeCalibration (dataDir: string, c: Calibration): Promise<void> {
  await mkdir(dataDir, { recursive: true })
  const tmp = join(dataDir, `${CALIBRATION_FILE}.${process.pid}.tmp`)
  await writeFile(tmp, JSON.stringify(c, null, 2) + '\n')
  await rename(tmp, join(dataDir, CALIBRATION_FILE))
}

/**
 * The cached calibration for this ffmpeg, encoder, preset and ladder, or a fresh one (then
 * cached). A calibration whose encoder differs from the one asked for (the GPU failed during
 * calibration) is cached under its own key and returned.
 */
export async function loadOrCalibrate (opts: CalibrateOptions & { dataDir: string }): Promise<{ calibration: Calibration, cached: boolean }> {
  const key = calibrationKey({ ffmpegVersion: opts.ffmpegVersion, encoder: opts.transcoder.encoder, preset: opts.preset, ladder: opts.ladder })
  const cached = await readCalibration(opts.dataDir, key)
  if (cached != null) return { calibration: cached, cached: true }
  const calibration = await calibrate(opts)
  await writeCalibration(opts.dataDir, calibration)
  return { calibration, cached: false }
}
