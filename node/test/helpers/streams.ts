import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { callApi, getText } from './cluster.js'

/** Creates a stream on an ingest (with the cluster's API token): `{ id, key, rtmpUrl }`; throws unless 201. */
export async function createStream (ingestHttp: string, name: string, token: string): Promise<{ id: string, key: string, rtmpUrl: string }> {
  const res = await callApi(`${ingestHttp}/api/streams`, 'POST', token, { name })
  if (res.status !== 201) throw new Error(`create stream: ${res.status} ${JSON.stringify(res.body)}`)
  return { id: res.body.id, key: res.body.key, rtmpUrl: res.body.rtmpUrl }
}

/** One sample of a Prometheus metric (first line matching name and labels), or NaN. */
export function metric (text: string, name: string, labels = ''): number {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = labels === '' ? new RegExp(`^${esc(name)}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm') : new RegExp(`^${esc(name)}\\{[^}]*${esc(labels)}[^}]*\\} ([0-9.e+-]+)$`, 'm')
  return Number(re.exec(text)?.[1] ?? NaN)
}

export type Holdings = Map<string, Map<number, string>>

/** sha256 of every rendition segment the ingest stored: rendition → seq → hex. */
export async function ingestHoldings (dataDir: string, streamId: string): Promise<Holdings> {
  const out: Holdings = new Map()
  const root = join(dataDir, 'segments', streamId)
  for (const r of await readdir(root)) {
    if (r === 'source-ts') continue // a CMAF stream's MPEG-TS cuts: internal, not a rendition
    const m = new Map<number, string>()
    for (const f of await readdir(join(root, r))) {
      if (!/^\d+\.ts$/.test(f)) continue
      m.set(Number.parseInt(f, 10), createHash('sha256').update(await readFile(join(root, r, f))).digest('hex'))
    }
    out.set(r, m)
  }
  return out
}

/** The segments an edge lists (non-gap), per rendition, from its playlists. */
export async function edgeListing (edgeHttp: string, streamId: string): Promise<{ renditions: string[], segments: Map<string, number[]>, ended: boolean }> {
  const master = await getText(`${edgeHttp}/live/${streamId}/index.m3u8`)
  if (master.status !== 200) throw new Error(`master ${master.status}`)
  const renditions = parseMasterPlaylist(master.text).variants.map(v => v.uri.split('/')[0]!)
  // fMP4 (CMAF) streams: the audio rendition is an EXT-X-MEDIA entry, not a variant.
  for (const m of master.text.matchAll(/^#EXT-X-MEDIA:.*URI="([^"/]+)\/index\.m3u8"/gm)) renditions.push(m[1]!)
  const segments = new Map<string, number[]>()
  let ended = true
  for (const r of renditions) {
    const res = await getText(`${edgeHttp}/live/${streamId}/${r}/index.m3u8`)
    if (res.status !== 200) throw new Error(`${r} playlist ${res.status}`)
    const p = parseMediaPlaylist(res.text)
    ended &&= p.ended
    segments.set(r, p.segments.filter(s => s.gap !== true).map(s => s.seq))
  }
  return { renditions, segments, ended }
}

/**
 * sha256 of one segment as an edge serves it over HTTP: the `.ts` file, or
 * for fMP4 (CMAF) its init (the playlist's EXT-X-MAP) followed by its `.m4s`,
 * which is what the ingest stores.
 */
export async function edgeSegmentHash (edgeHttp: string, streamId: string, rendition: string, seq: number): Promise<string> {
  const get = async (file: string): Promise<Buffer> => {
    const res = await fetch(`${edgeHttp}/live/${streamId}/${rendition}/${file}`, { signal: AbortSignal.timeout(15_000) })
    if (res.status !== 200) throw new Error(`${rendition}/${file}: ${res.status}`)
    return Buffer.from(await res.arrayBuffer())
  }
  const playlist = parseMediaPlaylist((await getText(`${edgeHttp}/live/${streamId}/${rendition}/index.m3u8`)).text)
  const entry = playlist.segments.find(s => s.seq === seq)
  const bytes = entry?.map != null ? Buffer.concat([await get(entry.map), await get(`${seq}.m4s`)]) : await get(`${seq}.ts`)
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Whether an edge lists every rendition segment the ingest holds (playlists
 * ended, so nothing more is coming), as "missing" strings; [] when complete.
 */
export function missing (ingest: Holdings, listing: { segments: Map<string, number[]> }): string[] {
  const out: string[] = []
  for (const [r, seqs] of ingest) {
    const have = new Set(listing.segments.get(r) ?? [])
    for (const seq of seqs.keys()) if (!have.has(seq)) out.push(`${r}/${seq}`)
  }
  return out
}
