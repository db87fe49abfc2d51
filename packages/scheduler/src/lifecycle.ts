import { systemClock, type Clock } from './clock.js'

/** What the lifecycle rules need to know about one stream (an ingest's record or an edge's followed stream). */
export interface LifecycleRecord {
  id: string
  /** Over: its playlists carry `EXT-X-ENDLIST` and it is kept as VOD (DVR) until removed. */
  ended: boolean
  /** Last sign of life (ms): a segment, a heartbeat, a (re)start, its creation. */
  lastActivityAt: number
  /** When it ended (ms); retention counts from here. */
  endedAt?: number
  /** Last viewer request (ms), where viewers are tracked (an edge): see `LifecyclePolicy.viewerlessMs`. */
  lastViewedAt?: number
}

export interface LifecyclePolicy {
  /** A stream with no sign of life for this long (ms) is ended. */
  staleMs: number
  /** An ended stream is removed this long (ms) after it ended. */
  retentionMs: number
  /** A live stream no viewer asked for in this long (ms) is let go (`unfollow`); only records with `lastViewedAt`. */
  viewerlessMs?: number
}

export type LifecycleAction =
  | { id: string, action: 'end', reason: 'stale' }
  | { id: string, action: 'remove', reason: 'retention' }
  | { id: string, action: 'unfollow', reason: 'no_viewers' }

/**
 * The stream lifecycle rules, pure: which streams to end (stale: no segment,
 * heartbeat or start for `staleMs`) and which to remove (ended more than
 * `retentionMs` ago). A stream ended by this sweep is removed by a later one,
 * so it is always served as VOD for the whole retention first.
 */
export function lifecycleActions (records: Iterable<LifecycleRecord>, now: number, policy: LifecyclePolicy): LifecycleAction[] {
  const out: LifecycleAction[] = []
  for (const r of records) {
    if (!r.ended) {
      if (now - r.lastActivityAt >= policy.staleMs) out.push({ id: r.id, action: 'end', reason: 'stale' })
      else if (policy.viewerlessMs != null && r.lastViewedAt != null && now - r.lastViewedAt >= policy.viewerlessMs) out.push({ id: r.id, action: 'unfollow', reason: 'no_viewers' })
    } else if (now - (r.endedAt ?? r.lastActivityAt) >= policy.retentionMs) {
      out.push({ id: r.id, action: 'remove', reason: 'retention' })
    }
  }
  return out
}

export interface LifecycleSweeperInit {
  policy: LifecyclePolicy
  /** How often to sweep (ms). */
  everyMs: number
  records: () => Promise<Iterable<LifecycleRecord>> | Iterable<LifecycleRecord>
  apply: (action: LifecycleAction) => Promise<void>
  onError?: (err: unknown, action?: LifecycleAction) => void
  clock?: Clock
}

/** Runs {@link lifecycleActions} on a schedule and applies the actions one at a time (the thin I/O wrapper). */
export class LifecycleSweeper {
  private readonly clock: Clock
  private timer: unknown
  private running = false
  private current?: Promise<void>

  constructor (private readonly init: LifecycleSweeperInit) {
    this.clock = init.clock ?? systemClock
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.schedule()
  }

  async stop (): Promise<void> {
    this.running = false
    this.clock.clearTimeout(this.timer)
    await this.current
  }

  /** One sweep now; resolves when its actions are applied. */
  async sweep (): Promise<LifecycleAction[]> {
    const actions = lifecycleActions(await this.init.records(), this.clock.now(), this.init.policy)
    for (const a of actions) {
      try {
        await this.init.apply(a)
      } catch (err) {
        this.init.onError?.(err, a)
      }
    }
    return actions
  }

  private schedule (): void {
    if (!this.running) return
    this.timer = this.clock.setTimeout(() => {
      this.current = this.sweep().then(() => {}, err => { this.init.onError?.(err) }).finally(() => { this.schedule() })
    }, this.init.everyMs)
    const t = this.timer as { unref?: () => void }
    t?.unref?.()
  }
}
