/**
 * The SRT handshake (HSv5, as libsrt 1.5 and ffmpeg 5.1's callers send it), pure: parse a
 * control packet, read the caller's stream id and key material from its conclusion, and build
 * the two answers the ingest writes itself (the induction response and a rejection). Every
 * other packet is relayed to ffmpeg's libsrt listener untouched. Offsets are from the SRT
 * draft (draft-sharabayko-srt, §3.2.1) and were checked against ffmpeg 5.1's caller.
 */

/** SRT header bytes before a control packet's body. */
export const SRT_HEADER_BYTES = 16
/** A handshake body without extensions. */
const HS_CIF_BYTES = 48
/** Offsets inside the handshake body (after the header). */
const HS = { version: 0, encryption: 4, extension: 6, type: 20, socketId: 24, cookie: 28 } as const
/** Handshake types (`UDTRequestType`). */
export const HS_INDUCTION = 1
export const HS_CONCLUSION = -1
/** A rejection is sent as the handshake type 1000 + the reason (libsrt `URQFailure`). */
const HS_FAILURE_BASE = 1000
/** HSv5's magic in the induction response's extension field ("SRT" callers require it). */
const SRT_MAGIC = 0x4A17
/** Handshake extension types inside a conclusion. */
const EXT_KMREQ = 3
const EXT_SID = 5
/** The longest stream id SRT allows (libsrt's MAX_SID_LENGTH). */
export const MAX_STREAM_ID_BYTES = 512

/**
 * Rejection reasons, as a caller's libsrt reports them (SRT_REJ_* from srt.h; SRT_REJX_* are
 * the "application" codes 1000 + an HTTP status).
 */
export const SRT_REJECT = {
  version: 8,
  badSecret: 10,
  unsecure: 11,
  badRequest: 1400,
  forbidden: 1403,
  overload: 1503
} as const

export interface Handshake {
  version: number
  type: number
  /** The sender's socket id (the caller's, in its requests). */
  socketId: number
  cookie: number
}

/** True for an SRT control packet of type handshake. */
export function isHandshake (pkt: Uint8Array): boolean {
  return pkt.length >= SRT_HEADER_BYTES + HS_CIF_BYTES && pkt[0] === 0x80 && pkt[1] === 0x00
}

/** The handshake fields we use, or undefined if this is not a handshake. */
export function parseHandshake (pkt: Uint8Array): Handshake | undefined {
  if (!isHandshake(pkt)) return undefined
  const v = view(pkt)
  return {
    version: v.getUint32(SRT_HEADER_BYTES + HS.version),
    type: v.getInt32(SRT_HEADER_BYTES + HS.type),
    socketId: v.getUint32(SRT_HEADER_BYTES + HS.socketId),
    cookie: v.getUint32(SRT_HEADER_BYTES + HS.cookie)
  }
}

/** A conclusion's extensions: the stream id (decoded) and the key material request, if any. */
export interface ConclusionExtensions {
  streamId?: string
  /** The KMREQ extension's bytes (the caller encrypts: a passphrase is set). */
  kmreq?: Uint8Array
}

/**
 * Reads a conclusion's extensions (bounded by the packet itself). The stream id travels as
 * 32-bit words each in reverse byte order (libsrt copies the string into host-order words
 * and sends them in network order), padded with zero bytes.
 * Throws on a malformed extension list.
 */
export function conclusionExtensions (pkt: Uint8Array): ConclusionExtensions {
  const out: ConclusionExtensions = {}
  const v = view(pkt)
  let o = SRT_HEADER_BYTES + HS_CIF_BYTES
  while (o + 4 <= pkt.length) {
    const type = v.getUint16(o)
    const len = v.getUint16(o + 2) * 4
    const body = pkt.subarray(o + 4, o + 4 + len)
    if (body.length !== len) throw new RangeError('handshake extension past the packet')
    if (type === EXT_SID) {
      if (len > MAX_STREAM_ID_BYTES) throw new RangeError('stream id too long')
      const bytes = new Uint8Array(len)
      for (let i = 0; i < len; i += 4) for (let j = 0; j < 4; j++) bytes[i + j] = body[i + 3 - j]!
      let end = bytes.indexOf(0)
      if (end < 0) end = len
      out.streamId = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end))
    } else if (type === EXT_KMREQ) {
      out.kmreq = body
    }
    o += 4 + len
  }
  return out
}

