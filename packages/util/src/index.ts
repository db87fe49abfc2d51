/**
 * @packageDocumentation
 *
 * Small primitives shared by the roles, with no I/O of their own: an
 * injectable {@link Clock} (and a {@link FakeClock} for tests), request
 * coalescing ({@link SingleFlight}), keyed wait/wake ({@link Notifier}),
 * bounded maps for anything keyed by a stranger ({@link BoundedMap}), and
 * {@link retry} with backoff that takes an abort signal.
 *
 * @example
 * ```ts
 * import { retry, exponential } from '@diststream/util'
 * const index = await retry(() => client.index(peer, id), { attempts: 3, delayMs: exponential(1000), signal })
 * ```
 */
export { systemClock, FakeClock } from './clock.js'
export type { Clock } from './clock.js'
export { SingleFlight } from './single-flight.js'
export { Notifier, MAX_WAITERS_PER_KEY } from './notifier.js'
export type { WaitOptions } from './notifier.js'
export { BoundedMap, evictOldest } from './bounded-map.js'
export { retry, sleep, exponential, linear } from './retry.js'
export type { RetryOptions } from './retry.js'
