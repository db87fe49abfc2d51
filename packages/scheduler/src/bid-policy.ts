import { createHash } from 'node:crypto'

/**
 * Bid throttling: who bids on a job, so a job draws a bounded number of bids
 * however large the network (docs/scale.md has the experiment behind it).
 *
 * Today every free worker that hears a job bids: O(N) bid streams per job
 * into one ingest. With this policy only the `k` free workers that rank first
 * for the job by rendezvous (highest-random-weight) hashing bid — the lowest
 * sha256(jobId, peerId) — and the ingest, which computes the same set from its
 * own presence table, closes the auction as soon as those bids are in. Every
 * worker runs the same deterministic rule, so no coordination is needed; each
 * free worker is elected with the same probability k / free (rendezvous
 * hashing, unlike XOR-closest, has no worker that owns a larger share of the
 * key space).
 *
 * Views differ a little (presence is a few seconds stale): a worker that
 * believes itself in the set bids, one that believes itself out stays quiet,
 * and the ingest's bid window bounds the wait for an elected worker that did
 * not bid. `k` a little above 1 absorbs that.
 *
 * Sharding ({@link shardOf}, {@link shardBits}) bounds the job gossip too: a
 * job goes to the topic of one shard of workers (a prefix of the workers' key
 * space), so the announce reaches ~`target` workers instead of all of them.
 *
 * @example
 * ```ts
 * // worker, on a JobAnnounce, with the free workers it knows from presence:
 * if (shouldBid({ self: myPeerId, jobId: job.jobId, freeWorkers, k: DEFAULT_BID_K })) sendBid(...)
 * // ingest, when opening the auction:
 * const expectedBids = electBidders({ jobId, freeWorkers, k: DEFAULT_BID_K }).length
 * ```
 */

/** Workers elected to bid per job by default. */
export const DEFAULT_BID_K = 4

/** Default number of workers per job shard. */
export const DEFAULT_SHARD_TARGET = 64

const CACHE_MAX = 100_000
const keys = new Map<string, Uint8Array>()

/** The 32-byte key of an id (peer id or job id): sha256 of its UTF-8. Memoised. */
export function bidKey (id: string): Uint8Array {
  let k = keys.get(id)
  if (k == null) {
    if (keys.size >= CACHE_MAX) keys.clear()
    k = new Uint8Array(createHash('sha256').update(id, 'utf8').digest())
    keys.set(id, k)
  }
  return k
}

/**
 * The rendezvous weight of `peerId` for `jobId`: the first 48 bits of
 * sha256(jobId NUL peerId) as a number in [0, 2^48). Lower ranks first.
 */
export function bidWeight (jobId: string, peerId: string): number {
  const d = createHash('sha256').update(jobId, 'utf8').update('\0').update(peerId, 'utf8').digest()
  return d.readUIntBE(0, 6)
}

/** Orders (weight, peer id) pairs: lower weight first, the peer id breaks ties. */
function before (wa: number, a: string, wb: number, b: string): boolean {
  return wa < wb || (wa === wb && a < b)
}

export interface ElectInput {
  jobId: string
  /** Peer ids of the workers believed to have a free slot (from presence). Duplicates are ignored. */
  freeWorkers: Iterable<string>
  /** How many to elect; values below 1 count as 1. */
  k: number
}

const clampK = (k: number): number => Math.max(1, Math.floor(Number.isFinite(k) ? k : 1))

/** The `k` free workers that rank first for the job, first first. Fewer when fewer are free. */
export function electBidders (input: ElectInput): string[] {
  const k = clampK(input.k)
  return [...new Set(input.freeWorkers)]
    .map(id => ({ id, w: bidWeight(input.jobId, id) }))
    .sort((x, y) => before(x.w, x.id, y.w, y.id) ? -1 : 1)
    .slice(0, k)
    .map(x => x.id)
}

export interface ShouldBidInput extends ElectInput {
  /** This worker's peer id; it counts as free (call this only when it has a free slot). */
  self: string
}

