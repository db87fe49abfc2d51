/**
 * Pure SDP work for WHIP: a first look at an offer (before any ICE starts),
 * and the SDP the RTP bridge's ffmpeg reads on loopback.
 */
import { MAX_WHIP_MEDIA_SECTIONS, MAX_WHIP_SDP_BYTES } from './limits.js'

/** Why an offer is refused before a peer connection is made (the `why` of `diststream_whip_refused_total`). */
export type OfferRefusal = 'sdp_too_large' | 'bad_offer' | 'no_h264'

export class WhipOfferError extends Error {
  static readonly NAME = 'WhipOfferError'
  override name = WhipOfferError.NAME
  constructor (readonly why: OfferRefusal, message: string, readonly statusCode = why === 'sdp_too_large' ? 413 : 400) {
    super(message)
  }
}

/** What an acceptable offer carries. */
export interface OfferShape {
  /** An audio m-line offering Opus. */
  audio: boolean
}

/**
 * Checks an offer's shape: an SDP (`v=0` first), at most
 * {@link MAX_WHIP_MEDIA_SECTIONS} m-lines, a video m-line offering H.264;
 * audio, if offered, must offer Opus (otherwise it is ignored). Throws
 * {@link WhipOfferError}.
 */
export function checkOffer (sdp: string): OfferShape {
  if (Buffer.byteLength(sdp) > MAX_WHIP_SDP_BYTES) throw new WhipOfferError('sdp_too_large', `the offer is larger than ${MAX_WHIP_SDP_BYTES} bytes`)
  const lines = sdp.split(/\r?\n/)
  if (lines[0]?.trim() !== 'v=0') throw new WhipOfferError('bad_offer', 'the body is not an SDP offer (it must start with v=0)')
  const sections: Array<{ kind: string, rtpmaps: string[] }> = []
  for (const line of lines) {
    const m = /^m=(\w+) /.exec(line)
    if (m != null) {
      sections.push({ kind: m[1] ?? '', rtpmaps: [] })
      if (sections.length > MAX_WHIP_MEDIA_SECTIONS) throw new WhipOfferError('bad_offer', `the offer has more than ${MAX_WHIP_MEDIA_SECTIONS} media sections`)
      continue
    }
    const r = /^a=rtpmap:\d+ ([^/\s]+)\//.exec(line)
    if (r != null) sections.at(-1)?.rtpmaps.push((r[1] ?? '').toLowerCase())
  }
  const video = sections.filter(s => s.kind === 'video')
  if (video.length === 0) throw new WhipOfferError('bad_offer', 'the offer has no video')
  if (!video.some(s => s.rtpmaps.includes('h264'))) throw new WhipOfferError('no_h264', 'the offer\'s video does not offer H.264 (the only video codec accepted)')
  return { audio: sections.some(s => s.kind === 'audio' && s.rtpmaps.includes('opus')) }
}

/** Payload types the bridge's SDP declares (received RTP is rewritten to them). */
export const BRIDGE_VIDEO_PT = 96
export const BRIDGE_AUDIO_PT = 111

/**
 * The SDP ffmpeg reads to receive the forwarded (decrypted) RTP on loopback:
 * H.264 (packetization mode 1) on `videoPort`, Opus on `audioPort` if given.
 */
export function bridgeSdp (o: { videoPort: number, audioPort?: number }): string {
  const lines = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=diststream whip',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=video ${o.videoPort} RTP/AVP ${BRIDGE_VIDEO_PT}`,
    `a=rtpmap:${BRIDGE_VIDEO_PT} H264/90000`,
    `a=fmtp:${BRIDGE_VIDEO_PT} packetization-mode=1`
  ]
  if (o.audioPort != null) lines.push(`m=audio ${o.audioPort} RTP/AVP ${BRIDGE_AUDIO_PT}`, `a=rtpmap:${BRIDGE_AUDIO_PT} opus/48000/2`)
  return lines.join('\r\n') + '\r\n'
}

/** Sets the payload type of a serialized RTP packet in place (keeps the marker bit). */
export function setPayloadType (rtp: Buffer, pt: number): Buffer {
  if (rtp.length >= 2) rtp[1] = ((rtp[1] ?? 0) & 0x80) | (pt & 0x7f)
  return rtp
}

/** `Content-Type` of a WHIP offer and answer. */
export const SDP_CONTENT_TYPE = 'application/sdp'

/** True if a `Content-Type` header is `application/sdp` (parameters and case ignored). */
export function isSdpContentType (header: string | undefined): boolean {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() === SDP_CONTENT_TYPE
}
