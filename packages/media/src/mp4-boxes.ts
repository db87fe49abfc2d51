import { createHash } from 'node:crypto'
import { Mp4BoxError } from './errors.js'

/**
 * Bounded parsing of ISO BMFF (MP4) boxes, enough to split a fragmented MP4 rendition into its
 * init segment (`ftyp` + `moov`) and its media segment (`moof` + `mdat` pairs), and to make the
 * init canonical so inits written by different workers for different segments are byte-identical.
 * Pure: no I/O. Every size is checked against the bytes at hand; hostile or truncated input
 * throws {@link Mp4BoxError}, never reads out of bounds.
 */

export { Mp4BoxError }

/** Largest init segment accepted (ftyp + moov with a couple of tracks is ~1–2 KB). */
export const MAX_INIT_BYTES = 64 * 1024
/** Most top-level boxes looked at in one file (a 2 s segment has 4–6). */
export const MAX_TOP_LEVEL_BOXES = 4096

export interface Mp4Box {
  /** Four-character type, e.g. `moov`. */
  type: string;
  /** Offset of the box header in the parsed bytes. */
  start: number;
  /** Offset of the payload (after the 8- or 16-byte header). */
  payload: number;
  /** Offset just past the box. */
  end: number;
}

const TYPE = /^[\x20-\x7e]{4}$/

/** Lists the boxes in `data[from, to)`. A box running past `to` or a bad size throws. */
export function listBoxes (data: Uint8Array, from = 0, to = data.byteLength, maxBoxes = MAX_TOP_LEVEL_BOXES): Mp4Box[] {
  if (from < 0 || to > data.byteLength || from > to) throw new Mp4BoxError(`bad range ${from}..${to} of ${data.byteLength} bytes`)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const boxes: Mp4Box[] = []
  let at = from
  while (at < to) {
    if (boxes.length >= maxBoxes) throw new Mp4BoxError(`more than ${maxBoxes} boxes`)
    if (to - at < 8) throw new Mp4BoxError(`truncated box header at ${at} (${to - at} bytes left)`)
    let size = view.getUint32(at)
    const type = String.fromCharCode(data[at + 4]!, data[at + 5]!, data[at + 6]!, data[at + 7]!)
    if (!TYPE.test(type)) throw new Mp4BoxError(`bad box type at ${at}`)
    let header = 8
    if (size === 1) {
      if (to - at < 16) throw new Mp4BoxError(`truncated 64-bit box header at ${at}`)
      const big = view.getBigUint64(at + 8)
      if (big > BigInt(to - at)) throw new Mp4BoxError(`box ${type} at ${at} is ${big} bytes, only ${to - at} left`)
      size = Number(big)
      header = 16
    } else if (size === 0) {
      size = to - at // runs to the end
    }
    if (size < header) throw new Mp4BoxError(`box ${type} at ${at} has size ${size} < its header`)
    if (size > to - at) throw new Mp4BoxError(`box ${type} at ${at} is ${size} bytes, only ${to - at} left (truncated?)`)
    boxes.push({ type, start: at, payload: at + header, end: at + size })
    at += size
  }
  return boxes
}

export interface Mp4Split {
  /** `ftyp` + `moov` (a view into the input). */
  init: Uint8Array;
  /** Every `moof`/`mdat` (and `styp`/`sidx`/`prft`/`emsg`) box after the init, in order (a copy). */
  media: Uint8Array;
  /** Decode time (`tfdt`) of the first fragment's first track, in its timescale. */
  firstDecodeTime?: number;
}

const MEDIA_BOXES = new Set(['styp', 'sidx', 'prft', 'emsg', 'moof', 'mdat'])
/** Boxes a fragmented MP4 writer adds that do not belong in a media segment (random access index, free space). */
const DROPPED = new Set(['mfra', 'free', 'skip'])

/**
 * Splits one self-contained fragmented MP4 (as `ffmpeg -movflags frag_keyframe+empty_moov...`
 * writes it) into init and media. Requires `ftyp` then `moov` first, then at least one
 * `moof` + `mdat`; drops `mfra`/`free`/`skip`; refuses anything else at the top level.
 */
export function splitFragmentedMp4 (data: Uint8Array): Mp4Split {
  const boxes = listBoxes(data)
  if (boxes[0]?.type !== 'ftyp') throw new Mp4BoxError(`expected ftyp first, got ${boxes[0]?.type ?? 'nothing'}`)
  if (boxes[1]?.type !== 'moov') throw new Mp4BoxError(`expected moov after ftyp, got ${boxes[1]?.type ?? 'nothing'}`)
  const initEnd = boxes[1].end
  if (initEnd > MAX_INIT_BYTES) throw new Mp4BoxError(`init segment is ${initEnd} bytes, more than ${MAX_INIT_BYTES}`)
  const keep: Mp4Box[] = []
  for (const b of boxes.slice(2)) {
    if (DROPPED.has(b.type)) continue
    if (!MEDIA_BOXES.has(b.type)) throw new Mp4BoxError(`unexpected top-level box ${b.type} at ${b.start}`)
    keep.push(b)
  }
  const moofs = keep.filter((b) => b.type === 'moof')
  if (moofs.length === 0 || !keep.some((b) => b.type === 'mdat')) throw new Mp4BoxError('no moof + mdat: not a fragmented MP4 with media')
  const media = new Uint8Array(keep.reduce((n, b) => n + b.end - b.start, 0))
  let at = 0
  for (const b of keep) {
    media.set(data.subarray(b.start, b.end), at)
    at += b.end - b.start
  }
  const firstDecodeTime = tfdtOf(data, moofs[0]!)
  return { init: data.subarray(0, initEnd), media, ...(firstDecodeTime !== undefined ? { firstDecodeTime } : {}) }
}

