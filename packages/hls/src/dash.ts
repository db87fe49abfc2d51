import { PlaylistValidationError } from './errors.js'
import { formatProgramDateTime, isNonNegativeInt } from './format.js'

/** Timescale of every SegmentTemplate: 90 kHz, the MPEG-TS clock (fMP4 video tracks use it too). */
export const DASH_TIMESCALE = 90_000

/** One segment of one representation, as the live window holds it. */
export interface MpdSegment {
  seq: number
  /** Duration in seconds (used when the next segment's `time` is unknown). */
  durationSec: number
  /** Presentation time of the first frame, 90 kHz (the media's own timeline: tfdt). */
  time?: number
  /** Wall clock of the first frame (ms), the ingest's program date-time. */
  pdtMs?: number
  discontinuity?: boolean
  /** Not available in this representation (HLS `EXT-X-GAP`): the representation sits out a Period. */
  gap?: boolean
  /** The init segment's URI, relative to the MPD (e.g. `720p/init-0123abcd.mp4`). */
  init?: string
}

export interface MpdRepresentation {
  id: string
  /** Video representations share one AdaptationSet, audio ones another (CMAF: one track per file). Default video. */
  contentType?: 'video' | 'audio'
  bandwidth: number
  /** Video only. */
  width?: number
  height?: number
  /** RFC 6381, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string
  /** `SegmentTemplate@media`, relative to the MPD, with `$Number$` (e.g. `720p/$Number$.m4s`). */
  media: string
  /** Contiguous in `seq`, oldest first (a {@link LiveWindow}'s segments). */
  segments: readonly MpdSegment[]
}

export interface MpdRenderOptions {
  /** Wall clock now (ms): `publishTime`. */
  nowMs: number
  representations: readonly MpdRepresentation[]
  /** The stream is over: a static MPD with `mediaPresentationDuration`. */
  ended: boolean
  /** Nominal segment length (s): minimumUpdatePeriod, minBufferTime and the default presentation delay. */
  targetDurationSec: number
  /** `suggestedPresentationDelay` (s); default 3 × targetDurationSec. */
  presentationDelaySec?: number
  /** `timeShiftBufferDepth` (s); default the window's length. */
  timeShiftBufferDepthSec?: number
}

interface Anchor {
  /** Period start relative to availabilityStartTime (ms). */
  startMs: number
  /** presentationTimeOffset (90 kHz). */
  pto: number
}

/** Most Period anchors remembered (older ones are forgotten once out of every window). */
const MAX_ANCHORS = 256

function duration (sec: number): string {
  return `PT${(Math.round(sec * 1000) / 1000).toFixed(3).replace(/\.?0+$/, '')}S`
}

function xml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/**
 * A live DASH manifest (ISO 23009-1, DASH-IF live profile) over the same
 * sliding windows as the HLS media playlists. Pure state, no I/O, no clock
 * (the caller passes `nowMs`).
 *
 * - `type="dynamic"`; `availabilityStartTime` is fixed at the first render
 *   (the first segment's program date-time, whole seconds), `publishTime` is now.
 * - One video AdaptationSet (every video Representation) and one audio
 *   AdaptationSet (CMAF tracks are one per file), each Representation with a
 *   SegmentTemplate (`initialization`, `media` with `$Number$`, `startNumber`
 *   = the segment's seq, 90 kHz) and a SegmentTimeline from the segments'
 *   presentation times.
 * - A new Period starts where a discontinuity is, where any
 *   Representation's init segment changes (e.g. workers on different ffmpeg
 *   builds) and where the set of Representations that have the segment
 *   changes (a gap). Each Period is anchored once (start from the wall
 *   clock, presentationTimeOffset from the media time of its first
 *   segment) and keeps its id, start and offset while it is in the window.
 * - `UTCTiming` (`urn:mpeg:dash:utc:direct:2014`): the time of rendering, for players' clock sync.
 * - Ended: `type="static"` with `mediaPresentationDuration`, periods shifted to start at 0.
 */
export class DashManifest {
  #astMs: number | undefined
  readonly #anchors = new Map<number, Anchor>()

