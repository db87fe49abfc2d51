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
 *
 * Only workers we hold a connection to, or whose last presence came from
 * themselves (not relayed), are counted (review M1): anyone can sign relayed
 * presences for thousands of fresh keys, and counted as free workers they
 * would push the real workers out of every election. The cost: a worker's
 * view is its neighbourhood, so in a network much larger than a node's
 * connections more than k workers bid (docs/scale.md).
 */
export function bidElection (self: string, presence: Pick<PresenceService, 'withRole'>, k = DEFAULT_BID_K): (job: JobAnnounce) => boolean {
  const heard = new Map<string, number>()
  return (job) => {
    const n = (heard.get(job.jobId) ?? 0) + 1
    heard.set(job.jobId, n)
    if (heard.size > 1000) heard.delete(heard.keys().next().value!)
    const freeWorkers = presence.withRole('worker').filter(p => (p.connected || p.direct) && p.activeJobs < p.maxJobs).map(p => p.peerId)
    // Itself counted as free even when presence lags behind (it has a slot, or it would not ask).
    const free = new Set([...freeWorkers, self]).size
    return shouldBid({ self, jobId: job.jobId, freeWorkers, k: biddersFor(k, n, free) })
  }
}
