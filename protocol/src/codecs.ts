import { ProtocolError, isProtocolError } from './errors.js'
import {
  MAX_CONTROL_BYTES, MAX_GOSSIP_BYTES, MAX_HOLDERS, MAX_INDEX_SEGMENTS, MAX_LADDER, MAX_MULTIADDRS, MAX_RENDITIONS, MAX_ROLES, MAX_VIEWER_COUNT_STREAMS
} from './limits.js'
import {
  Bid, BidAck, FetchRequest, FetchResponse, Have, JobAnnounce, Presence, SegmentAnnounce, StreamAnnounce,
  TranscodeRequest, TranscodeResponse, ViewerCounts
} from './pb/messages.js'
import {
  validateBid, validateBidAck, validateFetchRequest, validateFetchResponse, validateHave, validateJobAnnounce,
  validatePresence, validateSegmentAnnounce, validateStreamAnnounce, validateTranscodeRequest,
  validateTranscodeResponse, validateViewerCounts
} from './validate.js'
import type { DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * A checked codec for one message type.
 *
 * - `decode` refuses input longer than `maxBytes` before looking at it
 *   (`too_large`), decodes with count limits on every repeated field (`invalid`
 *   when one is exceeded, `malformed` on any other protobuf error), then
 *   validates the result (`invalid`). It throws nothing but ProtocolError.
 * - `encode` validates first (`invalid`) and refuses output over `maxBytes`
 *   (`too_large`), so a sender finds its bug locally instead of being silently
 *   dropped by every receiver.
 */
export interface MessageCodec<T> {
  /** Message name, e.g. 'JobAnnounce'. Handy as a metrics label. */
  name: string
  /** Largest accepted encoding: MAX_GOSSIP_BYTES for gossip, MAX_CONTROL_BYTES for stream messages. */
  maxBytes: number
  encode: (msg: T) => Uint8Array
  decode: (buf: Uint8Array | Uint8ArrayList) => T
}

/** The codecs in `codecs` also expose their semantic validation on its own. */
export interface CheckedCodec<T> extends MessageCodec<T> {
  /** Throws ProtocolError('invalid') unless `msg` passes the rules decode applies. */
  validate: (msg: T) => void
}

interface Generated<T> {
  encode: (obj: Partial<T>) => Uint8Array
  decode: (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<T>) => T
}

function errorName (err: unknown): string {
  return err instanceof Error ? err.name : typeof err
}

function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function makeCodec<T> (name: string, maxBytes: number, gen: Generated<T>, limits: DecodeOptions<T>['limits'], validate: (msg: T) => void): CheckedCodec<T> {
  const check = (msg: T): void => {
    try {
      validate(msg)
    } catch (err) {
      if (isProtocolError(err)) throw err
      // a value of the wrong type reaching a validator (encode side)
      throw new ProtocolError('invalid', `${name}: ${describe(err)}`, { cause: err })
    }
  }
  return {
    name,
    maxBytes,
    validate: check,
    encode (msg: T): Uint8Array {
      check(msg)
      let buf: Uint8Array
      try {
        buf = gen.encode(msg)
      } catch (err) {
        throw new ProtocolError('invalid', `${name}: cannot encode: ${describe(err)}`, { cause: err })
      }
      if (buf.byteLength > maxBytes) {
        throw new ProtocolError('too_large', `${name}: encoding is ${buf.byteLength} bytes, limit ${maxBytes}`)
      }
      return buf
    },
    decode (buf: Uint8Array | Uint8ArrayList): T {
      if (buf.byteLength > maxBytes) {
        throw new ProtocolError('too_large', `${name}: ${buf.byteLength} bytes, limit ${maxBytes}`)
      }
      let msg: T
      try {
        msg = gen.decode(buf, { limits })
      } catch (err) {
        if (errorName(err) === 'MaxLengthError') {
          throw new ProtocolError('invalid', `${name}: ${describe(err)}`, { cause: err })
        }
        throw new ProtocolError('malformed', `${name}: ${describe(err)}`, { cause: err })
      }
      check(msg)
      return msg
    }
  }
}

const renditionsLimit = { renditions: MAX_RENDITIONS }
const streamLimits = { renditions: MAX_RENDITIONS, ingestMultiaddrs: MAX_MULTIADDRS }
const jobLimits = { ladder: MAX_LADDER }

/** Checked codecs for every DistStream message. */
export const codecs = {
  /** gossip TOPIC_PRESENCE */
  presence: makeCodec<Presence>('Presence', MAX_GOSSIP_BYTES, Presence, { roles: MAX_ROLES, multiaddrs: MAX_MULTIADDRS }, m => { validatePresence(m) }),
  /** gossip TOPIC_JOBS */
  jobAnnounce: makeCodec<JobAnnounce>('JobAnnounce', MAX_GOSSIP_BYTES, JobAnnounce, jobLimits, m => { validateJobAnnounce(m) }),
  /** gossip TOPIC_STREAMS */
  streamAnnounce: makeCodec<StreamAnnounce>('StreamAnnounce', MAX_GOSSIP_BYTES, StreamAnnounce, streamLimits, m => { validateStreamAnnounce(m) }),
  /** gossip streamTopic(id) */
  segmentAnnounce: makeCodec<SegmentAnnounce>('SegmentAnnounce', MAX_GOSSIP_BYTES, SegmentAnnounce, renditionsLimit, m => { validateSegmentAnnounce(m) }),
  /** PROTOCOL_BID, worker → ingest */
  bid: makeCodec<Bid>('Bid', MAX_CONTROL_BYTES, Bid, {}, m => { validateBid(m) }),
  /** PROTOCOL_BID, ingest → worker */
  bidAck: makeCodec<BidAck>('BidAck', MAX_CONTROL_BYTES, BidAck, {}, m => { validateBidAck(m) }),
  /** PROTOCOL_TRANSCODE, ingest → worker */
  transcodeRequest: makeCodec<TranscodeRequest>('TranscodeRequest', MAX_CONTROL_BYTES, TranscodeRequest, { job: jobLimits }, m => { validateTranscodeRequest(m) }),
  /** PROTOCOL_TRANSCODE, worker → ingest */
  transcodeResponse: makeCodec<TranscodeResponse>('TranscodeResponse', MAX_CONTROL_BYTES, TranscodeResponse, renditionsLimit, m => { validateTranscodeResponse(m) }),
  /** PROTOCOL_FETCH, edge → holder */
  fetchRequest: makeCodec<FetchRequest>('FetchRequest', MAX_CONTROL_BYTES, FetchRequest, {}, m => { validateFetchRequest(m) }),
  /** PROTOCOL_FETCH, holder → edge */
  fetchResponse: makeCodec<FetchResponse>('FetchResponse', MAX_CONTROL_BYTES, FetchResponse, {
    stream: streamLimits,
    segments: MAX_INDEX_SEGMENTS,
    segments$: renditionsLimit,
    busy: { holders: MAX_HOLDERS }
  }, m => { validateFetchResponse(m) }),
  /** gossip haveTopic(id), edge → edges */
  have: makeCodec<Have>('Have', MAX_GOSSIP_BYTES, Have, renditionsLimit, m => { validateHave(m) }),
  /** gossip TOPIC_VIEWERS, edge → every node with an HTTP API */
  viewerCounts: makeCodec<ViewerCounts>('ViewerCounts', MAX_GOSSIP_BYTES, ViewerCounts, { streams: MAX_VIEWER_COUNT_STREAMS }, m => { validateViewerCounts(m) })
} as const

export type Codecs = typeof codecs
