import { LiveWindow } from '@diststream/hls'
import { systemClock } from '@diststream/scheduler'
import type { AddResult, LiveWindowOptions } from '@diststream/hls'
import type { Clock } from '@diststream/scheduler'
import { DeliveryDirectiveError } from './errors.js'

/**
 * Blocking playlist reload (RFC 8216bis §6.2.5.2), pure: parsing the
 * delivery directives of a playlist request, deciding whether to answer now,
 * hold the request or refuse it, and a bounded set of parked requests that
 * resolve when the playlist reaches the requested segment or time out.
 */

export interface DeliveryDirectives {
  /** `_HLS_msn`: answer once the playlist lists this media sequence number (or a later one). */
  msn?: number
  /**
   * `_HLS_part`: a partial segment of `msn`. This server makes no parts, so a
   * segment is listed only whole: the request is held until `msn` is listed.
   */
  part?: number
}

/** Largest sequence number accepted in a directive (12 digits, as segment URIs). */
const MAX_DIRECTIVE = 999_999_999_999

function single (query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new DeliveryDirectiveError(`${name} must be given once`)
  return v
}

function count (query: Record<string, unknown>, name: string): number | undefined {
  const v = single(query, name)
  if (v === undefined) return undefined
  if (!/^[0-9]{1,12}$/.test(v) || Number(v) > MAX_DIRECTIVE) throw new DeliveryDirectiveError(`${name} must be a non-negative integer, got ${JSON.stringify(v.slice(0, 20))}`)
  return Number(v)
}

/**
 * Reads the delivery directives of a media playlist request. Other query
 * parameters (players' cache busters) are left alone. `_HLS_part` without
 * `_HLS_msn` is an error (the spec's 400); `_HLS_skip` (delta updates) must
 * be `YES` or `v2` but is otherwise ignored: this server does not advertise
 * `CAN-SKIP-UNTIL`, so it always sends the whole playlist, which the spec
 * allows.
 */
export function parseDeliveryDirectives (query: unknown): DeliveryDirectives {
  if (query == null || typeof query !== 'object') return {}
  const q = query as Record<string, unknown>
  const msn = count(q, '_HLS_msn')
  const part = count(q, '_HLS_part')
  const skip = single(q, '_HLS_skip')
  if (part !== undefined && msn === undefined) throw new DeliveryDirectiveError('_HLS_part needs _HLS_msn')
  if (skip !== undefined && skip !== 'YES' && skip !== 'v2') throw new DeliveryDirectiveError('_HLS_skip must be YES or v2')
  return { ...(msn !== undefined ? { msn } : {}), ...(part !== undefined ? { part } : {}) }
}

export type BlockingDecision =
  /** Answer with the current playlist. */
  | { kind: 'now' }
  /** Hold the request until the playlist lists `msn`. */
  | { kind: 'wait' }
  /** `_HLS_msn` is more than two segments beyond the live edge: 400 at once. */
  | { kind: 'too-far', reason: string }

/**
 * What to do with a playlist request carrying `msn`, given the playlist's
 * live edge (`lastSeq`: the newest listed seq; one less than the media
 * sequence while the playlist is empty) and whether it has ended (an ended
 * playlist never changes again: answer at once).
 */
export function blockingDecision (o: { msn: number | undefined, lastSeq: number, ended: boolean }): BlockingDecision {
  if (o.msn === undefined || o.ended || o.msn <= o.lastSeq) return { kind: 'now' }
  if (o.msn > o.lastSeq + 2) return { kind: 'too-far', reason: `_HLS_msn ${o.msn} is more than two segments past the live edge (${o.lastSeq})` }
  return { kind: 'wait' }
}

/** How long a blocking reload is held: three target durations (the spec's advice), bounded. */
export function blockingTimeoutMs (targetDurationSec: number): number {
  return Math.min(30_000, Math.max(1000, Math.round(3 * targetDurationSec * 1000)))
}

export type WaitOutcome = 'ready' | 'timeout' | 'full' | 'aborted' | 'closed'

interface Parked { ready: () => boolean, finish: (o: WaitOutcome) => void }

