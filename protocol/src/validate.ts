import { ProtocolError } from './errors.js'
import { isRole } from './constants.js'
import {
  ID_PATTERN, MAX_DIMENSION, MAX_DURATION_MS, MAX_INIT_BYTES, MAX_INDEX_SEGMENTS, MAX_LADDER, MAX_MULTIADDRS,
  MAX_RENDITIONS, MAX_ROLES, MAX_SEGMENT_BYTES, MAX_STRING, SHA256_BYTES, MAX_HOLDERS, PEER_ID_PATTERN, STREAM_SALT_BYTES,
  MAX_VIEWER_COUNT_STREAMS
} from './limits.js'
import { FetchRequest, FetchResponse, StreamAnnounce, TranscodeResponse } from './pb/messages.js'
import type {
  Bid, BidAck, Have, JobAnnounce, Presence, Rendition, Rung, SegmentAnnounce, TranscodeRequest, ViewerCounts
} from './pb/messages.js'

/**
 * Semantic validation of decoded messages. Every function throws
 * ProtocolError('invalid') naming the offending field, or returns nothing.
 * The rules are listed in PROTOCOL.md "Validation".
 */

const UINT32_MAX = 0xffff_ffff

function fail (path: string, rule: string): never {
  throw new ProtocolError('invalid', `${path} ${rule}`)
}

/** UTF-8 length of a string in bytes. */
export function utf8Length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++ } else n += 3
  }
  return n
}

/** Cuts `s` to at most `maxBytes` UTF-8 bytes without splitting a character (for error/reason texts). */
export function truncateUtf8 (s: string, maxBytes: number = MAX_STRING): string {
  if (s.length <= maxBytes / 3 || utf8Length(s) <= maxBytes) return s
  let n = 0
  let out = ''
  for (const ch of s) {
    const len = utf8Length(ch)
    if (n + len > maxBytes) break
    n += len
    out += ch
  }
  return out
}

export function checkId (v: string, path: string): void {
  if (typeof v !== 'string' || !ID_PATTERN.test(v)) fail(path, `must match ${String(ID_PATTERN)}`)
}

export function checkString (v: string, path: string, max = MAX_STRING): void {
  if (typeof v !== 'string' || utf8Length(v) > max) fail(path, `must be at most ${max} UTF-8 bytes`)
  // protons decodes invalid UTF-8 leniently, sometimes into unpaired surrogates: refuse those
  if (!v.isWellFormed()) fail(path, 'must be valid UTF-8')
}

export function checkInt (v: number, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) fail(path, `must be an integer in ${min}..${max}`)
}

function checkUint32 (v: number, path: string): void { checkInt(v, path, 0, UINT32_MAX) }
function checkDimension (v: number, path: string, min = 0): void { checkInt(v, path, min, MAX_DIMENSION) }
function checkDuration (v: number, path: string, min = 0): void { checkInt(v, path, min, MAX_DURATION_MS) }

function checkBytes (v: Uint8Array, path: string, min: number, max: number): void {
  if (!(v instanceof Uint8Array) || v.byteLength < min || v.byteLength > max) fail(path, `must be ${min}..${max} bytes`)
}

function checkCount (list: unknown[], path: string, min: number, max: number): void {
  if (!Array.isArray(list) || list.length < min || list.length > max) fail(path, `must have ${min}..${max} entries`)
}

function checkEnum (v: string, enumObject: object, path: string): void {
  const values = Object.values(enumObject).filter(x => typeof x === 'string')
  if (!values.includes(v)) fail(path, `must be one of ${values.join(', ')}`)
}

function checkUnique (names: string[], path: string): void {
  if (new Set(names).size !== names.length) fail(path, 'names must be unique')
}

function checkMultiaddrs (list: Uint8Array[], path: string): void {
  checkCount(list, path, 0, MAX_MULTIADDRS)
  list.forEach((ma, i) => { checkBytes(ma, `${path}[${i}]`, 1, MAX_STRING) })
}

