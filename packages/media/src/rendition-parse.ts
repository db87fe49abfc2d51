import { Mp4BoxError } from './errors.js'
import { parseSps, SpsError, type Sps } from './h264-sps.js'
import { listBoxes, type Mp4Box } from './mp4-boxes.js'
import { parseTsVideoTimes, videoSpanSec } from './ts-pts.js'

/**
 * What a rendition's container says about it, read without decoding: the H.264 SPS (profile,
 * level, picture size after cropping), whether the first frame is an IDR, frame count, start and
 * span from the container's own timestamps. Pure and bounded: hostile bytes throw
 * {@link RenditionParseError} (or Mp4BoxError / SpsError), never read out of bounds.
 */
export interface ParsedRendition {
  /** `h264`, or what the container names instead. */
  videoCodec: string;
  width: number;
  height: number;
  profileIdc: number;
  constraints: number;
  levelIdc: number;
  /** The first frame is a sync sample (fMP4) / carries an IDR slice, SPS first. */
  keyframeStart: boolean;
  frames: number;
  startSec: number;
  durationSec: number;
  /** An AAC track or stream is muxed in (MPEG-TS renditions carry the copied audio). */
  hasAac: boolean;
}

export class RenditionParseError extends Error {
  static readonly NAME = 'RenditionParseError'
  override name = RenditionParseError.NAME
}

/** Most samples in one fragment (a 2 s segment at 60 fps has 120). */
const MAX_SAMPLES = 100_000
/** Bytes of the first video PES searched for its SPS and first slice (a keyframe is rarely over 1 MB). */
const MAX_FIRST_PES_BYTES = 4 << 20
/** Sample entry header size before the child boxes of a visual sample entry (ISO 14496-12). */
const VISUAL_ENTRY_HEADER = 78

function kids (d: Uint8Array, b: Mp4Box): Mp4Box[] { return listBoxes(d, b.payload, b.end, 256) }
function find (d: Uint8Array, b: Mp4Box | undefined, type: string): Mp4Box {
  const c = b == null ? undefined : kids(d, b).find(k => k.type === type)
  if (c == null) throw new RenditionParseError(`no ${type} box`)
  return c
}

/** NAL units of an Annex B byte stream (start codes 00 00 01 / 00 00 00 01). */
function annexB (b: Uint8Array): Uint8Array[] {
  const starts: number[] = []
  for (let i = 0; i + 2 < b.byteLength; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) { starts.push(i + 3); i += 2 }
  }
  return starts.map((s, k) => {
    let e = k + 1 < starts.length ? starts[k + 1]! - 3 : b.byteLength
    while (e > s && b[e - 1] === 0) e--
    return b.subarray(s, e)
  })
}

/** The first VCL NAL type among length-prefixed NALs (fMP4 sample data), or -1. */
function firstVclLengthPrefixed (b: Uint8Array, lengthSize: number): number {
  let at = 0
  while (at + lengthSize < b.byteLength) {
    let len = 0
    for (let i = 0; i < lengthSize; i++) len = len * 256 + b[at + i]!
    at += lengthSize
    if (len === 0 || at + len > b.byteLength) return -1
    const type = b[at]! & 0x1f
    if (type >= 1 && type <= 5) return type
    at += len
  }
  return -1
}

/** The first sample entry's SPS and NAL length size, or the entry's type when it is not H.264. */
function avcConfig (d: Uint8Array, mdia: Mp4Box): { sps: Sps, lengthSize: number } | string {
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength)
  const stsd = find(d, find(d, find(d, mdia, 'minf'), 'stbl'), 'stsd')
  const entry = listBoxes(d, stsd.payload + 8, stsd.end, 16)[0]
  if (entry == null) throw new RenditionParseError('no sample entry')
  if (entry.type !== 'avc1' && entry.type !== 'avc3') return entry.type
  if (entry.end - entry.payload < VISUAL_ENTRY_HEADER) throw new RenditionParseError('truncated sample entry')
  const avcC = listBoxes(d, entry.payload + VISUAL_ENTRY_HEADER, entry.end, 64).find(b => b.type === 'avcC')
  if (avcC == null || avcC.end - avcC.payload < 8) throw new RenditionParseError('no avcC')
  const lengthSize = (d[avcC.payload + 4]! & 3) + 1
  if ((d[avcC.payload + 5]! & 0x1f) < 1) throw new RenditionParseError('avcC has no SPS')
  const spsLen = view.getUint16(avcC.payload + 6)
  if (avcC.payload + 8 + spsLen > avcC.end) throw new RenditionParseError('SPS runs past avcC')
  const sps = parseSps(d.subarray(avcC.payload + 8, avcC.payload + 8 + spsLen))
  return { sps, lengthSize }
}

