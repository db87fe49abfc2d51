import { join } from 'node:path'
import { MAX_INDEX_SEGMENTS } from '@diststream/protocol'
import type { PublishSession, SessionOptions } from './session/session.js'
import type { Store, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'

export interface RecoveryDeps {
  store: Store
  logger: Logger
  newSession: (rec: StreamRecord, input: string, workDir: string, opts: SessionOptions) => PublishSession
  /** Sessions finishing pending segments (the ingest kills them when it stops). */
  recovering: Set<PublishSession>
  announce: (rec: StreamRecord) => Promise<void>
}

/**
 * Segments the last run cut but never finished (it was killed): transcode
 * and announce them now, in order, so edges get no hole where it died. Runs
 * in the background; each stream's recovery session is in `recovering` until done.
 */
export async function recoverPending (deps: RecoveryDeps): Promise<void> {
  const { store, logger } = deps
  for (const rec of await store.streams.list()) {
    const pending = (await store.segments.recent(rec.id, MAX_INDEX_SEGMENTS)).filter(x => x.pending === true)
    if (pending.length === 0) continue
    logger.info({ streamId: rec.id, seqs: pending.map(p => p.seq) }, 'recovering segments left pending')
    const session = deps.newSession(rec, '', join(store.dataDir, 'incoming', rec.id, 'recovery'), {})
    deps.recovering.add(session)
    // Segments are recovered side by side; the stream is announced once all are done.
    void Promise.allSettled(pending.map(async p => { await session.recover(p) }))
      .then(async (results) => {
        for (const r of results) if (r.status === 'rejected') logger.warn({ err: r.reason, streamId: rec.id }, 'could not recover a pending segment')
        await deps.announce(await store.streams.get(rec.id) ?? rec)
      })
      .catch(err => { logger.warn({ err, streamId: rec.id }, 'announcing a recovered stream failed') })
      .finally(() => deps.recovering.delete(session))
  }
}
