import { createHash } from 'node:crypto'
import type { Rendition } from '@diststream/protocol'
import type { RenditionRecord } from '@diststream/store'

/** A CMAF stream's MPEG-TS cuts in the store (not a rendition players see). */
export const SOURCE_TS = 'source-ts'
/** A CMAF stream's audio track (the source's audio, remuxed by the ingest; every video rendition plays with it). */
export const AUDIO_RENDITION = 'audio'

/** A stored rendition as it goes on the wire (hashes as bytes). */
export function toWire (r: RenditionRecord): Rendition {
  return {
    name: r.name,
    width: r.width,
    height: r.height,
    bandwidth: r.bandwidth,
    codecs: r.codecs,
    size: r.size,
    sha256: Buffer.from(r.sha256, 'hex'),
    ...(r.initSize != null && r.initSha256 != null ? { initSize: r.initSize, initSha256: Buffer.from(r.initSha256, 'hex') } : {})
  }
}

/** What a stream record (and its announce) keeps of a rendition: no per-segment size or hash. */
export function streamRendition (r: RenditionRecord): RenditionRecord {
  return { name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, size: 0, sha256: '' }
}

/** The stream's renditions: union by name, keeping the highest bandwidth seen (the master playlist's BANDWIDTH is a peak). */
export function mergeRenditions<T extends { name: string, bandwidth: number }> (a: T[], b: T[]): T[] {
  const map = new Map(a.map(r => [r.name, r]))
  for (const r of b) {
    const old = map.get(r.name)
    map.set(r.name, old != null && old.bandwidth > r.bandwidth ? { ...r, bandwidth: old.bandwidth } : r)
  }
  return [...map.values()]
}

/** The record of a rendition the ingest made itself (the source, or a CMAF remux): bandwidth from its size with 20 % headroom, its hash. */
export function renditionRecord (name: string, data: Uint8Array, durationMs: number, fields: Pick<RenditionRecord, 'width' | 'height' | 'codecs'>, init: Pick<RenditionRecord, 'initSize' | 'initSha256'> = {}): RenditionRecord {
  return {
    name,
    ...fields,
    bandwidth: Math.round(data.byteLength * 8 / (durationMs / 1000) * 1.2),
    size: data.byteLength,
    sha256: createHash('sha256').update(data).digest('hex'),
    ...init
  }
}
