import { PlaylistValidationError } from './errors.js'
import { isNonNegativeInt, targetDurationFor } from './format.js'
import { renderMediaPlaylist, validateSegment, type PlaylistSegment, type ServerControl } from './media.js'

export interface LiveWindowOptions {
  /** Number of segments the playlist exposes (the sliding window). */
  windowSize: number
  /**
   * How far (in sequence numbers) the exposed live edge may trail the newest
   * segment received before a missing one is given up on and published as an
   * `#EXT-X-GAP` entry. 0 = never wait for a late segment. Default 3.
   */
  maxHoldSegments?: number
  /**
   * Sequence number the stream starts at, when known (0 for a new stream).
   * Without it the first segment added defines the start, so an early
   * out-of-order arrival (seq 1 before seq 0) would start the window at 1.
   */
  firstSeq?: number
  /** URI written for gap entries (never loaded by clients). Default `gap-<seq>.ts`. */
  gapUri?: (seq: number) => string
  /** Duration of gap entries. Default: the duration of the last real segment published. */
  gapDurationSec?: number
}

/** Outcome of {@link LiveWindow.add}. */
export type AddResult =
  /** Stored; published now or once the segments before it are in. */
  | 'accepted'
  /** Same seq already published or waiting; the first copy is kept. */
  | 'duplicate'
  /** The live edge is already past this seq (published as a gap, or before the window's start). Dropped. */
  | 'late'
  /** The window has ended, or seq is beyond `end({ lastSeq })`. Dropped. */
  | 'after-end'

/**
 * Pure state of a live media playlist's sliding window, fed by segments that
 * may complete out of order (different workers transcode them).
 *
 * Rules:
 * - Only the contiguous prefix is published: segment N+1 waits while N is missing.
 * - The edge never trails the newest received seq by more than
 *   `maxHoldSegments`: a missing N is published as a gap entry
 *   (`gap: true`) once `highestReceived - N >= maxHoldSegments`, or at once
 *   after {@link markGap}(N).
 * - Published entries are never changed or renumbered: a segment arriving
 *   after its seq was published as a gap is dropped (`'late'`).
 * - Holes before the first real segment are skipped (the window simply
 *   starts later) rather than published as gaps.
 * - When a segment carrying `discontinuity` slides out of the window,
 *   {@link discontinuitySequence} increments, as RFC 8216 requires.
 */
export class LiveWindow {
  readonly windowSize: number
  readonly maxHoldSegments: number
  readonly #firstSeq: number | undefined
  readonly #gapUri: (seq: number) => string
  readonly #gapDurationSec: number | undefined

  #exposed: PlaylistSegment[] = []
  readonly #pending = new Map<number, PlaylistSegment>()
  readonly #declaredGaps = new Set<number>()
  #next: number | undefined
  #lastRealDurationSec: number | undefined
  #discontinuitySequence = 0
  #maxTargetDuration = 0
  #ended = false
  #lastSeq: number | undefined

  constructor (opts: LiveWindowOptions) {
    const { windowSize, maxHoldSegments = 3, firstSeq, gapDurationSec } = opts
    if (!Number.isSafeInteger(windowSize) || windowSize < 1) throw new PlaylistValidationError(`windowSize must be a positive integer, got ${windowSize}`)
    if (!isNonNegativeInt(maxHoldSegments)) throw new PlaylistValidationError(`maxHoldSegments must be a non-negative integer, got ${maxHoldSegments}`)
    if (firstSeq !== undefined && !isNonNegativeInt(firstSeq)) throw new PlaylistValidationError(`firstSeq must be a non-negative integer, got ${firstSeq}`)
    if (gapDurationSec !== undefined && !(Number.isFinite(gapDurationSec) && gapDurationSec > 0)) {
      throw new PlaylistValidationError(`gapDurationSec must be a positive number, got ${gapDurationSec}`)
    }
    this.windowSize = windowSize
    this.maxHoldSegments = maxHoldSegments
    this.#firstSeq = firstSeq
    this.#next = firstSeq
    this.#gapUri = opts.gapUri ?? (seq => `gap-${seq}.ts`)
    this.#gapDurationSec = gapDurationSec
  }

