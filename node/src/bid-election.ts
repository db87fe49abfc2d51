import { biddersFor, DEFAULT_BID_K, shouldBid } from '@diststream/scheduler'
import type { PresenceService } from '@diststream/p2p'
import type { JobAnnounce } from '@diststream/protocol'

/**
 * The worker's side of bid throttling (docs/scale.md): on the n-th announce
 * of a job, bid only if this worker is among the `biddersFor(k, n, free)`
 * free workers (itself included, as presence sees them) that rank first for
 * the job by rendezvous hashing. In a network of a few workers (up to 2k free)
 * every free one bids; in a large one a job draws about k bids, not one per
 * worker.
 */
export function bidElection (self: string, presence: Pick<PresenceService, 'withRole'>, k = DEFAULT_BID_K): (job: JobAnnounce) => boolean {
  const heard = new Map<string, number>()
  return (job) => {
    const n = (heard.get(job.jobId) ?? 0) + 1
    heard.set(job.jobId, n)
    if (heard.size > 1000) heard.delete(heard.keys().next().value!)
    const freeWorkers = presence.withRole('worker').filter(p => p.activeJobs < p.maxJobs).map(p => p.peerId)
    // Itself counted as free even when presence lags behind (it has a slot, or it would not ask).
    const free = new Set([...freeWorkers, self]).size
    return shouldBid({ self, jobId: job.jobId, freeWorkers, k: biddersFor(k, n, free) })
  }
}
