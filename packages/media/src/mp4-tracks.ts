import { Mp4BoxError } from './errors.js'
import { listBoxes, type Mp4Box } from './mp4-boxes.js'

/**
 * Splitting a fragmented MP4 with several tracks (as the segmenter's second output writes it,
 * `movflags=...+separate_moof`: one `traf` per `moof`, each followed by its own `mdat`) into
 * one self-contained single-track fragmented MP4 per track: CMAF wants one track per file.
 * Pure and bounded like mp4-boxes.ts; with `default_base_moof` every data offset is relative
 * to its own `moof`, so a `moof` + `mdat` pair moves as it is. The split track gets track_ID 1
 * (what a single-track remux writes), and its decode times shift by `offsetSec` (the MPEG-TS
 * muxer's offset, so the tracks keep the timeline of the `.ts` segments).
 */

export type TrackKind = 'video' | 'audio'

const HANDLERS: Record<string, TrackKind> = { vide: 'video', soun: 'audio' }
/** Most tracks accepted in the multi-track file (video + audio). */
const MAX_TRACKS = 4

function only (data: Uint8Array, parent: Mp4Box, type: string): Mp4Box | undefined {
  return listBoxes(data, parent.payload, parent.end, 256).find((b) => b.type === type)
}

function need (box: Mp4Box | undefined, what: string): Mp4Box {
  if (box == null) throw new Mp4BoxError(`missing ${what}`)
  return box
}

/** track_ID offset inside a full box's payload: tkhd (by version), trex and tfhd (after version+flags). */
function trackIdAt (data: Uint8Array, box: Mp4Box): number {
  if (box.type !== 'tkhd') return box.payload + 4
  return box.payload + (data[box.payload] === 1 ? 20 : 12)
}

/** A copy that owns its buffer (a Buffer's `slice` is a view into a shared pool). */
function copy (data: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(data.subarray(from, to))
}

function box (type: string, parts: Uint8Array[]): Uint8Array {
  const size = 8 + parts.reduce((n, p) => n + p.byteLength, 0)
  const out = new Uint8Array(size)
  new DataView(out.buffer).setUint32(0, size)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  let at = 8
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}

interface TrackInfo { id: number, kind: TrackKind, timescale: number, trak: Mp4Box }

function readTracks (data: Uint8Array, moov: Mp4Box): TrackInfo[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const traks = listBoxes(data, moov.payload, moov.end, 256).filter((b) => b.type === 'trak')
  if (traks.length > MAX_TRACKS) throw new Mp4BoxError(`${traks.length} tracks, at most ${MAX_TRACKS}`)
  return traks.map((trak) => {
    const tkhd = need(only(data, trak, 'tkhd'), 'tkhd')
    const mdia = need(only(data, trak, 'mdia'), 'mdia')
    const mdhd = need(only(data, mdia, 'mdhd'), 'mdhd')
    const hdlr = need(only(data, mdia, 'hdlr'), 'hdlr')
    if (hdlr.end - hdlr.payload < 12 || mdhd.end - mdhd.payload < 24 || tkhd.end - tkhd.payload < 24) throw new Mp4BoxError('truncated track header')
    const handler = String.fromCharCode(...data.subarray(hdlr.payload + 8, hdlr.payload + 12))
    const kind = HANDLERS[handler]
    if (kind == null) throw new Mp4BoxError(`track handler ${handler} is neither video nor audio`)
    const timescale = view.getUint32(mdhd.payload + (data[mdhd.payload] === 1 ? 20 : 12))
    if (timescale === 0) throw new Mp4BoxError('track timescale 0')
    return { id: view.getUint32(trackIdAt(data, tkhd)), kind, timescale, trak }
  })
}

/**
 * One single-track fragmented MP4 per video/audio track of `data` (ftyp + moov, then moof +
 * mdat pairs with one traf each), decode times shifted by `offsetSec`.
 * @throws Mp4BoxError for anything else (no moov, a moof with two trafs, an unknown track).
 */