/**
 * True when `self` is among the `k` free workers (itself included) that rank
 * first for the job: fewer than `k` other free workers rank before it.
 */
export function shouldBid (input: ShouldBidInput): boolean {
  const k = clampK(input.k)
  const mine = bidWeight(input.jobId, input.self)
  let ahead = 0
  for (const id of new Set(input.freeWorkers)) {
    if (id === input.self) continue
    if (before(bidWeight(input.jobId, id), id, mine, input.self) && ++ahead >= k) return false
  }
  return true
}

/**
 * The election size for the `announcement`-th announce of the same job
 * (1 = first): `k`, doubled on each re-announce, capped at `max`. A job
 * re-announced because nobody bid (the elected workers were busy, or views
 * were stale) reaches further each time instead of asking the same workers
 * again; worker and ingest both count the announcements of a job id.
 */
export function electionSize (k: number, announcement: number, max = 1024): number {
  const n = Math.max(1, Math.floor(Number.isFinite(announcement) ? announcement : 1))
  return Math.min(Math.max(1, max), clampK(k) * 2 ** Math.min(20, n - 1))
}

/**
 * A pool of at most this many times `k` free workers is small: every free worker in it bids. The
 * election saves bid messages only in a large pool; in a small one, leaving out the one honest
 * worker among liars lets them take every attempt a job has (the liars test: 4 of 5 workers
 * elected, all four lying, a segment lost).
 */
export const SMALL_POOL_FACTOR = 2

/**
 * How many of `free` workers are asked to bid on the `announcement`-th announce of a job: all of
 * them in a small pool ({@link SMALL_POOL_FACTOR}), else the {@link electionSize}. Worker and
 * ingest both use it (the ingest expects that many bids; a worker passes it to `shouldBid`).
 */
export function biddersFor (k: number, announcement: number, free: number): number {
  const n = Math.max(0, Math.floor(Number.isFinite(free) ? free : 0))
  return n <= SMALL_POOL_FACTOR * clampK(k) ? n : Math.min(n, electionSize(k, announcement))
}

/**
 * In a large pool the auction closes on this many bids (of the k or more elected): it takes the
 * second-fastest of the elected instead of waiting for the slowest, or for the window when one
 * elected worker's presence was stale (docs/scale.md: 39 % of auctions waited the whole window at
 * 100 nodes on a LAN). Two, not one, so the draw still weighs speed, reputation and price.
 */
export const AUCTION_FIRST_BIDS = 2

/**
 * How many counted bids close the auction early on the `announcement`-th announce of a job with
 * `free` workers free: all of them in a small pool (the election asked every one, and waiting a
 * few ms for all lets the draw see all), else the first {@link AUCTION_FIRST_BIDS}.
 */
export function auctionCloseAfter (k: number, announcement: number, free: number): number {
  const asked = biddersFor(k, announcement, free)
  return free <= SMALL_POOL_FACTOR * clampK(k) ? asked : Math.min(asked, AUCTION_FIRST_BIDS)
}

/**
 * Shard depth for a network of `workers` workers: the fewest prefix bits that
 * keep shards at or below `target` workers on average (0 = one shard). Powers
 * of two, so a shard splits cleanly in two as the network grows, and nodes
 * whose worker counts differ a little mostly agree.
 */
export function shardBits (workers: number, target = DEFAULT_SHARD_TARGET): number {
  if (!(workers > target) || !(target >= 1)) return 0
  return Math.min(16, Math.ceil(Math.log2(workers / target)))
}

/** The shard (0 .. 2^bits − 1) of an id: the top `bits` bits of its key. */
export function shardOf (id: string, bits: number): number {
  const b = Math.max(0, Math.min(16, Math.floor(bits)))
  if (b === 0) return 0
  const key = bidKey(id)
  return ((key[0]! << 8) | key[1]!) >>> (16 - b)
}
