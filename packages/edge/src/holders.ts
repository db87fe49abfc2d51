import { MAX_RENDITIONS } from '@diststream/protocol'
import { HOLDER_MAX_PEERS, HOLDER_MAX_SEQS, SWARM_MAX_HOLDER_ATTEMPTS, SWARM_WAIT_STEP_MS } from './constants.js'

/**
 * Swarming, the pure half: who holds what ({@link HolderTable}) and where to
 * fetch a rendition segment from next ({@link chooseSource}). No I/O, no
 * clock: the caller passes the elapsed time.
 */

export interface HolderTableInit {
  /** Segments remembered per stream (the newest). */
  maxSeqs?: number
  /** Holders remembered per rendition segment. */
  maxHolders?: number
}

/**
 * Who holds which rendition of which segment of one stream, from have-lists
 * (and BUSY answers). Bounded: the newest `maxSeqs` segments, `maxHolders`
 * peers each; anything a peer claims is only a hint (every fetch is checked
 * against the ingest's hashes), so a liar costs one failed fetch.
 */
export class HolderTable {
  private readonly bySeq = new Map<number, Map<string, string[]>>()
  private readonly maxSeqs: number
  private readonly maxHolders: number
  #generation = 0

  constructor (init: HolderTableInit = {}) {
    this.maxSeqs = init.maxSeqs ?? HOLDER_MAX_SEQS
    this.maxHolders = init.maxHolders ?? HOLDER_MAX_PEERS
  }

  /** Grows with every have-list taken in: a waiter compares it to see whether anything was announced since. */
  get generation (): number {
    return this.#generation
  }

  add (seq: number, renditions: readonly string[], peer: string): void {
    this.#generation++
    let byName = this.bySeq.get(seq)
    if (byName == null) {
      if (this.bySeq.size >= this.maxSeqs) {
        const oldest = Math.min(...this.bySeq.keys())
        if (seq < oldest) return
        this.bySeq.delete(oldest)
      }
      byName = new Map()
      this.bySeq.set(seq, byName)
    }
    for (const name of renditions.slice(0, MAX_RENDITIONS)) {
      const list = byName.get(name) ?? []
      if (list.includes(peer)) continue
      list.push(peer)
      if (list.length > this.maxHolders) list.shift()
      byName.set(name, list)
    }
  }

  holders (seq: number, rendition: string): string[] {
    return [...(this.bySeq.get(seq)?.get(rendition) ?? [])]
  }

  remove (seq: number, rendition: string, peer: string): void {
    const list = this.bySeq.get(seq)?.get(rendition)
    if (list == null) return
    const i = list.indexOf(peer)
    if (i >= 0) list.splice(i, 1)
  }

  get size (): number {
    return this.bySeq.size
  }
}

export interface SourceState {
  /** The stream's ingest: always has the segment, but serves only a few copies to swarming peers. */
  ingest: string
  self: string
  /** Peers said to hold the rendition (have-lists, BUSY answers). */
  holders: readonly string[]
  /** Peers that failed this fetch (error, wrong bytes, not found). */
  failed: ReadonlySet<string>
  /** The ingest answered BUSY to this fetch. */
  ingestBusy: boolean
  /** Since this fetch started. */
  elapsedMs: number
  /** Attempts this fetch made at peers other than the ingest (absent: 0). */
  holderAttempts?: number
}

export type SourceChoice =
  | { kind: 'fetch', peer: string, acceptBusy: boolean }
  | { kind: 'wait', ms: number }

/**
 * Where to fetch a rendition segment from next. Other holders first, one at
 * random (spreading the load; the ingest is never picked as a "holder"),
 * else the ingest as a swarming peer (it serves a few copies, then answers
 * BUSY naming holders), else wait for a holder to be announced; once
 * `fallbackMs` has passed without success, the ingest without accept_busy
 * (it always serves that), so a viewer never stalls for the bound's sake.
 * Holders are claims anyone can make: after `maxHolderAttempts` of them, or
 * past `fallbackMs`, no more holders, only the ingest.
 */
export function chooseSource (s: SourceState, opts: { fallbackMs: number, random?: () => number, maxHolderAttempts?: number }): SourceChoice {
  const holdersSpent = (s.holderAttempts ?? 0) >= (opts.maxHolderAttempts ?? SWARM_MAX_HOLDER_ATTEMPTS) || s.elapsedMs >= opts.fallbackMs
  const candidates = holdersSpent ? [] : [...new Set(s.holders)].filter(p => p !== s.self && p !== s.ingest && !s.failed.has(p))
  if (candidates.length > 0) {
    const i = Math.min(candidates.length - 1, Math.floor((opts.random ?? Math.random)() * candidates.length))
    return { kind: 'fetch', peer: candidates[i]!, acceptBusy: true }
  }
  if (!s.ingestBusy && !s.failed.has(s.ingest)) return { kind: 'fetch', peer: s.ingest, acceptBusy: true }
  if (holdersSpent) return { kind: 'fetch', peer: s.ingest, acceptBusy: false }
  return { kind: 'wait', ms: Math.max(1, Math.min(SWARM_WAIT_STEP_MS, opts.fallbackMs - s.elapsedMs)) }
}
