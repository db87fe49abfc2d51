/**
 * How long this worker takes to transcode a job, from its calibration and its load. Pure: no
 * clock, no I/O; the worker feeds it jobs, its load and its observed transcode times.
 *
 * Cost model (one ffmpeg run per segment):
 *
 * ```
 * pixels(job)  = DECODE_WEIGHT × srcW × srcH + Σ rungs (w × h)     per frame
 * work(job)    = pixels(job) × fps × duration                       pixels to process
 * service(job) = fixedMs + msPerMediaSec × duration × work(job) / work(calibration clip per s)
 * estimate     = service × correction × max(1, (running + 1) / parallelism)
 * ```
 *
 * `fixedMs` (process start, setup, flush) and `msPerMediaSec` come from two calibration runs
 * of different length; `correction` is an exponentially weighted ratio of observed to predicted
 * times (the machine may be busier, or faster, than when it was calibrated); `running` counts
 * the jobs running now plus the slots promised in outstanding bids; `parallelism` is how many
 * jobs the machine runs at once without slowing each down (1 for x264, which already uses every
 * core; more for a hardware encoder).
 */

/** Bid.estimate_ms is a uint32. */
export const MAX_ESTIMATE_MS = 0xffff_ffff

/** Relative cost of decoding (and scaling from) one source pixel vs encoding one output pixel. */
export const DECODE_WEIGHT = 0.25

/** A fitted cost model: what calibration measures. */
export interface CostModel {
  /** Per-run cost independent of duration (spawn, setup, flush), ms. */
  fixedMs: number
  /** Wall ms per second of media for the reference workload below. */
  msPerMediaSec: number
  /** Reference workload: {@link framePixels} of the calibration clip and its ladder. */
  pixelsPerFrame: number
  /** Reference frame rate (frames per second). */
  fps: number
}

/**
 * The built-in guess used before (or without) calibration: libx264 veryfast on the 2-core
 * machines the project was measured on, 720p source to 720p/480p/360p, 0.85 s per 2 s segment
 * (see MEDIA-NOTES.md).
 */
export const DEFAULT_COST_MODEL: CostModel = Object.freeze({
  fixedMs: 300,
  msPerMediaSec: 275,
  pixelsPerFrame: framePixels({ width: 1280, height: 720 }, [{ width: 1280, height: 720 }, { width: 854, height: 480 }, { width: 640, height: 360 }]),
  fps: 30
})

export interface Size { width: number, height: number }

/** The job, as a worker sees it in a JobAnnounce. */
export interface JobShape {
  durationMs: number
  /** Source size; 0 when unknown (the largest rung is used instead). */
  width: number
  height: number
  /** Frames per second × 1000; 0 when unknown (the reference rate is used). */
  fpsMilli: number
  ladder: readonly Size[]
}

/** Pixels processed per frame: the source decoded (weighted) plus every rung encoded. */
export function framePixels (source: Size, ladder: readonly Size[]): number {
  const out = ladder.reduce((sum, r) => sum + Math.max(0, r.width) * Math.max(0, r.height), 0)
  return DECODE_WEIGHT * Math.max(0, source.width) * Math.max(0, source.height) + out
}

/**
 * Fits `elapsed = fixedMs + msPerMediaSec × seconds` to calibration runs (least squares).
 * With one point (or equal durations) the fixed cost is taken as 0. When noise gives a negative
 * fixed cost or slope, the longest run alone sets the slope (fixed cost 0); the fixed cost is
 * clamped to the shortest run, so noisy runs still give a usable model.
 */