/** A CMAF rendition (one video track, fragmented MP4: init + moof/mdat). */
export function parseCmafRendition (d: Uint8Array): ParsedRendition {
  const top = listBoxes(d)
  const moov = top.find(b => b.type === 'moov')
  const trak = moov == null ? undefined : kids(d, moov).find(t => t.type === 'trak')
  const mdia = find(d, trak, 'mdia')
  const hdlr = find(d, mdia, 'hdlr')
  if (hdlr.end - hdlr.payload < 12 || String.fromCharCode(...d.subarray(hdlr.payload + 8, hdlr.payload + 12)) !== 'vide') throw new RenditionParseError('first track is not video')
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength)
  const mdhd = find(d, mdia, 'mdhd')
  if (mdhd.end - mdhd.payload < 24) throw new RenditionParseError('truncated mdhd')
  const timescale = view.getUint32(mdhd.payload + (d[mdhd.payload] === 1 ? 20 : 12))
  if (timescale === 0) throw new RenditionParseError('timescale 0')
  const cfg = avcConfig(d, mdia)
  if (typeof cfg === 'string') return { ...EMPTY, videoCodec: cfg }
  const { sps, lengthSize } = cfg
  // Defaults from trex (mvex), overridden per fragment by tfhd, per sample by trun.
  const trex = moov == null ? undefined : kids(d, moov).find(b => b.type === 'mvex')
  const trexBox = trex == null ? undefined : kids(d, trex).find(b => b.type === 'trex')
  let trexDuration = 0
  let trexFlags = 0
  if (trexBox != null && trexBox.end - trexBox.payload >= 24) {
    trexDuration = view.getUint32(trexBox.payload + 12)
    trexFlags = view.getUint32(trexBox.payload + 20)
  }
  let frames = 0
  let ticks = 0
  let start: number | undefined
  let keyframeStart = false
  for (let i = 0; i < top.length; i++) {
    const moof = top[i]!
    if (moof.type !== 'moof') continue
    const mdat = top[i + 1]
    if (mdat?.type !== 'mdat') throw new RenditionParseError('moof without its mdat')
    const traf = find(d, moof, 'traf')
    const parts = kids(d, traf)
    const tfhd = parts.find(b => b.type === 'tfhd')
    if (tfhd == null || tfhd.end - tfhd.payload < 8) throw new RenditionParseError('no tfhd')
    const tf = view.getUint32(tfhd.payload) & 0xffffff
    let at = tfhd.payload + 8 + (tf & 1 ? 8 : 0) + (tf & 2 ? 4 : 0)
    const need = (n: number, end: number): void => { if (at + n > end) throw new RenditionParseError('truncated fragment header') }
    let defDuration = trexDuration
    let defFlags = trexFlags
    if (tf & 8) { need(4, tfhd.end); defDuration = view.getUint32(at); at += 4 }
    if (tf & 0x10) at += 4
    if (tf & 0x20) { need(4, tfhd.end); defFlags = view.getUint32(at) }
    const tfdt = parts.find(b => b.type === 'tfdt')
    if (tfdt != null && start === undefined) {
      if (tfdt.end - tfdt.payload < 8) throw new RenditionParseError('truncated tfdt')
      start = d[tfdt.payload] === 1 ? Number(view.getBigUint64(tfdt.payload + 4)) : view.getUint32(tfdt.payload + 4)
    }
    for (const trun of parts.filter(b => b.type === 'trun')) {
      at = trun.payload
      need(8, trun.end)
      const fl = view.getUint32(at) & 0xffffff
      const count = view.getUint32(at + 4)
      if (count > MAX_SAMPLES) throw new RenditionParseError(`${count} samples in one trun`)
      at += 8
      let dataOffset = 0
      if (fl & 1) { need(4, trun.end); dataOffset = view.getInt32(at); at += 4 }
      let firstFlags: number | undefined
      if (fl & 4) { need(4, trun.end); firstFlags = view.getUint32(at); at += 4 }
      const per = [0x100, 0x200, 0x400, 0x800].filter(f => fl & f).length * 4
      need(per * count, trun.end)
      for (let s = 0; s < count; s++) {
        const duration = fl & 0x100 ? view.getUint32(at) : defDuration
        const size = fl & 0x200 ? view.getUint32(at + (fl & 0x100 ? 4 : 0)) : 0
        const flags = fl & 0x400 ? view.getUint32(at + (fl & 0x100 ? 4 : 0) + (fl & 0x200 ? 4 : 0)) : (s === 0 && firstFlags !== undefined ? firstFlags : defFlags)
        if (frames === 0) {
          const data = moof.start + dataOffset
          if (size === 0 || data < mdat.payload || data + size > mdat.end) throw new RenditionParseError('first sample outside its mdat')
          keyframeStart = ((flags >> 16) & 1) === 0 && firstVclLengthPrefixed(d.subarray(data, data + size), lengthSize) === 5
        }
        ticks += duration
        frames++
        at += per
      }
    }
  }
  if (frames === 0) throw new RenditionParseError('no video samples')
  return { videoCodec: 'h264', width: sps.width, height: sps.height, profileIdc: sps.profileIdc, constraints: sps.constraints, levelIdc: sps.levelIdc, keyframeStart, frames, startSec: (start ?? 0) / timescale, durationSec: ticks / timescale, hasAac: false }
}

