/**
 * Estimates how long this worker takes to transcode a segment, from its own
 * recent history: an exponentially weighted ratio of wall time to media time
 * per rung, plus a fixed per-process cost. Before any history it assumes
 * `initialRatio` (set from calibration when available).
 */
export class Estimator {
  private ratio: number
  private readonly fixedMs: number

  constructor (init: { initialRatio?: number, fixedMs?: number, alpha?: number } = {}) {
    this.ratio = init.initialRatio ?? 0.25
    this.fixedMs = init.fixedMs ?? 300
    this.alpha = init.alpha ?? 0.3
  }

  private readonly alpha: number

  /** Expected wall ms for `durationMs` of media into `rungs` renditions while `active` other jobs run. */
  estimate (durationMs: number, rungs: number, active: number): number {
    const work = this.fixedMs + this.ratio * durationMs * Math.max(1, rungs)
    return Math.round(work * (1 + active))
  }

  observe (durationMs: number, rungs: number, elapsedMs: number, concurrent: number): void {
    if (durationMs <= 0) return
    const ratio = Math.max(0, (elapsedMs / Math.max(1, concurrent) - this.fixedMs)) / (durationMs * Math.max(1, rungs))
    this.ratio = this.ratio * (1 - this.alpha) + ratio * this.alpha
  }
}
