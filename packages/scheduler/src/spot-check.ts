/** Verdict of a spot check that ran one segment on two workers. */
export type SpotVerdict = 'agree' | 'first-bad' | 'second-bad' | 'both-bad'

export interface SpotCheckOptions {
  /** Below this PSNR against the source a rendition is not a transcode of it (default 22 dB). */
  minDb?: number
  /** A rendition this much worse than the other worker's is suspect... (default 10 dB) */
  marginDb?: number
}

/**
 * Judges a spot check from each worker's PSNR against the source (same rung,
 * same frames). Encoders differ by a few dB, so only a wide gap or an
 * absolute floor counts: a worker is "bad" when it is under `minDb`, or more
 * than `marginDb` under the other worker while that one is above `minDb`.
 */
export function judgeSpotCheck (first: number, second: number, opts: SpotCheckOptions = {}): SpotVerdict {
  const min = opts.minDb ?? 22
  const margin = opts.marginDb ?? 10
  // Above ~50 dB pictures are visually identical; a near-copy must not make an honest encode look bad.
  const cap = (x: number): number => Math.min(x, 50)
  const bad = (x: number, other: number): boolean => !(x >= min) || (other >= min && cap(x) + margin < cap(other))
  const a = bad(first, second)
  const b = bad(second, first)
  return a && b ? 'both-bad' : a ? 'first-bad' : b ? 'second-bad' : 'agree'
}

/** Whether to spot-check this job: a Bernoulli draw at `rate` (clamped to [0, 1]). */
export function shouldSpotCheck (rate: number, random: () => number = Math.random): boolean {
  return rate > 0 && random() < Math.min(1, rate)
}
