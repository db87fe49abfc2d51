import type { JobRecord, LedgerEvent } from '@diststream/scheduler'
import type { WorkerStat } from './views.js'

export type { WorkerStat } from './views.js'

/**
 * Per-worker throughput and success, folded from the ledger's `'change'`
 * events (each job counted once per attempt, whatever events repeat). Pure.
 */
export class WorkerStats {
  readonly #stats = new Map<string, WorkerStat & { okMs: number, ok: number, ended: number }>()
  /** jobId → how many of its attempts and bidders were counted. */
  readonly #seen = new Map<string, { attempts: number, bidders: number, ended: number }>()

  constructor (readonly maxWorkers = 256, readonly maxJobs = 2000) {}

  record (e: LedgerEvent): void {
    const job: JobRecord = e.job
    if (e.kind === 'evicted') { this.#seen.delete(job.jobId); return }
    let seen = this.#seen.get(job.jobId)
    if (seen == null) {
      seen = { attempts: 0, bidders: 0, ended: 0 }
      this.#seen.set(job.jobId, seen)
      if (this.#seen.size > this.maxJobs) this.#seen.delete(this.#seen.keys().next().value!)
    }
    for (const b of job.bidders.slice(seen.bidders)) {
      const s = this.#stat(b.peerId)
      if (s == null) continue
      s.bids++
      s.lastAt = Math.max(s.lastAt, b.at)
    }
    seen.bidders = job.bidders.length
    job.history.forEach((h, i) => {
      const s = this.#stat(h.worker)
      if (s == null) return
      if (i >= seen.attempts) { s.attempts++; s.lastAt = Math.max(s.lastAt, h.startedAt) }
      if (i >= seen.ended && h.outcome != null) {
        s.ended++
        if (h.outcome === 'ok') {
          s.ok++
          s.done++
          s.okMs += Math.max(0, (h.endedAt ?? h.startedAt) - h.startedAt)
        } else {
          s.failed++
        }
      }
    })
    seen.attempts = job.history.length
    // Attempts end in order; count ended ones as a prefix.
    let ended = 0
    while (ended < job.history.length && job.history[ended]!.outcome != null) ended++
    seen.ended = ended
  }

  list (): WorkerStat[] {
    return [...this.#stats.values()]
      .map(({ okMs, ok, ended, ...s }) => ({ ...s, meanTranscodeMs: ok > 0 ? Math.round(okMs / ok) : null, successRate: ended > 0 ? ok / ended : null }))
      .sort((a, b) => b.done - a.done || a.peerId.localeCompare(b.peerId))
  }

  #stat (peerId: string): (WorkerStat & { okMs: number, ok: number, ended: number }) | undefined {
    if (peerId === '') return undefined
    let s = this.#stats.get(peerId)
    if (s == null) {
      if (this.#stats.size >= this.maxWorkers) return undefined
      s = { peerId, done: 0, failed: 0, attempts: 0, bids: 0, meanTranscodeMs: null, successRate: null, lastAt: 0, okMs: 0, ok: 0, ended: 0 }
      this.#stats.set(peerId, s)
    }
    return s
  }
}
