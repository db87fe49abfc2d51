/**
 * node-media-server starts every FLV reader with a header announcing audio and video
 * (`Flv.createHeader(true, true)`), whatever the publish carries. ffmpeg's FLV demuxer waits
 * for every announced stream before it finishes probing, so a publish without audio waited
 * for ffmpeg's 5 MB probe size (about 90 s at a low bitrate) before its first segment, and
 * one without video never cut. The publisher's onMetaData says what it sends
 * (`audiocodecid`, `videocodecid`; ffmpeg and OBS write the ones they have): the header is
 * rewritten from it. Pure.
 */

/** FLV header flag bits (byte 4). */
const FLV_HAS_AUDIO = 0x04
const FLV_HAS_VIDEO = 0x01
/** FLV tag type of a script (metadata) tag. */
const FLV_TAG_SCRIPT = 18
/** Bytes of the FLV header plus the first PreviousTagSize. */
export const FLV_HEADER_BYTES = 13

/** True for node-media-server's FLV header (`FLV`, version 1, 13 bytes with PreviousTagSize0). */
export function isFlvHeader (buf: Uint8Array): boolean {
  return buf.length === FLV_HEADER_BYTES && buf[0] === 0x46 && buf[1] === 0x4c && buf[2] === 0x56 && buf[3] === 0x01
}

/**
 * The header with its audio/video flags taken from the first tag when that tag is the
 * publisher's onMetaData; the header unchanged otherwise (no metadata: both announced, as before).
 */
export function flvHeaderFor (header: Uint8Array, firstTag: Uint8Array): Uint8Array {
  if (firstTag.length < 11 || (firstTag[0]! & 0x1f) !== FLV_TAG_SCRIPT) return header
  const body = Buffer.from(firstTag.buffer, firstTag.byteOffset, firstTag.byteLength)
  if (!body.includes('onMetaData')) return header
  const hasAudio = body.includes('audiocodecid')
  const hasVideo = body.includes('videocodecid')
  // Metadata naming neither codec says nothing: keep both announced.
  if (!hasAudio && !hasVideo) return header
  const out = Uint8Array.from(header)
  out[4] = (hasAudio ? FLV_HAS_AUDIO : 0) | (hasVideo ? FLV_HAS_VIDEO : 0)
  return out
}
