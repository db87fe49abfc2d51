import { comparePictures } from '@diststream/media'
import { AttemptInvalidError, judgePictures, PICTURE_MIN_DB } from '@diststream/scheduler'
import type { AttemptOutput } from '../transcode-client.js'
import type { IngestContext } from '../types.js'
import type { JobAnnounce } from '@diststream/protocol'
import type { Logger } from 'pino'

export interface ProbationCheckDeps {
  ctx: Pick<IngestContext, 'store' | 'ffmpeg' | 'metrics'>
  log: Logger
  /** Where the segment's MPEG-TS cut is stored (`source`, or SOURCE_TS for CMAF). */
  sourceTsName: string
}

/**
 * The check of a result from a worker on probation (security review H1), before the segment is
 * stored and announced: every rendition is compared with the source, every frame, on a small
 * gray downscale (`comparePictures`, one pinned ffmpeg). A rendition whose worst frame is under
 * {@link PICTURE_MIN_DB} is not a transcode of this segment: the attempt fails as invalid
 * ({@link AttemptInvalidError}: the worker's worst offence) and the job goes to the next bidder.
 * A check that cannot run fails the attempt as an error: unchecked output is never served.
 * Counted in `diststream_probation_checks_total{verdict}`.
 */
export async function checkOnProbation (deps: ProbationCheckDeps, job: JobAnnounce, out: AttemptOutput, signal: AbortSignal): Promise<void> {
  const { ctx, log } = deps
  const rungs = new Map(job.ladder.map(r => [r.name, r]))
  const source = ctx.store.files.path(job.streamId, deps.sourceTsName, job.seq)
  let worst: number[]
  try {
    const scores = await comparePictures(
      out.renditions.map(r => ({ file: r.file, width: rungs.get(r.record.name)?.width ?? r.record.width, height: rungs.get(r.record.name)?.height ?? r.record.height })),
      { file: source, width: job.width, height: job.height },
      { ffmpegPath: ctx.ffmpeg.ffmpeg, durationSec: job.durationMs / 1000, signal }
    )
    worst = scores.map(s => s.worstDb)
  } catch (err: any) {
    // Lost a hedge race or the session ended: nothing was judged.
    if (signal.aborted) throw err
    ctx.metrics.probationChecks.inc({ verdict: 'error' })
    log.warn({ seq: job.seq, worker: out.worker, err: err?.message }, 'probation check could not run; the result is not served')
    throw new Error(`probation check failed: ${String(err?.message ?? err)}`)
  }
  const verdict = judgePictures(worst)
  ctx.metrics.probationChecks.inc({ verdict })
  const detail = out.renditions.map((r, i) => `${r.record.name} ${worst[i]!.toFixed(1)} dB`).join(', ')
  if (verdict === 'bad') log.warn({ seq: job.seq, worker: out.worker, worstDb: worst }, 'probation check: not a transcode of the source; refused')
  else log.debug({ seq: job.seq, worker: out.worker, worstDb: worst }, 'probation check passed')
  if (verdict === 'bad') throw new AttemptInvalidError(`probation check: not a transcode of the source (worst frame: ${detail}; floor ${PICTURE_MIN_DB} dB)`)
}