export function splitTracks (data: Uint8Array, offsetSec: number): Map<TrackKind, Uint8Array> {
  const top = listBoxes(data)
  const ftyp = top[0]
  const moov = top[1]
  if (ftyp?.type !== 'ftyp' || moov?.type !== 'moov') throw new Mp4BoxError('expected ftyp then moov')
  const tracks = readTracks(data, moov)
  const out = new Map<TrackKind, Uint8Array>()
  for (const t of tracks) {
    if (out.has(t.kind)) continue // the first video and the first audio track only
    const parts: Uint8Array[] = [copy(data, ftyp.start, ftyp.end), initFor(data, moov, t)]
    const offset = BigInt(Math.round(offsetSec * t.timescale))
    for (let i = 2; i < top.length; i++) {
      const b = top[i]!
      if (b.type !== 'moof') continue
      const mdat = top[i + 1]
      if (mdat?.type !== 'mdat') throw new Mp4BoxError(`moof at ${b.start} is not followed by its mdat`)
      const moof = copy(data, b.start, b.end)
      if (retrack(moof, t.id, offset)) parts.push(moof, data.subarray(mdat.start, mdat.end))
    }
    if (parts.length < 4) throw new Mp4BoxError(`no fragment of the ${t.kind} track`)
    const size = parts.reduce((n, p) => n + p.byteLength, 0)
    const file = new Uint8Array(size)
    let at = 0
    for (const p of parts) { file.set(p, at); at += p.byteLength }
    out.set(t.kind, file)
  }
  return out
}

/** The moov of one track: every child but the other traks, mvex with only this track's trex, the track renumbered 1. */
function initFor (data: Uint8Array, moov: Mp4Box, t: TrackInfo): Uint8Array {
  const kids: Uint8Array[] = []
  for (const c of listBoxes(data, moov.payload, moov.end, 256)) {
    if (c.type === 'trak') {
      if (c.start !== t.trak.start) continue
      const trak = copy(data, c.start, c.end)
      const tkhd = need(only(trak, { type: 'trak', start: 0, payload: 8, end: trak.byteLength }, 'tkhd'), 'tkhd')
      new DataView(trak.buffer).setUint32(trackIdAt(trak, tkhd), 1)
      kids.push(trak)
    } else if (c.type === 'mvex') {
      const inner: Uint8Array[] = []
      for (const m of listBoxes(data, c.payload, c.end, 64)) {
        if (m.type === 'trex') {
          if (m.end - m.payload < 8) throw new Mp4BoxError('truncated trex')
          if (new DataView(data.buffer, data.byteOffset).getUint32(m.payload + 4) !== t.id) continue
          const trex = copy(data, m.start, m.end)
          new DataView(trex.buffer).setUint32(12, 1)
          inner.push(trex)
        } else {
          inner.push(copy(data, m.start, m.end))
        }
      }
      kids.push(box('mvex', inner))
    } else {
      kids.push(copy(data, c.start, c.end))
    }
  }
  return box('moov', kids)
}

/**
 * If this moof (a copy, changed in place) holds one traf of `trackId`: renumber it 1, add
 * `offset` to its tfdt, return true. A moof of another track: false. Two trafs: throws.
 */
function retrack (moof: Uint8Array, trackId: number, offset: bigint): boolean {
  const view = new DataView(moof.buffer)
  const trafs = listBoxes(moof, 8, moof.byteLength, 64).filter((b) => b.type === 'traf')
  if (trafs.length !== 1) throw new Mp4BoxError(`a moof with ${trafs.length} trafs (expected separate_moof)`)
  const traf = trafs[0]!
  const tfhd = need(only(moof, traf, 'tfhd'), 'tfhd')
  if (tfhd.end - tfhd.payload < 8) throw new Mp4BoxError('truncated tfhd')
  if (view.getUint32(tfhd.payload + 4) !== trackId) return false
  view.setUint32(tfhd.payload + 4, 1)
  const tfdt = need(only(moof, traf, 'tfdt'), 'tfdt')
  if (moof[tfdt.payload] === 1) {
    if (tfdt.end - tfdt.payload < 12) throw new Mp4BoxError('truncated tfdt')
    view.setBigUint64(tfdt.payload + 4, view.getBigUint64(tfdt.payload + 4) + offset)
  } else {
    if (tfdt.end - tfdt.payload < 8) throw new Mp4BoxError('truncated tfdt')
    const v = BigInt(view.getUint32(tfdt.payload + 4)) + offset
    if (v > 0xffffffffn) throw new Mp4BoxError('tfdt overflows its 32 bits')
    view.setUint32(tfdt.payload + 4, Number(v))
  }
  return true
}
