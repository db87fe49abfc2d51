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
 * Hedging (a duplicate on the next bidder when an attempt is late) must not
 * feed on itself: on a saturated machine every worker is late against its
 * idle calibration, and each hedge adds load that makes everyone later. So
 * lateness and deadlines are measured against each worker's recent speed
 * ({@link SpeedTracker}), and a hedge starts only with a spare bidder in hand
 * and within a share of recent jobs ({@link HedgeBudget}, asked through
 * `mayHedge`):
 *
 * ```ts
 * const speed = new SpeedTracker({ clock })
 * const budget = new HedgeBudget()
 * const out = await dispatchJob({
 *   bids, clock, maxAttempts: 3,
 *   hedgeAfter: b => hedgeAfterMs(speed.adjusted(b), durationMs),
 *   deadlineFor: b => attemptDeadlineMs(speed.adjusted(b), durationMs),
 *   mayHedge: next => budget.allow(clock.now(), !atCapacity(next)),
 *   attempt: (b, signal) => transcodeOn(b.peerId, signal),
 *   onAttempt: (b, outcome) => { if (outcome === 'ok') speed.observe(b.peerId, elapsedOf(b), b.estimateMs) }
 * })
 * budget.record(clock.now(), { hedges: out.hedges }) // on failure: the DispatchError's hedge attempts
 * ```
 *
 * @packageDocumentation
 */

export { FakeClock, systemClock, type Clock } from './clock.js'
export { atCapacity, NEUTRAL_REPUTATION, rankBids, scoreBid, type Bid, type RankOptions } from './rank.js'
export { Auction, type AuctionOptions } from './auction.js'
export { MIN_ESTIMATE_FRACTION, NEWCOMER_WINS_PER_MINUTE, NewcomerBudget, selectBids, selectionWeights, type SelectOptions, type WeightedBid } from './select.js'
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
export {
  checkedBeforeServing, judgePictures, OFFENDER_INVALID, orderByStanding, PICTURE_MIN_DB, PROBATION_JOBS, standingOf,
  type Standing, type StandingInput
} from './probation.js'
export { judgeSpotCheck, shouldSpotCheck, type SpotCheckOptions, type SpotVerdict } from './spot-check.js'
export {
  AUCTION_FIRST_BIDS, auctionCloseAfter, biddersFor, bidKey, bidWeight, DEFAULT_BID_K, DEFAULT_SHARD_TARGET, electBidders, electionSize, SMALL_POOL_FACTOR, shardBits, shardOf, shouldBid,
  type ElectInput, type ShouldBidInput
} from './bid-policy.js'
export {
  lifecycleActions, LifecycleSweeper,
  type LifecycleAction, type LifecyclePolicy, type LifecycleRecord, type LifecycleSweeperInit
} from './lifecycle.js'
export {
  FLAP_WINDOW_DURATIONS, MAX_RESTORE_BACKOFF, MAX_TRACKED_JOBS, MIN_LIVE_RUNGS, RESTORE_MAX_LOAD, RESTORE_QUIET_DURATIONS, RESTORE_WAIT_DURATIONS,
  RungShedder, SHED_COOLDOWN_DURATIONS, SHED_WAIT_DURATIONS,
  type RungShedderOptions, type RungState
} from './shed.js'