  /** availabilityStartTime (ms), once the first segment was rendered. */
  get availabilityStartMs (): number | undefined { return this.#astMs }

  render (opts: MpdRenderOptions): string {
    const { representations: reps, nowMs, ended } = opts
    if (!Number.isFinite(nowMs)) throw new PlaylistValidationError(`nowMs must be a number, got ${nowMs}`)
    if (!(opts.targetDurationSec > 0)) throw new PlaylistValidationError(`targetDurationSec must be positive, got ${opts.targetDurationSec}`)
    for (const r of reps) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(r.id)) throw new PlaylistValidationError(`representation id ${JSON.stringify(r.id)} is not a safe name`)
      if (!r.media.includes('$Number$')) throw new PlaylistValidationError(`representation ${r.id}: media must contain $Number$`)
      r.segments.forEach((s, i) => {
        if (!isNonNegativeInt(s.seq) || (i > 0 && s.seq !== r.segments[i - 1]!.seq + 1)) throw new PlaylistValidationError(`representation ${r.id}: segments must be contiguous`)
        if (!(s.durationSec > 0)) throw new PlaylistValidationError(`representation ${r.id} seq ${s.seq}: durationSec must be positive`)
      })
    }
    const periods = this.#periods(reps)
    const target = opts.targetDurationSec
    const lines: string[] = []
    const first = periods[0]
    const last = periods.at(-1)
    const shift = ended && first != null ? first.anchor.startMs : 0
    const attrs = [
      'xmlns="urn:mpeg:dash:schema:mpd:2011"',
      'profiles="urn:mpeg:dash:profile:isoff-live:2011"',
      `type="${ended ? 'static' : 'dynamic'}"`,
      `minBufferTime="${duration(target)}"`
    ]
    if (ended) {
      const endMs = last != null ? last.anchor.startMs + last.durationTicks / 90 : 0
      attrs.push(`mediaPresentationDuration="${duration((endMs - shift) / 1000)}"`)
    } else {
      const window = reps.reduce((m, r) => Math.max(m, r.segments.reduce((n, s) => n + s.durationSec, 0)), 0)
      attrs.push(
        `availabilityStartTime="${formatProgramDateTime(this.#astMs ?? nowMs)}"`,
        `publishTime="${formatProgramDateTime(nowMs)}"`,
        `minimumUpdatePeriod="${duration(Math.max(1, target / 2))}"`,
        `timeShiftBufferDepth="${duration(opts.timeShiftBufferDepthSec ?? Math.max(window, target))}"`,
        `suggestedPresentationDelay="${duration(opts.presentationDelaySec ?? target * 3)}"`
      )
    }
    lines.push('<?xml version="1.0" encoding="UTF-8"?>', `<MPD ${attrs.join(' ')}>`)
    for (const p of periods) {
      lines.push(`  <Period id="p${p.id}" start="${duration((p.anchor.startMs - shift) / 1000)}">`)
      for (const type of ['video', 'audio'] as const) {
        const members = p.reps.filter(({ rep }) => (rep.contentType ?? 'video') === type)
        if (members.length === 0) continue
        lines.push(`    <AdaptationSet id="${type === 'video' ? 0 : 1}" contentType="${type}" mimeType="${type}/mp4" segmentAlignment="true" startWithSAP="1">`)
        for (const { rep, init } of members) {
          const size = type === 'video' ? ` width="${rep.width ?? 0}" height="${rep.height ?? 0}"` : ''
          lines.push(`      <Representation id="${xml(rep.id)}" bandwidth="${Math.ceil(rep.bandwidth)}"${size} codecs="${xml(rep.codecs)}">`)
          lines.push(`        <SegmentTemplate timescale="${DASH_TIMESCALE}" presentationTimeOffset="${p.anchor.pto}" startNumber="${p.startNumber}" initialization="${xml(init)}" media="${xml(rep.media)}">`)
          lines.push('          <SegmentTimeline>', ...p.timeline.map(s => `            ${s}`), '          </SegmentTimeline>')
          lines.push('        </SegmentTemplate>', '      </Representation>')
        }
        lines.push('    </AdaptationSet>')
      }
      lines.push('  </Period>')
    }
    // The wall clock players sync to (DASH-IF IOP 4.7): the edge's own, in the manifest itself, so a
    // player needs no time server (dash.js otherwise asks one on the internet).
    if (!ended) lines.push(`  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${formatProgramDateTime(nowMs)}"/>`)
    lines.push('</MPD>')
    return lines.join('\n') + '\n'
  }

  /** Splits the union of the windows into Periods (see the class comment) and anchors each. */
  #periods (reps: readonly MpdRepresentation[]): Array<{ id: number, startNumber: number, anchor: Anchor, durationTicks: number, timeline: string[], reps: Array<{ rep: MpdRepresentation, init: string }> }> {
    const bySeq = reps.map(r => new Map(r.segments.filter(s => s.gap !== true && s.init != null).map(s => [s.seq, s])))
    // Up to the newest segment every representation has settled (published or given up as a gap):
    // renditions of a segment reach the edge at different times, and a Representation must not
    // drop out of the newest Period for that while.
    const lastCommon = Math.min(...reps.filter(r => r.segments.length > 0).map(r => r.segments.at(-1)!.seq))
    const seqs = [...new Set(reps.flatMap(r => r.segments.map(s => s.seq)))].filter(q => q <= lastCommon).sort((a, b) => a - b)
    type Run = { seqs: number[], members: number[], key: number, anchor: Anchor }
    const runs: Run[] = []
    let cur: Run | undefined
    for (const seq of seqs) {
      const members = reps.map((_, i) => i).filter(i => bySeq[i]!.has(seq))
      const ref = members.map(i => bySeq[i]!.get(seq)!)[0]
      const prevSeq = cur?.seqs.at(-1)
      const boundary = cur == null || prevSeq !== seq - 1 ||
        ref?.discontinuity === true ||
        members.join() !== cur.members.join() ||
        members.some(i => bySeq[i]!.get(seq)!.init !== bySeq[i]!.get(seq - 1)?.init)
      if (members.length === 0) { cur = undefined; continue }
      if (boundary) {
        // The window's first segment belongs to the Period it was in (anchored when it began, or
        // now); a boundary inside the window anchors a new Period.
        const { key, anchor } = seq === seqs[0] ? this.#anchorFor(seq, ref!) : { key: seq, anchor: this.#anchor(seq, ref!) }
        cur = { seqs: [seq], members, key, anchor }
        runs.push(cur)
      } else {
        cur!.seqs.push(seq)
      }
    }
    return runs.map(run => {
      const ref = (seq: number): MpdSegment => bySeq[run.members[0]!]!.get(seq)!
      const firstSeq = run.seqs[0]!
      const { key, anchor } = run
      // Segment times: the media's own, else continued from the previous segment.
      const times: Array<{ t: number, d: number }> = []
      run.seqs.forEach((seq, i) => {
        const s = ref(seq)
        const t = s.time ?? (i > 0 ? times[i - 1]!.t + times[i - 1]!.d : anchor.pto)
        times.push({ t, d: Math.max(1, Math.round(s.durationSec * DASH_TIMESCALE)) })
        if (i > 0 && s.time != null) {
          const prev = times[i - 1]!
          if (t > prev.t) prev.d = t - prev.t
        }
      })
      const timeline: string[] = []
      let open: { t: number, d: number, r: number } | undefined
      const flush = (): void => { if (open != null) timeline.push(`<S t="${open.t}" d="${open.d}"${open.r > 0 ? ` r="${open.r}"` : ''}/>`) }
      for (const x of times) {
        if (open != null && x.d === open.d && x.t === open.t + open.d * (open.r + 1)) { open.r++; continue }
        flush()
        open = { t: x.t, d: x.d, r: 0 }
      }
      flush()
      const last = times.at(-1)!
      return {
        id: key,
        startNumber: firstSeq,
        anchor,
        durationTicks: last.t + last.d - anchor.pto,
        timeline,
        reps: run.members.map(i => ({ rep: reps[i]!, init: bySeq[i]!.get(firstSeq)!.init! }))
      }
    })
  }

  /** Anchors a Period starting at `seq` (kept if it exists). availabilityStartTime is the first anchor's wall clock, whole seconds. */
  #anchor (seq: number, s: MpdSegment): Anchor {
    const known = this.#anchors.get(seq)
    if (known != null) return known
    const pdt = s.pdtMs ?? 0
    this.#astMs ??= Math.floor(pdt / 1000) * 1000
    const anchor: Anchor = { startMs: Math.max(0, pdt - this.#astMs), pto: s.time ?? 0 }
    this.#anchors.set(seq, anchor)
    if (this.#anchors.size > MAX_ANCHORS) this.#anchors.delete(Math.min(...this.#anchors.keys()))
    return anchor
  }

  /** The Period `seq` belongs to: the latest anchor at or before it, else a new one here. */
  #anchorFor (seq: number, s: MpdSegment): { key: number, anchor: Anchor } {
    let key = -1
    for (const k of this.#anchors.keys()) if (k <= seq && k > key) key = k
    if (key >= 0) return { key, anchor: this.#anchors.get(key)! }
    return { key: seq, anchor: this.#anchor(seq, s) }
  }
}
