import { exponential, retry } from '@diststream/util'
import { HISTORY_FILL_MAX_PAUSE_MS, HISTORY_FILL_ATTEMPTS, HISTORY_FILL_BASE_MS } from './constants.js'
import type { Logger } from 'pino'

/**
 * A followed stream whose INDEX could not be had when it was first followed
 * (a busy ingest): the INDEX is asked for again in the background, with a
 * growing pause ({@link HISTORY_FILL_BASE_MS} doubling up to
 * {@link HISTORY_FILL_MAX_PAUSE_MS}, {@link HISTORY_FILL_ATTEMPTS} tries:
 * about 10 minutes), so the edge's DVR history still gets the segments from
 * before it joined. `load` takes the INDEX in; stops when `signal` fires.
 */
export async function fillHistoryInBackground (load: () => Promise<void>, opts: { signal: AbortSignal, log: Pick<Logger, 'debug' | 'info' | 'warn'>, streamId: string, baseMs?: number, maxPauseMs?: number, attempts?: number }): Promise<void> {
  try {
    await retry(load, {
      attempts: opts.attempts ?? HISTORY_FILL_ATTEMPTS,
      delayMs: exponential(opts.baseMs ?? HISTORY_FILL_BASE_MS, opts.maxPauseMs ?? HISTORY_FILL_MAX_PAUSE_MS),
      signal: opts.signal,
      onRetry: (err: any, n) => { opts.log.debug({ err: err?.message, streamId: opts.streamId, attempt: n }, 'index still not had; the DVR history waits') }
    })
    opts.log.info({ streamId: opts.streamId }, 'index loaded late: DVR history filled')
  } catch (err: any) {
    if (opts.signal.aborted) return
    opts.log.warn({ err: err?.message, streamId: opts.streamId }, 'index never loaded: the DVR history starts at the first segment heard')
  }
}