/**
 * `stream`: a stream-level list (StreamAnnounce): size 0 and sha256 empty.
 * `segment`: one segment's renditions: size 1..MAX_SEGMENT_BYTES and a 32-byte sha256.
 */
export type RenditionScope = 'stream' | 'segment'

export function validateRendition (r: Rendition, path: string, scope: RenditionScope): void {
  checkId(r.name, `${path}.name`)
  checkDimension(r.width, `${path}.width`)
  checkDimension(r.height, `${path}.height`)
  checkUint32(r.bandwidth, `${path}.bandwidth`)
  checkString(r.codecs, `${path}.codecs`)
  if (scope === 'segment') {
    checkInt(r.size, `${path}.size`, 1, MAX_SEGMENT_BYTES)
    checkBytes(r.sha256, `${path}.sha256`, SHA256_BYTES, SHA256_BYTES)
    if ((r.initSize == null) !== (r.initSha256 == null)) fail(`${path}.initSize`, 'and initSha256 must be both present or both absent')
    if (r.initSize != null) {
      // The init is a strict prefix: a media segment follows it.
      checkInt(r.initSize, `${path}.initSize`, 8, Math.min(MAX_INIT_BYTES, r.size - 1))
      checkBytes(r.initSha256!, `${path}.initSha256`, SHA256_BYTES, SHA256_BYTES)
    }
  } else {
    checkInt(r.size, `${path}.size`, 0, 0)
    checkBytes(r.sha256, `${path}.sha256`, 0, 0)
    if (r.initSize != null || r.initSha256 != null) fail(`${path}.initSize`, 'must be absent in stream-level lists')
  }
}

/** Rendition containers (`JobAnnounce.container`, `StreamAnnounce.container`); absent or "" means "ts". */
export const CONTAINERS = ['ts', 'cmaf'] as const
export type Container = typeof CONTAINERS[number]

function checkContainer (v: string | undefined, path: string): void {
  if (v != null && v !== '' && !(CONTAINERS as readonly string[]).includes(v)) fail(path, `must be one of ${CONTAINERS.join(', ')} (or absent)`)
}

/** The container a JobAnnounce or StreamAnnounce names ("ts" when absent). Validate first. */
export function containerOf (m: { container?: string }): Container {
  return m.container === 'cmaf' ? 'cmaf' : 'ts'
}

function validateRenditions (list: Rendition[], path: string, scope: RenditionScope, min: number): void {
  checkCount(list, path, min, MAX_RENDITIONS)
  list.forEach((r, i) => { validateRendition(r, `${path}[${i}]`, scope) })
  checkUnique(list.map(r => r.name), path)
}

export function validateRung (r: Rung, path: string): void {
  checkId(r.name, `${path}.name`)
  checkDimension(r.width, `${path}.width`)
  checkDimension(r.height, `${path}.height`, 1)
  checkInt(r.videoKbps, `${path}.videoKbps`, 1, UINT32_MAX)
}