/** Stream keys as the ingest makes them (the same rule as an RTMP `/live/<key>`). */
const KEY = /^[A-Za-z0-9_-]{1,128}$/

/**
 * The stream key of a publish stream id: `publish:<key>` (MediaMTX's convention, which OBS
 * users know), also `publish:live/<key>`; undefined for anything else (a read, a bad key).
 */
export function publishKeyOf (streamId: string | undefined): string | undefined {
  const m = /^publish:(?:live\/)?(.+)$/.exec(streamId ?? '')
  const key = m?.[1]
  return key != null && KEY.test(key) ? key : undefined
}

/**
 * The listener's induction response: the caller's request with version 5, the SRT magic,
 * our cookie, addressed to the caller's socket.
 */
export function inductionResponse (request: Uint8Array, cookie: number): Uint8Array {
  const out = Uint8Array.from(request.subarray(0, SRT_HEADER_BYTES + HS_CIF_BYTES))
  const v = view(out)
  const hs = parseHandshake(request)!
  v.setUint32(12, hs.socketId)
  v.setUint32(SRT_HEADER_BYTES + HS.version, 5)
  v.setUint16(SRT_HEADER_BYTES + HS.encryption, 0)
  v.setUint16(SRT_HEADER_BYTES + HS.extension, SRT_MAGIC)
  v.setUint32(SRT_HEADER_BYTES + HS.cookie, cookie)
  return out
}

/** A rejection of the caller's conclusion, with an SRT_REJECT reason its libsrt will report. */
export function rejection (request: Uint8Array, reason: number): Uint8Array {
  const out = Uint8Array.from(request.subarray(0, SRT_HEADER_BYTES + HS_CIF_BYTES))
  const v = view(out)
  v.setUint32(12, parseHandshake(request)!.socketId)
  v.setInt32(SRT_HEADER_BYTES + HS.type, HS_FAILURE_BASE + reason)
  return out
}

/**
 * The induction the relay sends ffmpeg's listener for a caller, made from the caller's
 * conclusion: version 4, no cookie (what a caller's first packet is).
 */
export function inductionFor (conclusion: Uint8Array): Uint8Array {
  const out = Uint8Array.from(conclusion.subarray(0, SRT_HEADER_BYTES + HS_CIF_BYTES))
  const v = view(out)
  v.setUint32(12, 0)
  v.setUint32(SRT_HEADER_BYTES + HS.version, 4)
  v.setUint16(SRT_HEADER_BYTES + HS.encryption, 0)
  v.setUint16(SRT_HEADER_BYTES + HS.extension, 2)
  v.setInt32(SRT_HEADER_BYTES + HS.type, HS_INDUCTION)
  v.setUint32(SRT_HEADER_BYTES + HS.cookie, 0)
  return out
}

/** A copy of a handshake with another cookie (the caller's conclusion, passed on to ffmpeg). */
export function withCookie (pkt: Uint8Array, cookie: number): Uint8Array {
  const out = Uint8Array.from(pkt)
  view(out).setUint32(SRT_HEADER_BYTES + HS.cookie, cookie)
  return out
}

/** The handshake type of a rejection, as its reason; undefined if it is not one. */
export function rejectionReason (hs: Handshake): number | undefined {
  return hs.type >= HS_FAILURE_BASE ? hs.type - HS_FAILURE_BASE : undefined
}

function view (b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}
