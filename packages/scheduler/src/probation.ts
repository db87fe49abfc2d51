import type { Bid } from './rank.js'

/**
 * Verified jobs a worker must have done before its output is served unchecked (security review
 * H1: fresh peer ids are free). Until then each of its results is compared with the source before
 * the segment is announced. Twenty is ~40 s of one live stream's jobs: an id that wants to inject
 * has to transcode honestly that long first, while the ingest pays one picture check per job
 * (~0.1 s CPU for a 360p source and its 240p rung). Past it, the sampled spot check still runs.
 */
export const PROBATION_JOBS = 20
/**
 * A worker whose decayed count of invalid output is at least this is an offender: back on
 * probation, and behind every clean bidder. One invalid result fades below it after one half-life
 * of the reputation book (10 min).
 */
export const OFFENDER_INVALID = 0.5
/**
 * Worst frame PSNR (dB, the 160x90 gray downscale of `comparePictures`) below which a rendition is
 * not a transcode of its source. Measured: honest encodes ≥ 27 dB (a noisy 720p source at
 * 150 kbit/s), usually 35–50; another picture, a solid colour or a caption over part of the
 * frames ≤ 20 dB.
 */
export const PICTURE_MIN_DB = 22

/** Where a worker stands with an ingest. */
export type Standing = 'proven' | 'probation' | 'offender'

/** What the standing is decided from: lifetime verified jobs, and the decayed invalid count. */
export interface StandingInput {
  totalOk: number
  invalid: number
}

/**
 * A worker never seen, or with fewer than `minJobs` verified jobs, is on probation; one caught
 * with invalid output recently ({@link OFFENDER_INVALID}) is an offender (also checked) whatever its
 * history; everyone else is proven.
 */
export function standingOf (r: StandingInput | undefined, minJobs = PROBATION_JOBS): Standing {
  if (r === undefined) return minJobs > 0 ? 'probation' : 'proven'
  if (r.invalid >= OFFENDER_INVALID) return 'offender'
  return r.totalOk < minJobs ? 'probation' : 'proven'
}

/** Whether output of a worker of this standing is checked against the source before it is served. */
export function checkedBeforeServing (s: Standing): boolean {
  return s !== 'proven'
}

/** The verdict of a probation check from each rendition's worst frame PSNR: any rendition under `minDb` fails it. */
export function judgePictures (worstDb: readonly number[], minDb = PICTURE_MIN_DB): 'pass' | 'bad' {
  return worstDb.length > 0 && worstDb.every(db => db >= minDb) ? 'pass' : 'bad'
}

/**
 * Orders dispatch candidates (`ordered[0]` the drawn winner, the rest ranked fallbacks; a new
 * array): the winner stays first unless it is an offender or suspended; then proven workers, then
 * workers on probation. Offenders and suspended workers follow (in that order) only when nobody
 * else bid: otherwise they are left out, so a job's few attempts go to clean bidders and then to a
 * new round of bids (where a busy honest worker may be free again), not to known liars. Each group
 * keeps its given order,
 * except that among those on probation (and among offenders) a better `reputation` goes first: an
 * honest newcomer with a few verified jobs is tried before fresh ids that merely claim to be faster.
 * A throwaway id that lost its check is so never again tried before an honest worker.
 */
export function orderByStanding (ordered: readonly Bid[], standing: (peerId: string) => Standing, suspended: (peerId: string) => boolean, reputation: (peerId: string) => number = () => 0): Bid[] {
  const group = (b: Bid): number => suspended(b.peerId) ? 3 : ({ proven: 0, probation: 1, offender: 2 } as const)[standing(b.peerId)]
  const [first, ...rest] = ordered
  if (first === undefined) return []
  const keepFirst = group(first) < 2
  const tail = keepFirst ? rest : ordered
  const rep = (b: Bid, g: number): number => (g === 1 || g === 2 ? reputation(b.peerId) : 0)
  const sorted = tail.map((b, i) => { const g = group(b); return { b, i, g, r: rep(b, g) } }).sort((x, y) => x.g - y.g || y.r - x.r || x.i - y.i).map(x => x.b)
  const all = keepFirst ? [first, ...sorted] : sorted
  return all.some(b => group(b) < 2) ? all.filter(b => group(b) < 2) : all
}
