import { StreamAnnounce, verifyStreamOwner } from '@diststream/protocol'
import type { JobAnnounce } from '@diststream/protocol'

/**
 * What a worker is willing to do for one job. The wire protocol's limits
 * (PROTOCOL.md §3) are what a peer may *say*; these are what this worker will
 * *spend* on it: a valid JobAnnounce may still ask for an 8192x8192 rung of a
 * 60 s segment, which no honest ingest does.
 */
export interface JobLimits {
  /** Largest output width and height (default 1920x1080); rungs are also capped at the source size. */
  maxWidth: number
  maxHeight: number
  /** Most rungs in one job (default 5, the standard ladder). */
  maxRungs: number
  /** Largest segment, in bytes (default 32 MiB). */
  maxSegmentBytes: number
  /** Longest segment (default 20 s). */
  maxDurationMs: number
  /** Highest video bitrate of one rung (default 20 000 kbps). */
  maxVideoKbps: number
  /** Highest source frame rate, ×1000 (default 240 fps). */
  maxFpsMilli: number
}

export const DEFAULT_JOB_LIMITS: Readonly<JobLimits> = Object.freeze({
  maxWidth: 1920,
  maxHeight: 1080,
  maxRungs: 5,
  maxSegmentBytes: 32 * 1024 * 1024,
  maxDurationMs: 20_000,
  maxVideoKbps: 20_000,
  maxFpsMilli: 240_000
})

/**
 * Why this worker will not take `job`, or undefined if it will. Pure: the
 * same answer at bid time and when the transcode request arrives.
 */
export function refuseJob (job: JobAnnounce, limits: JobLimits = DEFAULT_JOB_LIMITS): string | undefined {
  if (job.ladder.length === 0) return 'empty ladder'
  if (job.ladder.length > limits.maxRungs) return `ladder has ${job.ladder.length} rungs, this worker takes at most ${limits.maxRungs}`
  if (job.size > limits.maxSegmentBytes) return `segment of ${job.size} bytes exceeds this worker's ${limits.maxSegmentBytes}`
  if (job.durationMs > limits.maxDurationMs) return `segment of ${job.durationMs} ms exceeds this worker's ${limits.maxDurationMs} ms`
  if (job.width === 0 || job.height === 0) return 'source size missing'
  if (job.fpsMilli > limits.maxFpsMilli) return `source frame rate ${job.fpsMilli / 1000} fps exceeds ${limits.maxFpsMilli / 1000}`
  for (const r of job.ladder) {
    const name = `rung ${r.name}`
    if (r.width < 2 || r.height < 2 || r.width % 2 !== 0 || r.height % 2 !== 0) return `${name}: ${r.width}x${r.height} is not an even, positive size`
    if (r.width > job.width || r.height > job.height) return `${name}: ${r.width}x${r.height} is larger than the source ${job.width}x${job.height}`
    if (r.width > limits.maxWidth || r.height > limits.maxHeight) return `${name}: ${r.width}x${r.height} exceeds this worker's ${limits.maxWidth}x${limits.maxHeight}`
    if (r.videoKbps > limits.maxVideoKbps) return `${name}: ${r.videoKbps} kbps exceeds ${limits.maxVideoKbps}`
  }
  return undefined
}

/** Most streams whose ingest a worker remembers: far more than the live streams of any network this worker can serve. */
export const MAX_STREAM_ORIGINS = 4096
/** A binding announced within this long is live (ingests announce every 2 s: three missed announcements) and never evicted to make room. */
export const LIVE_ORIGIN_MS = 6000

/** Why a StreamAnnounce was not taken by {@link StreamOrigins.announce}, as a protocol-error reason. */
export type OriginRefusal = 'streams:foreign-announce' | 'streams:stale-announce' | 'streams:origins-full'

/**
 * Which peer is the ingest of which stream, as this worker has seen it:
 * the signer of the stream's StreamAnnounce, and only when the stream id
 * commits to that signer (`verifyStreamOwner`, PROTOCOL.md §9.1), so no
 * other peer can bind a stream whoever speaks first. An announcement older
 * than the one held (`updatedAtMs`) is refused, so a replayed ENDED cannot
 * unbind a live stream. Bounded: past `max`, the entry announced longest
 * ago goes if it is ended or stale; if even that one is live, a flood is on
 * and the newcomer is refused (`streams:origins-full`): live bindings are
 * never evicted by a flood.
 */
export class StreamOrigins {
  private readonly map = new Map<string, { ingest: string, updatedAtMs: number, ended: boolean, heardAt: number }>()

  constructor (private readonly max = MAX_STREAM_ORIGINS, private readonly now: () => number = Date.now) {}

  /** Records a StreamAnnounce from `from`; why not when it is refused. */
  announce (msg: Pick<StreamAnnounce, 'streamId' | 'salt' | 'updatedAtMs' | 'state'>, from: string): OriginRefusal | undefined {
    if (!verifyStreamOwner(msg.streamId, from, msg.salt)) return 'streams:foreign-announce'
    const held = this.map.get(msg.streamId)
    if (held != null && held.updatedAtMs > msg.updatedAtMs) return 'streams:stale-announce'
    const now = this.now()
    // Re-inserted: the order is by last announcement, so the stalest comes first.
    this.map.delete(msg.streamId)
    this.map.set(msg.streamId, { ingest: from, updatedAtMs: msg.updatedAtMs, ended: msg.state === StreamAnnounce.State.ENDED, heardAt: now })
    if (held != null || this.map.size <= this.max) return undefined
    const [oldestId, oldest] = this.map.entries().next().value!
    if (oldest.ended || now - oldest.heardAt >= LIVE_ORIGIN_MS) {
      this.map.delete(oldestId)
      return undefined
    }
    this.map.delete(msg.streamId)
    return 'streams:origins-full'
  }

  /** The live stream's ingest; undefined when unknown or ended. */
  ingestOf (streamId: string): string | undefined {
    const e = this.map.get(streamId)
    return e == null || e.ended ? undefined : e.ingest
  }
}

/**
 * The jobs this worker bid on, and to whom: a transcode request is only
 * taken from the peer the bid went to, for the stream the job announced.
 * Entries live `ttlMs` (a job may fall to a later bidder well after the bid
 * window) and at most `max` are kept.
 */
export class BidBook {
  private readonly map = new Map<string, { ingest: string, streamId: string, seq: number, until: number }>()

  constructor (private readonly ttlMs = 120_000, private readonly max = 4096, private readonly now: () => number = Date.now) {}

  record (job: Pick<JobAnnounce, 'jobId' | 'streamId' | 'seq'>, ingest: string): void {
    this.map.delete(job.jobId)
    this.map.set(job.jobId, { ingest, streamId: job.streamId, seq: job.seq, until: this.now() + this.ttlMs })
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!)
  }

  /** Why a transcode request for `job` from `peer` is not one we bid on, or undefined if it is. */
  check (job: Pick<JobAnnounce, 'jobId' | 'streamId' | 'seq'>, peer: string): string | undefined {
    const e = this.map.get(job.jobId)
    if (e == null || e.until < this.now()) return `no bid of ours for job ${job.jobId}`
    if (e.ingest !== peer) return `job ${job.jobId} was announced by another peer`
    if (e.streamId !== job.streamId || e.seq !== job.seq) return `job ${job.jobId} does not match its announcement`
    return undefined
  }
}
