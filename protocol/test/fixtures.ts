import { createHash } from 'node:crypto'
import {
  FetchRequest, FetchResponse, StreamAnnounce, TranscodeResponse
} from '../src/index.js'
import type {
  Bid, BidAck, Have, JobAnnounce, Presence, Rendition, SegmentAnnounce, TranscodeRequest, ViewerCounts
} from '../src/index.js'

/** Realistic sample messages; every call returns fresh objects. */

export function sha (s: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(s).digest())
}

/** /ip4/192.168.1.20/tcp/4001 as a binary multiaddr */
export const MA_TCP = new Uint8Array([0x04, 192, 168, 1, 20, 0x06, 0x0f, 0xa1])

export function segmentRenditions (): Rendition[] {
  return [
    { name: '720p', width: 1280, height: 720, bandwidth: 3_208_000, codecs: 'avc1.64001f,mp4a.40.2', size: 1_512_340, sha256: sha('720p') },
    { name: '480p', width: 854, height: 480, bandwidth: 1_668_000, codecs: 'avc1.64001e,mp4a.40.2', size: 801_220, sha256: sha('480p') },
    { name: 'source', width: 1920, height: 1080, bandwidth: 6_000_000, codecs: 'avc1.640028,mp4a.40.2', size: 2_900_000, sha256: sha('source') }
  ]
}

export function presence (): Presence {
  return {
    roles: ['worker', 'edge'],
    multiaddrs: [MA_TCP],
    httpUrl: 'http://192.168.1.20:8080',
    activeJobs: 1,
    maxJobs: 4,
    gpu: true,
    hwKind: 'nvenc',
    agent: 'diststream-node/0.1.0',
    startedAtMs: 1_732_000_000_000
  }
}

export function jobAnnounce (): JobAnnounce {
  return {
    jobId: 'job_4f3a-0017',
    streamId: 'lobby-cam',
    seq: 17,
    durationMs: 2000,
    size: 1_048_576 * 3,
    width: 1920,
    height: 1080,
    videoCodec: 'h264',
    audioCodec: 'aac',
    fpsMilli: 29_970,
    ladder: [
      { name: '720p', width: 1280, height: 720, videoKbps: 2800 },
      { name: '480p', width: 0, height: 480, videoKbps: 1400 }
    ],
    deadlineMs: 1_732_000_004_000,
    issuedAtMs: 1_732_000_000_000
  }
}

export function streamAnnounce (): StreamAnnounce {
  return {
    streamId: 'lobby-cam',
    name: 'Lobby camera — east wing',
    state: StreamAnnounce.State.LIVE,
    renditions: segmentRenditions().map(r => ({ ...r, size: 0, sha256: new Uint8Array(0) })),
    targetDurationMs: 2000,
    lastSeq: 17,
    ingestMultiaddrs: [MA_TCP],
    updatedAtMs: 1_732_000_000_500,
    salt: new Uint8Array(16).fill(7)
  }
}

export function segmentAnnounce (seq = 17): SegmentAnnounce {
  return {
    streamId: 'lobby-cam',
    seq,
    durationMs: 2002,
    pdtMs: 1_732_000_000_000 + seq * 2000,
    discontinuity: false,
    renditions: segmentRenditions()
  }
}

export function bid (): Bid {
  return { jobId: 'job_4f3a-0017', estimateMs: 850, activeJobs: 1, maxJobs: 4, gpu: true, hwKind: 'nvenc', price: 0 }
}

export function bidAck (): BidAck {
  return { accepted: true, reason: '' }
}

export function transcodeRequest (): TranscodeRequest {
  const job = jobAnnounce()
  return { job, segmentSize: job.size }
}

export function transcodeResponse (): TranscodeResponse {
  return {
    status: TranscodeResponse.Status.OK,
    error: '',
    renditions: segmentRenditions().slice(0, 2),
    elapsedMs: 1210,
    encoder: 'h264_nvenc'
  }
}

export function fetchRequest (): FetchRequest {
  return { kind: FetchRequest.Kind.SEGMENT, streamId: 'lobby-cam', rendition: '720p', seq: 17 }
}

export function fetchResponse (): FetchResponse {
  return { status: FetchResponse.Status.OK, error: '', size: 1_512_340, sha256: sha('720p'), segments: [] }
}

export function fetchIndexResponse (): FetchResponse {
  return {
    status: FetchResponse.Status.OK,
    error: '',
    size: 0,
    sha256: new Uint8Array(0),
    stream: streamAnnounce(),
    segments: [15, 16, 17].map(seq => segmentAnnounce(seq))
  }
}

export function fetchBusyResponse (): FetchResponse {
  return {
    status: FetchResponse.Status.BUSY,
    error: 'served 2 copies; fetch from a holder',
    size: 0,
    sha256: new Uint8Array(0),
    segments: [],
    busy: { holders: ['12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'] }
  }
}

export function have (): Have {
  return { streamId: 'lobby-cam', seq: 17, renditions: ['720p', 'source'] }
}

export function viewerCounts (): ViewerCounts {
  return { streams: [{ streamId: 'lobby-cam', viewers: 12 }, { streamId: 'stage', viewers: 1 }], sentAtMs: 1_700_000_000_000 }
}

export const samples = {
  presence,
  jobAnnounce,
  streamAnnounce,
  segmentAnnounce: () => segmentAnnounce(),
  bid,
  bidAck,
  transcodeRequest,
  transcodeResponse,
  fetchRequest,
  fetchResponse,
  have,
  viewerCounts
} as const
