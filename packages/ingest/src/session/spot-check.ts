import { measurePsnr } from '@diststream/media'
import { AttemptInvalidError, judgeSpotCheck } from '@diststream/scheduler'
import { transcodeOn } from '../transcode-client.js'
import type { AttemptOutput } from '../transcode-client.js'
import type { IngestContext } from '../types.js'
import type { JobAnnounce } from '@diststream/protocol'
import type { Bid } from '@diststream/scheduler'
import type { Logger } from 'pino'

/** A spot check may take this long at least (ms): a second transcode and two PSNR measurements on a loaded machine. */
export const SPOT_CHECK_MIN_TIMEOUT_MS = 20_000
/** …or this many segment durations, when longer. */
export const SPOT_CHECK_DURATIONS = 10

export interface SpotCheckDeps {
  ctx: IngestContext
  log: Logger
  /** The session's: a killed session abandons its checks. */
  signal: AbortSignal
  /** Where the segment's MPEG-TS cut is stored (`source`, or SOURCE_TS for CMAF). */
  sourceTsName: string
}

/**
 * Runs an already-done job again on a second worker and compares both
 * against the source by PSNR on the smallest rung, every frame on a small
 * downscale (cheap, and enough to tell a transcode of this picture from
 * anything else). The worker that
 * falls out of line loses reputation; the segment already served stays.
 */
export async function runSpotCheck (deps: SpotCheckDeps, job: JobAnnounce, bytes: Uint8Array, first: string, bid: Bid): Promise<void> {
  const { ctx, log } = deps
  const rung = [...job.ladder].sort((a, b) => a.width * a.height - b.width * b.height)[0]!
  const source = ctx.store.files.path(job.streamId, deps.sourceTsName, job.seq)
  const firstFile = ctx.store.files.path(job.streamId, rung.name, job.seq)
  const signal = AbortSignal.any([deps.signal, AbortSignal.timeout(Math.max(SPOT_CHECK_MIN_TIMEOUT_MS, job.durationMs * SPOT_CHECK_DURATIONS))])
  let out: AttemptOutput | undefined
  let verdict: string
  try {
    // The same job id: workers take only jobs they bid on, and this one did.
    out = await transcodeOn(ctx, bid.peerId, job, bytes, signal, 'spot')
    const second = out.renditions.find(r => r.record.name === rung.name)!.file
    // Whole segment, worst frame (review H1): a picture injected after the first frames is caught too.
    const opts = { ffmpegPath: ctx.ffmpeg.ffmpeg, width: rung.width, height: rung.height, referenceWidth: job.width, referenceHeight: job.height, durationSec: job.durationMs / 1000, signal }
    const [a, b] = await Promise.all([measurePsnr(firstFile, source, opts), measurePsnr(second, source, opts)])
    verdict = judgeSpotCheck(a, b)
    log.info({ seq: job.seq, first, second: bid.peerId, psnr: [a, b], verdict }, 'spot check')
    if (verdict === 'first-bad' || verdict === 'both-bad') ctx.workers.penalise(first)
    if (verdict === 'second-bad' || verdict === 'both-bad') ctx.workers.penalise(bid.peerId)
  } catch (err: any) {
    if (deps.signal.aborted) return
    // The checker's own failure is its fault, not the first worker's: bad output, or no answer in time.
    verdict = err instanceof AttemptInvalidError ? 'second-bad' : 'inconclusive'
    if (verdict === 'second-bad') ctx.workers.penalise(bid.peerId)
    else if (signal.aborted) ctx.workers.observe(bid.peerId, { outcome: 'timeout' })
    log.info({ seq: job.seq, first, second: bid.peerId, err: err?.message, verdict }, 'spot check')
  } finally {
    await out?.discard()
  }
  ctx.metrics.spotChecks.inc({ verdict })
}