function child (data: Uint8Array, parent: Mp4Box, type: string): Mp4Box | undefined {
  return listBoxes(data, parent.payload, parent.end, 256).find((b) => b.type === type)
}

function tfdtOf (data: Uint8Array, moof: Mp4Box): number | undefined {
  const traf = child(data, moof, 'traf')
  const tfdt = traf && child(data, traf, 'tfdt')
  if (!tfdt) return undefined
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (tfdt.end - tfdt.payload < 8) throw new Mp4BoxError('truncated tfdt')
  const version = data[tfdt.payload]!
  if (version === 1) {
    if (tfdt.end - tfdt.payload < 12) throw new Mp4BoxError('truncated tfdt')
    return Number(view.getBigUint64(tfdt.payload + 4))
  }
  return view.getUint32(tfdt.payload + 4)
}

/** Sample entry header sizes before their child boxes (ISO 14496-12: visual 78, audio 28 bytes). */
const SAMPLE_ENTRY_HEADER: Record<string, number> = { avc1: 78, avc3: 78, hvc1: 78, hev1: 78, mp4a: 28 }

/**
 * Returns a copy of an init segment with the informational bitrate fields zeroed (`btrt`
 * max/avg bitrate and the MPEG-4 `esds` DecoderConfigDescriptor max/avg bitrate): the only
 * bytes measured to differ between inits of different segments with fixed encoder settings
 * (they depend on the copied audio's packet sizes). Players do not use them.
 */
export function canonicalizeInit (init: Uint8Array): Uint8Array {
  if (init.byteLength > MAX_INIT_BYTES) throw new Mp4BoxError(`init segment is ${init.byteLength} bytes, more than ${MAX_INIT_BYTES}`)
  const out = new Uint8Array(init)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const top = listBoxes(out)
  const moov = top.find((b) => b.type === 'moov')
  if (!top.some((b) => b.type === 'ftyp') || !moov) throw new Mp4BoxError('an init segment needs ftyp and moov')
  for (const trak of listBoxes(out, moov.payload, moov.end, 256).filter((b) => b.type === 'trak')) {
    const mdia = child(out, trak, 'mdia')
    const minf = mdia && child(out, mdia, 'minf')
    const stbl = minf && child(out, minf, 'stbl')
    const stsd = stbl && child(out, stbl, 'stsd')
    if (!stsd) continue
    // stsd: full box header (4) + entry count (4), then sample entries.
    if (stsd.end - stsd.payload < 8) throw new Mp4BoxError('truncated stsd')
    for (const entry of listBoxes(out, stsd.payload + 8, stsd.end, 16)) {
      const skip = SAMPLE_ENTRY_HEADER[entry.type]
      if (skip === undefined || entry.end - entry.payload < skip) continue
      for (const b of listBoxes(out, entry.payload + skip, entry.end, 64)) {
        if (b.type === 'btrt' && b.end - b.payload >= 12) {
          view.setUint32(b.payload + 4, 0) // maxBitrate
          view.setUint32(b.payload + 8, 0) // avgBitrate
        } else if (b.type === 'esds') {
          zeroEsdsBitrates(out, b.payload + 4, b.end)
        }
      }
    }
  }
  return out
}

/** Walks the esds descriptors (tag, 1–4 byte length) to the DecoderConfigDescriptor (tag 4). */
function zeroEsdsBitrates (data: Uint8Array, from: number, to: number): void {
  let at = from
  for (let guard = 0; guard < 8 && at < to; guard++) {
    const tag = data[at++]!
    let len = 0
    for (let i = 0; i < 4; i++) {
      if (at >= to) throw new Mp4BoxError('truncated esds descriptor length')
      const b = data[at++]!
      len = (len << 7) | (b & 0x7f)
      if ((b & 0x80) === 0) break
    }
    if (at + len > to) throw new Mp4BoxError('esds descriptor runs past its box')
    if (tag === 0x03) {
      // ES_Descriptor: ES_ID (2), flags (1) [+ optional fields], then sub-descriptors.
      const flags = data[at + 2]!
      let sub = at + 3
      if (flags & 0x80) sub += 2
      if (flags & 0x40) sub += 1 + (data[sub] ?? 0)
      if (flags & 0x20) sub += 2
      at = sub
      continue
    }
    if (tag === 0x04) {
      // objectTypeIndication (1), streamType/upStream/reserved (1), bufferSizeDB (3), maxBitrate (4), avgBitrate (4)
      if (len < 13) throw new Mp4BoxError('truncated DecoderConfigDescriptor')
      data.fill(0, at + 5, at + 13)
      return
    }
    at += len
  }
}

export interface CmafParts {
  /** The canonical init segment ({@link canonicalizeInit}). */
  init: Uint8Array;
  /** sha256 of `init`, hex. */
  initSha256: string;
  /** The media segment. */
  media: Uint8Array;
  firstDecodeTime?: number;
}

/** Splits a self-contained fragmented MP4 and canonicalizes its init. */
export function cmafParts (data: Uint8Array): CmafParts {
  const { init, media, firstDecodeTime } = splitFragmentedMp4(data)
  const canonical = canonicalizeInit(init)
  return { init: canonical, initSha256: createHash('sha256').update(canonical).digest('hex'), media, ...(firstDecodeTime !== undefined ? { firstDecodeTime } : {}) }
}

/** The stored form of an fMP4 rendition: its canonical init followed by its media segment. */
export function joinCmaf (parts: Pick<CmafParts, 'init' | 'media'>): Uint8Array {
  const out = new Uint8Array(parts.init.byteLength + parts.media.byteLength)
  out.set(parts.init, 0)
  out.set(parts.media, parts.init.byteLength)
  return out
}
