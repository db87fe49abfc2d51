/**
 * Pure job scheduling for DistStream: ranking workers' bids, collecting them
 * in a time-boxed {@link Auction}, dispatching a job down the ranked list
 * with per-attempt deadlines ({@link dispatchJob}), and the bounded
 * {@link JobLedger} behind `/api/jobs`. All timing goes through an injectable
 * {@link Clock}; {@link FakeClock} drives it in tests.
 *
 * @example
 * ```ts
 * import { Auction, FakeClock, JobLedger, dispatchJob, rankBids } from '@diststream/scheduler'
 *
 * const clock = new FakeClock()
 * const ledger = new JobLedger({ clock })
 * ledger.create({ jobId: 'j1', streamId: 's', seq: 0, createdAt: clock.now() })
 * const auction = new Auction({ jobId: 'j1', clock, windowMs: 300, expectedBids: 2 })
 * // ...auction.offer(bid) as bids arrive; ledger.addBid('j1')
 * const bids = rankBids(await auction.result, { reputation: peer => 0.5 })
 * const { result, bid } = await dispatchJob({
 *   bids, clock, maxAttempts: 3,
 *   deadlineFor: b => b.estimateMs * 3,
 *   attempt: (b, signal) => transcodeOn(b.peerId, signal),
 *   onAttemptStart: b => ledger.startAttempt('j1', b.peerId),
 *   onAttempt: (b, outcome, reason) => ledger.endAttempt('j1', outcome, reason)
 * })
 * ledger.complete('j1')
 * ```
 *
 * @packageDocumentation
 */

export { FakeClock, systemClock, type Clock } from './clock.js'
export { atCapacity, NEUTRAL_REPUTATION, rankBids, scoreBid, type Bid, type RankOptions } from './rank.js'
export { Auction, type AuctionOptions } from './auction.js'
export { selectBids, selectionWeights, type SelectOptions, type WeightedBid } from './select.js'
export {
  JobLedger, MAX_BIDDERS_KEPT, TERMINAL_STATES,
  type AttemptOutcome, type AttemptRecord, type BidderRecord, type JobLedgerOptions, type JobRecord, type JobState,
  type LedgerEvent, type LedgerEventKind
} from './ledger.js'
export {
  AttemptCancelledError, AttemptInvalidError, AttemptRejectedError, AttemptTimeoutError, DispatchAbortedError, DispatchError, dispatchJob, MAX_DECLINES_PER_WORKER,
  type DispatchAttempt, type DispatchOptions, type DispatchResult
} from './dispatch.js'
export {
  MAX_SLOWNESS, MAX_TRACKED_WORKERS, MIN_SLOWNESS, SLOWNESS_STALE_MS, SPEED_EWMA_ALPHA, SpeedTracker,
  type SpeedTrackerOptions
} from './speed.js'
export {
  attemptDeadlineMs, DEADLINE_DURATION_FACTOR, DEADLINE_ESTIMATE_FACTOR, DEADLINE_SLACK_MS, HEDGE_SHARE, HEDGE_SLACK_MS, HEDGE_WINDOW_MIN_JOBS, HEDGE_WINDOW_MS,
  HedgeBudget, hedgeAfterMs, MAX_BUDGET_JOBS,
  type HedgeBudgetOptions, type HedgeBudgetStats
} from './hedge.js'
export { LATE_FACTOR, ReputationBook, type Observation, type ReputationOptions, type WorkerRecord } from './reputation.js'
export { judgeSpotCheck, shouldSpotCheck, type SpotCheckOptions, type SpotVerdict } from './spot-check.js'
export {
  bidKey, bidWeight, DEFAULT_BID_K, DEFAULT_SHARD_TARGET, electBidders, electionSize, shardBits, shardOf, shouldBid,
  type ElectInput, type ShouldBidInput
} from './bid-policy.js'
export {
  lifecycleActions, LifecycleSweeper,
  type LifecycleAction, type LifecyclePolicy, type LifecycleRecord, type LifecycleSweeperInit
} from './lifecycle.js'
