/**
 * When an edge sends its ViewerCounts (pure): on a change, at most every
 * `minIntervalMs`; while it has viewers, again every `keepaliveMs` even
 * without a change; with none (and its last message said so), never. A new
 * peer on the topic asks for one more message (rate-bounded the same way),
 * so it does not wait a keep-alive for the figures.
 */
import { VIEWER_REPORT_KEEPALIVE_MS, VIEWER_REPORT_MIN_INTERVAL_MS } from '@diststream/protocol'

export interface ReportScheduleInit {
  minIntervalMs?: number
  keepaliveMs?: number
}

/** Streams and their viewers, in a stable order, as the message lists them. */
export type Counts = ReadonlyArray<{ streamId: string, viewers: number }>

export class ReportSchedule {
  readonly #minIntervalMs: number
  readonly #keepaliveMs: number
  #lastKey = ''
  #lastSentAt = -Infinity
  #nudged = false

  constructor (init: ReportScheduleInit = {}) {
    this.#minIntervalMs = init.minIntervalMs ?? VIEWER_REPORT_MIN_INTERVAL_MS
    this.#keepaliveMs = init.keepaliveMs ?? VIEWER_REPORT_KEEPALIVE_MS
  }

  /** A new peer subscribed: send what we have at the next chance (if we have anything). */
  nudge (): void { this.#nudged = true }

  /** Whether to send `counts` now; if so, they are taken as sent. */
  due (counts: Counts, now: number): boolean {
    const key = counts.map(c => `${c.streamId}=${c.viewers}`).join(',')
    const since = now - this.#lastSentAt
    if (since < this.#minIntervalMs) return false
    const changed = key !== this.#lastKey
    const keepalive = key !== '' && since >= this.#keepaliveMs
    const nudged = this.#nudged && key !== ''
    if (!changed && !keepalive && !nudged) return false
    this.#lastKey = key
    this.#lastSentAt = now
    this.#nudged = false
    return true
  }
}