export interface PlaylistWaitersOptions {
  clock?: Clock
  /** Most requests parked at once, over every key; more are refused (`'full'`). Default 1,000. */
  maxWaiters?: number
  /** Most parked at once per key (stream): one stream's viewers, or an attacker's own stream, cannot take every slot. Default all. */
  maxPerKey?: number
  /** Most parked at once per client (the caller's address): one client cannot take every slot. Default all. */
  maxPerClient?: number
}

/**
 * Parked playlist requests, keyed (by stream). {@link notify} re-checks
 * each parked request of a key and releases those whose condition holds;
 * each has its own deadline. Bounded: past `maxWaiters` a new wait returns
 * `'full'` at once instead of holding a socket.
 */
export class PlaylistWaiters {
  readonly #clock: Clock
  readonly #max: number
  readonly #byKey = new Map<string, Set<Parked>>()
  /** Parked requests per client (only clients with some parked: bounded by the total). */
  readonly #byClient = new Map<string, number>()
  readonly #maxPerKey: number
  readonly #maxPerClient: number
  #size = 0
  #closed = false

  constructor (opts: PlaylistWaitersOptions = {}) {
    this.#clock = opts.clock ?? systemClock
    this.#max = opts.maxWaiters ?? 1000
    this.#maxPerKey = opts.maxPerKey ?? this.#max
    this.#maxPerClient = opts.maxPerClient ?? this.#max
    if (!Number.isSafeInteger(this.#max) || this.#max < 0) throw new RangeError(`maxWaiters must be a non-negative integer, got ${this.#max}`)
  }

  /** Requests parked now. */
  get size (): number { return this.#size }

  /** Waits until `ready()` holds (checked now and on each {@link notify} of `key`), for at most `timeoutMs`. */
  async wait (key: string, ready: () => boolean, timeoutMs: number, signal?: AbortSignal, client?: string): Promise<WaitOutcome> {
    if (ready()) return 'ready'
    if (this.#closed) return 'closed'
    if (signal?.aborted === true) return 'aborted'
    if (this.#size >= this.#max || (this.#byKey.get(key)?.size ?? 0) >= this.#maxPerKey) return 'full'
    if (client != null && (this.#byClient.get(client) ?? 0) >= this.#maxPerClient) return 'full'
    if (client != null) this.#byClient.set(client, (this.#byClient.get(client) ?? 0) + 1)
    return await new Promise<WaitOutcome>(resolve => {
      const set = this.#byKey.get(key) ?? new Set<Parked>()
      this.#byKey.set(key, set)
      const onAbort = (): void => { parked.finish('aborted') }
      const timer = this.#clock.setTimeout(() => { parked.finish('timeout') }, timeoutMs)
      const parked: Parked = {
        ready,
        finish: (o) => {
          if (!set.delete(parked)) return
          this.#size--
          if (client != null) {
            const n = (this.#byClient.get(client) ?? 1) - 1
            if (n <= 0) this.#byClient.delete(client)
            else this.#byClient.set(client, n)
          }
          if (set.size === 0 && this.#byKey.get(key) === set) this.#byKey.delete(key)
          this.#clock.clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve(o)
        }
      }
      set.add(parked)
      this.#size++
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Something under `key` changed: release the parked requests whose condition now holds. */
  notify (key: string): void {
    const set = this.#byKey.get(key)
    if (set == null) return
    for (const p of [...set]) {
      let ok = false
      try { ok = p.ready() } catch { ok = true } // a broken condition must not hold a socket: answer now
      if (ok) p.finish('ready')
    }
  }

  /** Releases every parked request (`'closed'`) and refuses new ones: the node is stopping. */
  close (): void {
    this.#closed = true
    for (const set of [...this.#byKey.values()]) for (const p of [...set]) p.finish('closed')
  }
}

/** A {@link LiveWindow} that calls `onChange` after every change, so parked blocking reloads re-check it. */
export class NotifyingWindow extends LiveWindow {
  constructor (opts: LiveWindowOptions, private readonly onChange: () => void) {
    super(opts)
  }

  override add (...args: Parameters<LiveWindow['add']>): AddResult {
    const r = super.add(...args)
    this.onChange()
    return r
  }

  override markGap (seq: number): boolean {
    const r = super.markGap(seq)
    this.onChange()
    return r
  }

  override end (...args: Parameters<LiveWindow['end']>): void {
    super.end(...args)
    this.onChange()
  }
}