  /** Media sequence number of the first segment in {@link segments} (or of the next expected one when empty). */
  /** Seq of the newest published entry (the live edge; gaps included), undefined while empty. */
  get lastSeq (): number | undefined { return this.#exposed.at(-1)?.seq }

  get mediaSequence (): number { return this.#exposed[0]?.seq ?? this.#next ?? this.#firstSeq ?? 0 }
  /** Discontinuity sequence number to render with {@link segments}. */
  get discontinuitySequence (): number { return this.#discontinuitySequence }
  /** True once {@link end} has taken effect; the playlist gets `#EXT-X-ENDLIST`. */
  get ended (): boolean { return this.#ended }
  /** Next seq the live edge waits for (undefined before the first segment when no `firstSeq`). */
  get nextSeq (): number | undefined { return this.#next }
  /** Segments received but not yet published (waiting behind a missing one). */
  get pendingCount (): number { return this.#pending.size }
  /** Largest target duration any published entry has needed so far (never decreases). */
  get maxTargetDurationSec (): number { return this.#maxTargetDuration }

  /** The current window, oldest first (copies). */
  segments (): PlaylistSegment[] {
    return this.#exposed.map(s => ({ ...s }))
  }

  /**
   * Adds a completed segment. Throws {@link PlaylistValidationError} only for
   * malformed segments; network-driven conditions are reported in the result.
   */
  add (segment: PlaylistSegment): AddResult {
    validateSegment(segment)
    const seq = segment.seq
    if (this.#ended || (this.#lastSeq !== undefined && seq > this.#lastSeq)) return 'after-end'
    this.#next ??= seq
    if (seq < this.#next) {
      return this.#exposed.some(s => s.seq === seq && s.gap !== true) ? 'duplicate' : 'late'
    }
    if (this.#pending.has(seq)) return 'duplicate'
    const copy: PlaylistSegment = { ...segment }
    if (copy.gap !== true) delete copy.gap
    this.#pending.set(seq, copy)
    this.#declaredGaps.delete(seq)
    this.#advance(false)
    return 'accepted'
  }

  /**
   * Declares that `seq` will never arrive (e.g. its job failed for good), so
   * the edge publishes it as a gap as soon as it is reached instead of
   * holding for it. Returns false if it is already published or waiting.
   */
  markGap (seq: number): boolean {
    if (!isNonNegativeInt(seq)) throw new PlaylistValidationError(`seq must be a non-negative integer, got ${seq}`)
    if (this.#ended || (this.#next !== undefined && seq < this.#next) || this.#pending.has(seq)) return false
    this.#declaredGaps.add(seq)
    this.#advance(false)
    return true
  }

  /**
   * Ends the stream.
   * - `end()`: final now. Every waiting segment is published (holes before
   *   them become gaps) and {@link ended} is true.
   * - `end({ lastSeq })`: the stream's last seq is known but segments may
   *   still be in flight: later seqs are refused, and {@link ended} becomes
   *   true once `lastSeq` is published (holes still follow the hold rule and
   *   {@link markGap}). Call `end()` afterwards to force it.
   */
  end (opts: { lastSeq?: number } = {}): void {
    if (this.#ended) return
    const { lastSeq } = opts
    if (lastSeq === undefined) {
      this.#advance(true)
      this.#ended = true
      return
    }
    if (!isNonNegativeInt(lastSeq)) throw new PlaylistValidationError(`lastSeq must be a non-negative integer, got ${lastSeq}`)
    this.#lastSeq = Math.max(lastSeq, (this.#next ?? 0) - 1)
    for (const seq of this.#pending.keys()) if (seq > this.#lastSeq) this.#pending.delete(seq)
    this.#advance(false)
  }

  /** Renders the window; the target duration is at least every duration published so far, so it never shrinks. */
  toPlaylist (opts: { targetDurationSec?: number, version?: number, playlistType?: 'VOD' | 'EVENT', serverControl?: ServerControl } = {}): string {
    const target = Math.max(opts.targetDurationSec ?? 0, this.#maxTargetDuration)
    return renderMediaPlaylist({
      segments: this.#exposed,
      ended: this.#ended,
      discontinuitySequence: this.#discontinuitySequence,
      mediaSequence: this.mediaSequence,
      ...(target > 0 ? { targetDurationSec: target } : {}),
      ...(opts.version !== undefined ? { version: opts.version } : {}),
      // Blocking reload is for live playlists; an ended one never changes again.
      ...(opts.serverControl !== undefined && !this.#ended ? { serverControl: opts.serverControl } : {}),
      // VOD only once ended (a VOD playlist must never change).
      ...(opts.playlistType === 'VOD' ? (this.#ended ? { playlistType: 'VOD' as const } : {}) : opts.playlistType !== undefined ? { playlistType: opts.playlistType } : {})
    })
  }

  #advance (flush: boolean): void {
    for (;;) {
      const next = this.#next
      if (next === undefined) return
      if (this.#lastSeq !== undefined && next > this.#lastSeq) {
        this.#ended = true
        this.#pending.clear()
        return
      }
      const seg = this.#pending.get(next)
      if (seg !== undefined) {
        this.#pending.delete(next)
        this.#publish(seg)
        this.#lastRealDurationSec = seg.durationSec
        this.#next = next + 1
        continue
      }
      if (this.#declaredGaps.delete(next)) {
        this.#fillHoles(next, next + 1)
        continue
      }
      if (this.#pending.size === 0) return
      let lowest = Infinity
      let highest = -Infinity
      for (const seq of this.#pending.keys()) {
        lowest = Math.min(lowest, seq)
        highest = Math.max(highest, seq)
      }
      // Every missing seq s with highest - s >= maxHold is given up on.
      const end = flush ? lowest : Math.min(lowest, highest - this.maxHoldSegments + 1)
      if (end <= next) return
      this.#fillHoles(next, end)
    }
  }

  /** Publishes gap entries for [from, to) and moves the edge to `to`. */
  #fillHoles (from: number, to: number): void {
    this.#next = to
    for (const seq of this.#declaredGaps) if (seq < to) this.#declaredGaps.delete(seq)
    const last = this.#exposed.at(-1)
    if (last === undefined || this.#lastRealDurationSec === undefined) return // nothing published yet: start later instead
    const durationSec = this.#gapDurationSec ?? this.#lastRealDurationSec
    const basePdt = last.pdtMs === undefined ? undefined : last.pdtMs + Math.round(last.durationSec * 1000)
    let start = from
    if (to - from > this.windowSize) {
      // Everything currently published slides out; only the last windowSize gaps are kept.
      for (const s of this.#exposed) if (s.discontinuity === true) this.#discontinuitySequence++
      this.#exposed = []
      start = to - this.windowSize
    }
    for (let seq = start; seq < to; seq++) {
      const gap: PlaylistSegment = { seq, durationSec, uri: this.#gapUri(seq), gap: true }
      if (basePdt !== undefined) gap.pdtMs = basePdt + Math.round((seq - from) * durationSec * 1000)
      validateSegment(gap, 'gap entry')
      this.#publish(gap)
    }
  }

  #publish (seg: PlaylistSegment): void {
    this.#exposed.push(seg)
    this.#maxTargetDuration = Math.max(this.#maxTargetDuration, targetDurationFor(seg.durationSec))
    while (this.#exposed.length > this.windowSize) {
      const out = this.#exposed.shift()
      if (out?.discontinuity === true) this.#discontinuitySequence++
    }
  }
}
