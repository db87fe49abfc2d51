import { readFile } from 'node:fs/promises'
import { codecs, streamTopic } from '@diststream/protocol'
import { probeMedia, remuxToCmaf, storedTracks } from '@diststream/media'
import { JobRunner } from './job-runner.js'
import { LiveRungs } from './live-rungs.js'
import { AUDIO_RENDITION, renditionRecord, SOURCE_TS, toWire } from './renditions.js'
import type { IngestContext } from '../types.js'
import type { ProbeResult, RungSpec, SegmentInfo } from '@diststream/media'
import type { RungState } from '@diststream/scheduler'
import type { RenditionRecord, SegmentRecord, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'

export interface SegmentPipelineDeps {
  ctx: IngestContext
  log: Logger
  /** The session's: a killed session abandons its segments. */
  signal: AbortSignal
  /** The session's first sequence number (its first segment follows a discontinuity). */
  firstSeq: number
  /** Keeps background work (spot checks) in the session's in-flight set. */
  track: (p: Promise<void>) => void
  /** How long a job may wait for a free worker (ms); default the ingest's. */
  maxQueueMs?: number
  /** A live stream: shed the costliest rungs when workers cannot keep up (LiveRungs); never for a VOD. */
  shed?: boolean
}

/** Wall clock of the first segment's first frame, and that frame's media time (s). */
export interface PdtBase { wall: number, startSec: number }

/**
 * The life of one segment of a session: store its source (and a CMAF
 * remux), record it as pending, run the job market, store the final record
 * and announce it to edges. Also finishes the segments a dead run left pending.
 */
export class SegmentPipeline {
  #stream: StreamRecord
  #source?: ProbeResult
  #ladder: RungSpec[] = []
  readonly #deps: SegmentPipelineDeps
  readonly #runner: JobRunner
  readonly #rungs?: LiveRungs

  constructor (deps: SegmentPipelineDeps, stream: StreamRecord) {
    this.#deps = deps
    this.#stream = stream
    const rungs = deps.shed === true ? new LiveRungs(deps.ctx, deps.log) : undefined
    this.#rungs = rungs
    this.#runner = new JobRunner({
      ctx: deps.ctx,
      log: deps.log,
      signal: deps.signal,
      streamId: stream.id,
      cmaf: this.cmaf,
      sourceTsName: this.sourceTsName,
      track: deps.track,
      ...(deps.maxQueueMs != null ? { maxQueueMs: deps.maxQueueMs } : {}),
      ...(rungs != null ? { liveRungs: (seq, ladder) => rungs.dispatched(seq, ladder) } : {})
    })
  }

  /** A live stream's rungs, costliest first, and whether each is transcoded now (undefined for a VOD, or before the first segment). */
  rungState (): RungState[] | undefined { return this.#rungs?.state() }

  /** The stream's renditions are fragmented MP4 (`--container cmaf`, kept on the stream record). */
  get cmaf (): boolean { return this.#stream.container === 'cmaf' }

  /** Where the MPEG-TS cut of each segment is stored: `source` itself, or SOURCE_TS for CMAF streams. */
  get sourceTsName (): string { return this.cmaf ? SOURCE_TS : 'source' }

  /** A segment the segmenter just cut, closed at `closedAt` (wall clock). */
  async process (seg: SegmentInfo, seq: number, closedAt: number, base?: PdtBase): Promise<void> {
    const { ctx, signal } = this.#deps
    const streamId = this.#stream.id
    if (signal.aborted) throw new Error('session killed')
    const bytes = await readFile(seg.path)
    const src = await this.probeSource(seg.path)
    const durationMs = Math.max(1, Math.round(seg.durationSec * 1000))
    const pdtBase = base ?? { wall: closedAt - durationMs, startSec: seg.startSec }
    const pdtMs = Math.round(pdtBase.wall + (seg.startSec - pdtBase.startSec) * 1000)
    const tsName = this.sourceTsName
    await ctx.store.files.adopt(seg.path, streamId, tsName, seq)
    // CMAF: the source rendition players get is the segment remuxed to fMP4 (a stream copy); the
    // MPEG-TS cut stays in the store under SOURCE_TS for workers, spot checks and recovery.
    let renditions = [renditionRecord('source', bytes, durationMs, { width: src.width, height: src.height, codecs: src.codecs })]
    let mediaTime: number | undefined
    if (this.cmaf) {
      // CMAF tracks: the source video, and the one audio track every video rendition plays with.
      const input = ctx.store.files.path(streamId, tsName, seq)
      const codecs = src.codecs.split(',')
      // The segmenter wrote the tracks itself (one ffmpeg for every output); remuxing the .ts is
      // the fallback for a segment it did not list as fMP4 (ffmpeg exited first).
      const tracks = await this.tracksOf(seg, signal)
      renditions = []
      // An audio-only source (radio, podcasts) has no video track: its audio is its one rendition
      // (no mediaTime: that is the video's 90 kHz tfdt, which the DASH timeline is built on).
      if (src.width > 0) {
        const video = tracks?.video ?? await remuxToCmaf({ ffmpegPath: ctx.ffmpeg.ffmpeg, input, track: 'video', scratch: `${seg.path}.v.mp4`, signal })
        await ctx.store.files.write(streamId, 'source', seq, video.bytes)
        mediaTime = video.firstDecodeTime
        renditions.push(renditionRecord('source', video.bytes, durationMs, { width: src.width, height: src.height, codecs: codecs.find(c => !c.startsWith('mp4a')) ?? codecs[0]! }, { initSize: video.initSize, initSha256: video.initSha256 }))
      }
      if (src.audioCodec != null) {
        const audio = tracks?.audio ?? await remuxToCmaf({ ffmpegPath: ctx.ffmpeg.ffmpeg, input, track: 'audio', scratch: `${seg.path}.a.mp4`, signal })
        await ctx.store.files.write(streamId, AUDIO_RENDITION, seq, audio.bytes)
        renditions.push(renditionRecord(AUDIO_RENDITION, audio.bytes, durationMs, { width: 0, height: 0, codecs: codecs.find(c => c.startsWith('mp4a')) ?? 'mp4a.40.2' }, { initSize: audio.initSize, initSha256: audio.initSha256 }))
      }
    }
    // Recorded as pending before any work: if this node dies now, the next
    // start finds the segment (its source is in the store) and finishes it.
    const pending: SegmentRecord = { streamId, seq, durationMs, pdtMs, discontinuity: seq === this.#deps.firstSeq && seq > 0, renditions, pending: true, ...(mediaTime != null ? { mediaTime } : {}) }
    await ctx.store.segments.put(pending)
    await ctx.onSegmentStored(this.#stream, pending)
    await this.finish(pending, bytes, src, closedAt)
  }

  /**
   * Finishes a segment recorded as pending by a run of this node that died
   * (SIGKILL, power loss) before it was transcoded and announced.
   */
  async recover (pending: SegmentRecord): Promise<void> {
    const { ctx, log } = this.#deps
    const bytes = await ctx.store.files.read(pending.streamId, this.sourceTsName, pending.seq)
    if (bytes == null) {
      log.warn({ seq: pending.seq }, 'pending segment has no source on disk; dropping it')
      return
    }
    const src = await this.probeSource(ctx.store.files.path(pending.streamId, this.sourceTsName, pending.seq))
    log.info({ seq: pending.seq }, 'finishing a segment left pending by the last run')
    await this.finish({ ...pending, renditions: pending.renditions.filter(r => r.name === 'source' || r.name === AUDIO_RENDITION) }, bytes, src, Date.now())
  }

  /** The segmenter's own CMAF tracks of `seg`, or undefined (none written, or unreadable: logged). */
  private async tracksOf (seg: SegmentInfo, signal: AbortSignal): Promise<Awaited<ReturnType<typeof storedTracks>> | undefined> {
    if (seg.fmp4Path == null) return undefined
    try {
      return await storedTracks(seg.fmp4Path)
    } catch (err) {
      if (signal.aborted) throw err
      this.#deps.log.warn({ err, seq: seg.index }, 'the segmenter\'s fMP4 of a segment is unreadable; remuxing its .ts instead')
      return undefined
    }
  }

  /** The source's format, probed once per session; it picks the ladder and goes on the stream record. */
  private async probeSource (file: string): Promise<ProbeResult> {
    if (this.#source == null) {
      const { ctx } = this.#deps
      const source = await probeMedia(file, { ffprobePath: ctx.ffmpeg.ffprobe, ffmpegPath: ctx.ffmpeg.ffmpeg, allowAudioOnly: true })
      this.#source = source
      // Audio-only: no video ladder, no job; the audio plays as it came.
      this.#ladder = source.width > 0 ? ctx.fitLadder(source.width, source.height) : []
      this.#stream = { ...this.#stream, source: { width: source.width, height: source.height, videoCodec: source.videoCodec, audioCodec: source.audioCodec, fpsMilli: source.fpsMilli } }
    }
    return this.#source
  }

  /** Transcodes (or passes through), stores the final record and announces it to edges. */
  private async finish (pending: SegmentRecord, bytes: Uint8Array, src: ProbeResult, closedAt: number): Promise<void> {
    const { ctx, log } = this.#deps
    const { seq, durationMs, pdtMs } = pending
    // A live stream announces only the rungs it keeps now (and asks again when the job leaves the queue).
    const ladder = this.#rungs?.queued(seq, durationMs, this.#ladder) ?? this.#ladder
    let transcoded: RenditionRecord[]
    try {
      transcoded = await this.#runner.transcode(seq, durationMs, bytes, src, ladder)
    } finally {
      this.#rungs?.finished(seq)
    }
    const renditions = [...transcoded, ...pending.renditions]
    const record: SegmentRecord = { streamId: pending.streamId, seq, durationMs, pdtMs, discontinuity: pending.discontinuity, renditions, ...(pending.mediaTime != null ? { mediaTime: pending.mediaTime } : {}) }
    await ctx.store.segments.put(record)
    ctx.metrics.segmentLatency.observe((Date.now() - closedAt) / 1000)
    await ctx.onSegmentStored(this.#stream, record)
    await ctx.gossip.publish(streamTopic(this.#stream.id), codecs.segmentAnnounce, {
      streamId: record.streamId,
      seq,
      durationMs,
      pdtMs,
      discontinuity: record.discontinuity,
      renditions: record.renditions.map(toWire),
      ...(record.mediaTime != null ? { mediaTime: record.mediaTime } : {})
    })
    log.debug({ seq, durationMs, renditions: renditions.map(r => r.name), ms: Date.now() - closedAt }, 'segment ready')
  }
}
