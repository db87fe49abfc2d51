import { LifecycleSweeper } from '@diststream/scheduler'
import { INGEST_DEFAULTS } from './constants.js'
import { lifecycleRecord } from './stream-state.js'
import type { IngestInit } from './types.js'
import type { Store } from '@diststream/store'
import type { Logger } from 'pino'

export interface StreamLifecycleDeps {
  policy: NonNullable<IngestInit['lifecycle']>
  store: Store
  logger: Logger
  /** Ends a stale stream as if deleted. */
  end: (id: string) => Promise<void>
}

/**
 * The stream lifecycle on the ingest: a stale stream is ended as if deleted;
 * an ended one past the DVR retention loses its record, segment index and files.
 */
export function createLifecycleSweeper (deps: StreamLifecycleDeps): LifecycleSweeper {
  const { store, logger } = deps
  return new LifecycleSweeper({
    policy: deps.policy,
    everyMs: deps.policy.sweepMs ?? INGEST_DEFAULTS.lifecycleSweepMs,
    records: async () => (await store.streams.list()).map(lifecycleRecord),
    apply: async (a) => {
      if (a.action === 'end') {
        logger.info({ streamId: a.id, reason: a.reason }, 'ending stream')
        await deps.end(a.id)
        return
      }
      if (a.action !== 'remove') return // 'unfollow' is an edge's (the ingest tracks no viewers)
      const rec = await store.streams.get(a.id)
      if (rec == null || rec.state !== 'ended') return
      await store.streams.delete(a.id)
      await store.segments.deleteStream(a.id)
      await store.files.removeStream(a.id)
      logger.info({ streamId: a.id }, 'stream removed after its DVR retention')
    },
    onError: (err, a) => { logger.warn({ err, streamId: a?.id }, 'lifecycle action failed') }
  })
}