const EMPTY: ParsedRendition = { videoCodec: '', width: 0, height: 0, profileIdc: 0, constraints: 0, levelIdc: 0, keyframeStart: false, frames: 0, startSec: 0, durationSec: 0, hasAac: false }

/** An MPEG-TS rendition: PMT stream types, the first video PES's SPS and first slice, PES timestamps. */
export function parseTsRendition (b: Uint8Array): ParsedRendition {
  if (b.byteLength < 188 || b[0] !== 0x47) throw new RenditionParseError('not MPEG-TS (no sync byte)')
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  let pmtPid = -1
  let videoPid = -1
  let videoType = -1
  let hasAac = false
  const first: Uint8Array[] = []
  let firstBytes = 0
  let pesSeen = 0
  for (let i = 0; i + 188 <= buf.length && pesSeen < 2; i += 188) {
    if (buf[i] !== 0x47) throw new RenditionParseError(`lost sync at ${i}`)
    const pid = ((buf[i + 1]! & 0x1f) << 8) | buf[i + 2]!
    const pusi = (buf[i + 1]! & 0x40) !== 0
    const afc = (buf[i + 3]! >> 4) & 3
    if ((afc & 1) === 0) continue
    let p = i + 4 + (afc & 2 ? 1 + buf[i + 4]! : 0)
    const end = i + 188
    if (p >= end) continue
    if ((pid === 0 || pid === pmtPid) && pusi) {
      const t = p + 1 + buf[p]!
      if (t + 12 > end) continue
      const sectionEnd = Math.min(end, t + 3 + (((buf[t + 1]! & 0x0f) << 8) | buf[t + 2]!) - 4)
      if (pid === 0 && buf[t] === 0) {
        for (let e = t + 8; e + 4 <= sectionEnd; e += 4) if (((buf[e]! << 8) | buf[e + 1]!) !== 0) { pmtPid = ((buf[e + 2]! & 0x1f) << 8) | buf[e + 3]!; break }
      } else if (pid === pmtPid && buf[t] === 2) {
        for (let e = t + 12 + (((buf[t + 10]! & 0x0f) << 8) | buf[t + 11]!); e + 5 <= sectionEnd; e += 5 + (((buf[e + 3]! & 0x0f) << 8) | buf[e + 4]!)) {
          const type = buf[e]!
          if (type === 0x0f) hasAac = true
          else if ([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xea].includes(type) && videoPid < 0) { videoPid = ((buf[e + 1]! & 0x1f) << 8) | buf[e + 2]!; videoType = type }
        }
      }
      continue
    }
    if (pid !== videoPid || videoPid < 0) continue
    if (pusi) {
      pesSeen++
      if (pesSeen > 1) break
      if (p + 9 > end || buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1) throw new RenditionParseError('video PES without a start code')
      p += 9 + buf[p + 8]!
    }
    if (pesSeen === 1 && p < end && firstBytes < MAX_FIRST_PES_BYTES) { first.push(b.subarray(p, end)); firstBytes += end - p }
  }
  if (videoPid < 0) throw new RenditionParseError('no video stream in the PMT')
  if (videoType !== 0x1b) return { ...EMPTY, videoCodec: `stream type 0x${videoType.toString(16)}`, hasAac }
  const nals = annexB(Buffer.concat(first))
  const spsNal = nals.find(n => (n[0]! & 0x1f) === 7)
  if (spsNal == null) throw new SpsError('no SPS before the first frame')
  const sps = parseSps(spsNal)
  const vcl = nals.find(n => { const t = n[0]! & 0x1f; return t >= 1 && t <= 5 })
  const times = parseTsVideoTimes(buf)
  const span = videoSpanSec(times)
  if (span == null) throw new RenditionParseError('no timestamped video PES')
  return { videoCodec: 'h264', width: sps.width, height: sps.height, profileIdc: sps.profileIdc, constraints: sps.constraints, levelIdc: sps.levelIdc, keyframeStart: vcl != null && (vcl[0]! & 0x1f) === 5, frames: times.pts.length, startSec: span.startSec, durationSec: span.endSec - span.startSec, hasAac }
}

/** {@link parseCmafRendition} or {@link parseTsRendition} by the bytes' shape. */
export function parseRendition (b: Uint8Array): ParsedRendition {
  if (b.byteLength >= 8 && String.fromCharCode(...b.subarray(4, 8)) === 'ftyp') return parseCmafRendition(b)
  if (b.byteLength >= 188 && b[0] === 0x47) return parseTsRendition(b)
  throw new RenditionParseError('neither fMP4 nor MPEG-TS')
}

export { Mp4BoxError, SpsError }