export function fitCostLine (points: ReadonlyArray<{ durationMs: number, elapsedMs: number }>): { fixedMs: number, msPerMediaSec: number } {
  const ps = points.filter(p => p.durationMs > 0 && Number.isFinite(p.elapsedMs) && p.elapsedMs > 0)
  if (ps.length === 0) throw new RangeError('fitCostLine needs at least one run with a positive duration and time')
  const xs = ps.map(p => p.durationMs / 1000)
  const ys = ps.map(p => p.elapsedMs)
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0)
  let slope = sxx > 0 ? xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / sxx : my / mx
  let fixed = sxx > 0 ? my - slope * mx : 0
  const shortest = Math.min(...ys)
  if (fixed < 0 || slope <= 0) {
    // Noise (a busy machine) made the line nonsense: trust the longest run, the one most like a
    // real segment, and attribute all of it to media time.
    const longest = ps.reduce((a, b) => (b.durationMs > a.durationMs ? b : a))
    fixed = 0
    slope = longest.elapsedMs / (longest.durationMs / 1000)
  }
  fixed = Math.min(fixed, shortest)
  return { fixedMs: fixed, msPerMediaSec: Math.max(slope, 1e-3) }
}

/** Service time of `job` on an idle machine, before correction, ms. */
export function serviceMs (model: CostModel, job: JobShape): number {
  const durationSec = Math.max(0, job.durationMs) / 1000
  const top = job.ladder.reduce<Size>((a, r) => (r.width * r.height > a.width * a.height ? r : a), { width: 0, height: 0 })
  const source = job.width > 0 && job.height > 0 ? { width: job.width, height: job.height } : top
  const fps = job.fpsMilli > 0 ? job.fpsMilli / 1000 : model.fps
  const work = framePixels(source, job.ladder) * fps
  const reference = Math.max(1, model.pixelsPerFrame * model.fps)
  return model.fixedMs + model.msPerMediaSec * durationSec * (work / reference)
}

/** How much slower each job runs when `running` others share the machine. */
export function loadFactor (running: number, parallelism: number): number {
  const p = parallelism > 0 ? parallelism : 1
  return Math.max(1, (Math.max(0, running) + 1) / p)
}

export interface EstimatorInit {
  model?: CostModel
  /** Jobs run at once without slowing each other (default 1: x264 uses every core). */
  parallelism?: number
  /** Weight of a new observation in the correction factor (default 0.3). */
  alpha?: number
}

/** The load a bid is made under. */
export interface Load {
  /** Transcodes running now. */
  active: number
  /** Slots promised in outstanding bids (queued work). */
  pending: number
}

export class Estimator {
  #model: CostModel
  #correction = 1
  /** Jobs run at once without slowing each other; lowered when a GPU worker falls back to the CPU. */
  parallelism: number
  readonly #alpha: number

  constructor (init: EstimatorInit = {}) {
    this.#model = init.model ?? DEFAULT_COST_MODEL
    this.parallelism = init.parallelism ?? 1
    this.#alpha = init.alpha ?? 0.3
  }

  get model (): CostModel { return this.#model }
  /** Observed ÷ predicted, smoothed; 1 until the first observation. */
  get correction (): number { return this.#correction }

  /** Replace the cost model (a finished calibration); the correction starts over. */
  setModel (model: CostModel): void {
    this.#model = model
    this.#correction = 1
  }

  /** Expected wall ms from the segment's arrival to renditions sent, if bid now under `load`. */
  estimate (job: JobShape, load: Load = { active: 0, pending: 0 }): number {
    const ms = serviceMs(this.#model, job) * this.#correction * loadFactor(load.active + load.pending, this.parallelism)
    return Math.min(MAX_ESTIMATE_MS, Math.max(1, Math.round(ms)))
  }

  /** Feed back one finished job: `concurrent` jobs (itself included) ran while it did. */
  observe (job: JobShape, elapsedMs: number, concurrent: number): void {
    const predicted = serviceMs(this.#model, job) * loadFactor(Math.max(1, concurrent) - 1, this.parallelism)
    if (!(predicted > 0) || !(elapsedMs > 0)) return
    const ratio = Math.min(5, Math.max(0.2, elapsedMs / predicted))
    this.#correction = Math.min(5, Math.max(0.2, this.#correction * (1 - this.#alpha) + ratio * this.#alpha))
  }
}
