import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseMediaPlaylist } from '@diststream/hls'
import { measureJoins, probeMedia } from '@diststream/media'
import { getText, waitUntil } from './cluster.js'
import type { FfmpegPaths } from '@diststream/media'

export type PlaylistSegment = ReturnType<typeof parseMediaPlaylist>['segments'][number]

/**
 * Waits until the edge's media playlist for `rendition` holds at least
 * `expected` segments and has stopped growing for `settleMs`, and returns it.
 */
export async function settledPlaylist (edgeHttp: string, streamId: string, rendition: string, expected: number, timeoutMs: number, settleMs = 4000): Promise<ReturnType<typeof parseMediaPlaylist>> {
  let last = -1
  let stableSince = Date.now()
  return await waitUntil(async () => {
    const r = await getText(`${edgeHttp}/live/${streamId}/${rendition}/index.m3u8`)
    if (r.status !== 200) return undefined
    const p = parseMediaPlaylist(r.text)
    if (p.segments.length !== last) { last = p.segments.length; stableSince = Date.now() }
    return p.segments.length >= expected && Date.now() - stableSince > settleMs ? p : undefined
  }, timeoutMs, `${rendition} playlist to hold ${expected} segments (has ${last})`, 500)
}

/** Asserts sequence numbers `from, from+1, …` with no gap tags; returns the sequence numbers. */
export function assertContiguous (segments: PlaylistSegment[], what: string): number[] {
  const seqs = segments.map(s => s.seq)
  const first = seqs[0] ?? 0
  seqs.forEach((seq, i) => { assert.equal(seq, first + i, `${what}: missing sequence number ${first + i} (have ${seqs.join(',')})`) })
  const gaps = segments.filter(s => s.gap).map(s => s.seq)
  assert.deepEqual(gaps, [], `${what}: EXT-X-GAP at ${gaps.join(',')}`)
  return seqs
}

/**
 * Downloads every segment from the edge, checks each decodes at
 * `width`x`height`, and measures the joins between consecutive segments.
 */
export async function checkSegments (opts: { edgeHttp: string, streamId: string, rendition: string, segments: PlaylistSegment[], dir: string, ffmpeg: FfmpegPaths, size: [number, number] }): Promise<{ maxVideoGapMs: number, maxAudioGapMs: number, files: string[] }> {
  const files: string[] = []
  const get = async (uri: string): Promise<Buffer> => {
    const res = await fetch(`${opts.edgeHttp}/live/${opts.streamId}/${opts.rendition}/${uri}`, { signal: AbortSignal.timeout(15_000) })
    assert.equal(res.status, 200, `${opts.rendition}/${uri}`)
    return Buffer.from(await res.arrayBuffer())
  }
  for (const s of opts.segments) {
    // fMP4 (CMAF): the segment's init (EXT-X-MAP) + the media segment make a file ffprobe reads on its own.
    const body = s.map != null ? Buffer.concat([await get(s.map), await get(s.uri)]) : await get(s.uri)
    const file = join(opts.dir, `${opts.streamId}-${opts.rendition}-${s.seq}.${s.map != null ? 'mp4' : 'ts'}`)
    await writeFile(file, body)
    files.push(file)
    const probe = await probeMedia(file, { ffprobePath: opts.ffmpeg.ffprobe, ffmpegPath: opts.ffmpeg.ffmpeg, countFrames: true })
    assert.deepEqual([probe.width, probe.height], opts.size, `${opts.rendition} segment ${s.seq} resolution`)
    assert.ok((probe.videoFrames ?? 0) > 0, `${opts.rendition} segment ${s.seq} decodes`)
  }
  const joins = files.length > 1 ? await measureJoins(files, { ffprobePath: opts.ffmpeg.ffprobe }) : { maxVideoGapMs: 0, maxAudioGapMs: 0 }
  return { maxVideoGapMs: Math.abs(joins.maxVideoGapMs), maxAudioGapMs: Math.abs(joins.maxAudioGapMs), files }
}