export function validatePresence (m: Presence, path = 'Presence'): void {
  checkCount(m.roles, `${path}.roles`, 1, MAX_ROLES)
  m.roles.forEach((r, i) => { if (!isRole(r)) fail(`${path}.roles[${i}]`, 'must be one of ingest, worker, edge, bootstrap') })
  checkUnique(m.roles, `${path}.roles`)
  checkMultiaddrs(m.multiaddrs, `${path}.multiaddrs`)
  checkString(m.httpUrl, `${path}.httpUrl`)
  if (m.httpUrl !== '' && !/^https?:\/\/[^/?#\s]+/.test(m.httpUrl)) fail(`${path}.httpUrl`, 'must be empty or an http(s) URL')
  checkUint32(m.activeJobs, `${path}.activeJobs`)
  checkUint32(m.maxJobs, `${path}.maxJobs`)
  checkString(m.hwKind, `${path}.hwKind`)
  checkString(m.agent, `${path}.agent`)
  checkInt(m.startedAtMs, `${path}.startedAtMs`)
}

export function validateJobAnnounce (m: JobAnnounce, path = 'JobAnnounce'): void {
  checkId(m.jobId, `${path}.jobId`)
  checkId(m.streamId, `${path}.streamId`)
  checkInt(m.seq, `${path}.seq`)
  checkDuration(m.durationMs, `${path}.durationMs`, 1)
  checkInt(m.size, `${path}.size`, 1, MAX_SEGMENT_BYTES)
  checkDimension(m.width, `${path}.width`)
  checkDimension(m.height, `${path}.height`)
  checkString(m.videoCodec, `${path}.videoCodec`)
  checkString(m.audioCodec, `${path}.audioCodec`)
  checkUint32(m.fpsMilli, `${path}.fpsMilli`)
  checkCount(m.ladder, `${path}.ladder`, 1, MAX_LADDER)
  m.ladder.forEach((r, i) => { validateRung(r, `${path}.ladder[${i}]`) })
  checkUnique(m.ladder.map(r => r.name), `${path}.ladder`)
  checkInt(m.deadlineMs, `${path}.deadlineMs`)
  checkInt(m.issuedAtMs, `${path}.issuedAtMs`)
  checkContainer(m.container, `${path}.container`)
}

export function validateStreamAnnounce (m: StreamAnnounce, path = 'StreamAnnounce'): void {
  checkId(m.streamId, `${path}.streamId`)
  checkString(m.name, `${path}.name`)
  checkEnum(m.state, StreamAnnounce.State, `${path}.state`)
  validateRenditions(m.renditions, `${path}.renditions`, 'stream', 0)
  checkDuration(m.targetDurationMs, `${path}.targetDurationMs`)
  checkInt(m.lastSeq, `${path}.lastSeq`)
  checkMultiaddrs(m.ingestMultiaddrs, `${path}.ingestMultiaddrs`)
  checkInt(m.updatedAtMs, `${path}.updatedAtMs`)
  checkContainer(m.container, `${path}.container`)
  // Whether the salt makes the signer the owner is the receiver's check (verifyStreamOwner): it needs the signer.
  checkBytes(m.salt, `${path}.salt`, STREAM_SALT_BYTES, STREAM_SALT_BYTES)
}

export function validateSegmentAnnounce (m: SegmentAnnounce, path = 'SegmentAnnounce'): void {
  checkId(m.streamId, `${path}.streamId`)
  checkInt(m.seq, `${path}.seq`)
  checkDuration(m.durationMs, `${path}.durationMs`, 1)
  checkInt(m.pdtMs, `${path}.pdtMs`)
  validateRenditions(m.renditions, `${path}.renditions`, 'segment', 1)
  if (m.mediaTime != null) checkInt(m.mediaTime, `${path}.mediaTime`)
}

export function validateBid (m: Bid, path = 'Bid'): void {
  checkId(m.jobId, `${path}.jobId`)
  checkUint32(m.estimateMs, `${path}.estimateMs`)
  checkUint32(m.activeJobs, `${path}.activeJobs`)
  checkUint32(m.maxJobs, `${path}.maxJobs`)
  checkString(m.hwKind, `${path}.hwKind`)
  checkInt(m.price, `${path}.price`)
}

export function validateBidAck (m: BidAck, path = 'BidAck'): void {
  checkString(m.reason, `${path}.reason`)
}

export function validateTranscodeRequest (m: TranscodeRequest, path = 'TranscodeRequest'): void {
  if (m.job == null) fail(`${path}.job`, 'is required')
  validateJobAnnounce(m.job, `${path}.job`)
  checkInt(m.segmentSize, `${path}.segmentSize`, 1, MAX_SEGMENT_BYTES)
  if (m.segmentSize !== m.job.size) fail(`${path}.segmentSize`, 'must equal job.size')
}

export function validateTranscodeResponse (m: TranscodeResponse, path = 'TranscodeResponse'): void {
  checkEnum(m.status, TranscodeResponse.Status, `${path}.status`)
  checkString(m.error, `${path}.error`)
  if (m.status === TranscodeResponse.Status.OK) {
    validateRenditions(m.renditions, `${path}.renditions`, 'segment', 1)
  } else {
    checkCount(m.renditions, `${path}.renditions`, 0, 0)
  }
  checkUint32(m.elapsedMs, `${path}.elapsedMs`)
  checkString(m.encoder, `${path}.encoder`)
}

export function validateFetchRequest (m: FetchRequest, path = 'FetchRequest'): void {
  checkEnum(m.kind, FetchRequest.Kind, `${path}.kind`)
  checkId(m.streamId, `${path}.streamId`)
  checkInt(m.seq, `${path}.seq`)
  if (m.kind === FetchRequest.Kind.SEGMENT) checkId(m.rendition, `${path}.rendition`)
  else if (m.rendition !== '') fail(`${path}.rendition`, 'must be empty for INDEX')
}

/**
 * Context-free: an OK response with `stream` set is an INDEX answer, without it
 * a SEGMENT answer. Whether the shape fits the request is the edge's check
 * (ProtocolError('unexpected_message')).
 */
export function validateFetchResponse (m: FetchResponse, path = 'FetchResponse'): void {
  checkEnum(m.status, FetchResponse.Status, `${path}.status`)
  checkString(m.error, `${path}.error`)
  if (m.busy != null) {
    if (m.status !== FetchResponse.Status.BUSY) fail(`${path}.busy`, 'must be absent unless BUSY')
    const holders = m.busy.holders
    checkCount(holders, `${path}.busy.holders`, 0, MAX_HOLDERS)
    holders.forEach((h, i) => { if (!PEER_ID_PATTERN.test(h)) fail(`${path}.busy.holders[${i}]`, `must match ${String(PEER_ID_PATTERN)}`) })
    checkUnique(holders, `${path}.busy.holders`)
  }
  if (m.status !== FetchResponse.Status.OK) {
    checkInt(m.size, `${path}.size`, 0, 0)
    checkBytes(m.sha256, `${path}.sha256`, 0, 0)
    if (m.stream != null) fail(`${path}.stream`, 'must be absent unless OK')
    checkCount(m.segments, `${path}.segments`, 0, 0)
  } else if (m.stream == null) {
    checkInt(m.size, `${path}.size`, 1, MAX_SEGMENT_BYTES)
    checkBytes(m.sha256, `${path}.sha256`, SHA256_BYTES, SHA256_BYTES)
    checkCount(m.segments, `${path}.segments`, 0, 0)
  } else {
    checkInt(m.size, `${path}.size`, 0, 0)
    checkBytes(m.sha256, `${path}.sha256`, 0, 0)
    validateStreamAnnounce(m.stream, `${path}.stream`)
    checkCount(m.segments, `${path}.segments`, 0, MAX_INDEX_SEGMENTS)
    let prev = -1
    m.segments.forEach((s, i) => {
      validateSegmentAnnounce(s, `${path}.segments[${i}]`)
      if (s.streamId !== m.stream?.streamId) fail(`${path}.segments[${i}].streamId`, 'must equal stream.streamId')
      if (s.seq <= prev) fail(`${path}.segments[${i}].seq`, 'must be strictly increasing (oldest first)')
      prev = s.seq
    })
  }
}

export function validateHave (m: Have, path = 'Have'): void {
  checkId(m.streamId, `${path}.streamId`)
  checkInt(m.seq, `${path}.seq`)
  checkCount(m.renditions, `${path}.renditions`, 1, MAX_RENDITIONS)
  m.renditions.forEach((r, i) => { checkId(r, `${path}.renditions[${i}]`) })
  checkUnique(m.renditions, `${path}.renditions`)
}

export function validateViewerCounts (m: ViewerCounts, path = 'ViewerCounts'): void {
  checkCount(m.streams, `${path}.streams`, 0, MAX_VIEWER_COUNT_STREAMS)
  m.streams.forEach((s, i) => {
    checkId(s.streamId, `${path}.streams[${i}].streamId`)
    checkUint32(s.viewers, `${path}.streams[${i}].viewers`)
  })
  checkUnique(m.streams.map(s => s.streamId), `${path}.streams`)
  checkInt(m.sentAtMs, `${path}.sentAtMs`)
}
