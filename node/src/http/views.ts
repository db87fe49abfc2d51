/**
 * The JSON the HTTP API answers with, as types. A leaf file with no imports:
 * the dashboard (`web/src/api.ts`) imports these with `import type`, so the
 * server and the browser agree on one definition. The builders are in
 * `render-views.ts`.
 */

/** A rendition as the API lists it. */
export interface RenditionView {
  name: string
  width: number
  height: number
  bandwidth: number
}

/** A stream as `/api/streams` shows it (`key` and `rtmpUrl` only in the answer that created it). */
export interface StreamView {
  id: string
  name: string
  state: string
  /** ISO 8601. */
  createdAt: string
  lastSeq: number | null
  renditions: Array<RenditionView & { codecs?: string }>
  /** The probed source, once the stream was published. */
  source: { width: number, height: number, videoCodec: string, audioCodec: string | null, fpsMilli: number } | null
  /** Where a pulled stream comes from, without credentials, query or fragment; `upload` for an upload. */
  sourceUrl?: string
  vod?: true
  /** Playback needs a token (`POST /api/streams/:id/tokens`). */
  private?: true
  progress?: { segments: number, done: number, cutDone: boolean } | null
  error?: string
  key?: string
  rtmpUrl?: string
  /** The SRT publish URL (with `&passphrase=` to add if the ingest has one). */
  srtUrl?: string
  playbackUrl: string
  /** A small JPEG of the stream's latest keyframe (a VOD's poster), from an edge (`GET /live/:id/thumbnail.jpg`). */
  thumbnailUrl: string
  /** Viewers over the network: the latest claim of every edge, summed (claims: see PROTOCOL.md §viewer counts). */
  viewers: number
  /**
   * A live stream being published on this node: its transcoded rungs,
   * costliest first, and whether each is made now (`live: false`: shed
   * because the workers cannot keep up; the source always plays). Absent for
   * a VOD, a stream published elsewhere, or before its first segment.
   */
  rungs?: RungView[]
}

/** One rung of a live stream's ladder: transcoded now (`live`), or shed. */
export interface RungView {
  name: string
  live: boolean
}

/** `GET /api/streams/:id` on an edge without the ingest role: a stream it follows. */
export interface EdgeStreamView {
  id: string
  /** Viewers over the network (as in {@link StreamView.viewers}). */
  viewers: number
  playbackUrl: string
  thumbnailUrl: string
}

/** A stream as the dashboard snapshot shows it, with its viewers on this node. */
export interface DashboardStreamView {
  id: string
  name: string
  state: string
  createdAt: string
  lastSeq: number | null
  renditions: RenditionView[]
  /** Viewers of this node (edge role). */
  viewers: number
  /** Viewers over the network: every edge's latest claim summed (see PROTOCOL.md, viewer counts). */
  networkViewers: number
  playbackUrl: string
  /** `GET /live/:id/thumbnail.jpg` on this node (edge role). */
  thumbnailUrl: string
  /** See {@link StreamView.rungs}. */
  rungs?: RungView[]
}

/** A peer this node knows of (presence) or is connected to; the one shape of `/api/node` and the dashboard. */
export interface PeerView {
  peerId: string
  /** [] for a connected peer not heard on presence yet. */
  roles: string[]
  connected: boolean
  multiaddrs: string[]
  httpUrl: string
  activeJobs: number
  maxJobs: number
  gpu: boolean
  hwKind: string
  agent: string
  lastSeen: number
  /** Ping round trip, ms; null when not measured (only the dashboard measures it, while watched). */
  rttMs: number | null
}

/** A worker's calibration as the API shows it. */
export interface CalibrationView {
  encoder: string
  fixedMs: number
  msPerMediaSec: number
  source: { width: number, height: number }
  ladder: string[]
  runs: Array<{ durationMs: number, elapsedMs: number }>
  measuredAt: number
}

/** This node's worker role: encoder, capacity, price and calibration. */
export interface WorkerInfoView {
  activeJobs: number
  maxJobs: number
  encoder: string
  gpu: boolean
  hwKind: string
  price: number
  calibration: CalibrationView | null
}

/** `GET /api/node`. */
export interface NodeInfoView {
  peerId: string
  version: string
  roles: string[]
  multiaddrs: string[]
  httpUrl: string
  rtmpPort?: number
  uptimeSec: number
  ffmpeg?: { path: string, source: string, encoder: string }
  worker?: WorkerInfoView
  peers: PeerView[]
}

/** This node in the dashboard snapshot. */
export interface NodeView {
  peerId: string
  version: string
  roles: string[]
  multiaddrs: string[]
  httpUrl: string
  rtmpPort: number | null
  uptimeSec: number
  cpu: { processPercent: number, cores: number, load1: number }
  memory: { rssBytes: number, heapUsedBytes: number, totalBytes: number }
  ffmpeg: { path: string, source: string, version: string, encoder: string } | null
  worker: { activeJobs: number, maxJobs: number } | null
}

/** A job's state in the ingest's ledger (as `JobState` of `@diststream/scheduler`). */
export type JobState = 'announced' | 'bidding' | 'assigned' | 'done' | 'failed' | 'passthrough'

/** A job as `/api/jobs` and the dashboard show it (as `JobRecord` of `@diststream/scheduler`; checked in render-views.ts). */
export interface JobView {
  jobId: string
  streamId: string
  seq: number
  state: JobState
  worker: string | null
  attempts: number
  bids: number
  bidders: Array<{ peerId: string, estimateMs: number, at: number }>
  durationMs: number | null
  createdAt: number
  finishedAt: number | null
  reason: string | null
  history: Array<{ worker: string, outcome: 'ok' | 'timeout' | 'error' | 'rejected' | 'invalid' | 'cancelled' | null, reason: string | null, startedAt: number, endedAt: number | null }>
}

/** One worker's record at this ingest, derived from its job ledger. */
export interface WorkerStat {
  peerId: string
  /** Jobs this worker completed (`done` with it as the worker). */
  done: number
  /** Attempts that ended in timeout, error or rejection. */
  failed: number
  /** Attempts started on it. */
  attempts: number
  /** Bids it sent. */
  bids: number
  /** Mean attempt time of its successful attempts, ms. */
  meanTranscodeMs: number | null
  /** Share of its ended attempts that succeeded, 0..1 (null before any ended). */
  successRate: number | null
  lastAt: number
}

/** `GET /api/dashboard` and each `snapshot` event of `/api/events`. */
export interface DashboardSnapshot {
  at: number
  node: NodeView
  peers: PeerView[]
  streams: DashboardStreamView[]
  workers: WorkerStat[]
  edgeViewers: number | null
  /** Streams this edge serves to viewers now. */
  edgeStreams: Array<{ id: string, viewers: number, networkViewers: number }>
  /** The recent jobs, in the first snapshot of an `/api/events` connection only. */
  jobs?: JobView[]
}

/** A `job` event of `/api/events`: the ledger changed. */
export interface JobEventView {
  kind: 'created' | 'state' | 'bid' | 'attempt-start' | 'attempt-end' | 'evicted'
  job: JobView
}
