// The clock moved to @diststream/util; re-exported here for the scheduler's users.
export { systemClock, FakeClock } from '@diststream/util'
export type { Clock } from '@diststream/util'
