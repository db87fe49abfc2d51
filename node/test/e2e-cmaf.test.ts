/**
 * CMAF delivery end to end, in separate processes on loopback: one ingest
 * (`--container cmaf`, the default), two workers and one edge; a real RTMP
 * publish. The same fMP4 bytes are read as a live DASH manifest by ffprobe
 * (while the stream is live) and as an HLS v7 playlist with EXT-X-MAP by
 * ffmpeg (decoded contiguously), with the CDN headers on .m4s and init files.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

const run = promisify(execFile)
const PUBLISH_SECONDS = 16
const SEGMENT_SECONDS = 2
/** Video renditions and their sizes; `audio` is the one audio track (CMAF: one track per file). */
const SIZES: Record<string, [number, number] | null> = { source: [640, 360], '240p': [426, 240], audio: null }

interface Timeline { video: number[], audio: Array<{ pts: number, dur: number }>, errors: string }

/** Decodes a URL (playlist or manifest) with ffprobe: presentation times of every decoded frame, and what it complained about. */
async function decodeFrames (ffprobe: string, url: string, extra: string[] = []): Promise<Timeline> {
  const { stdout, stderr } = await run(ffprobe, ['-v', 'error', ...extra, '-show_entries', 'frame=media_type,pts_time,pkt_duration_time', '-of', 'compact=p=0', url], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })
  const video: number[] = []
  const audio: Array<{ pts: number, dur: number }> = []
  for (const line of stdout.split('\n')) {
    const f = Object.fromEntries(line.split('|').map(kv => kv.split('=') as [string, string]))
    if (f.pts_time == null || f.pts_time === 'N/A') continue
    if (f.media_type === 'video') video.push(Number(f.pts_time))
    // (ffprobe reports no duration for the very first AAC frame: 1024 samples at 48 kHz)
    if (f.media_type === 'audio') audio.push({ pts: Number(f.pts_time), dur: f.pkt_duration_time != null && f.pkt_duration_time !== 'N/A' ? Number(f.pkt_duration_time) : 1024 / 48_000 })
  }
  video.sort((x, y) => x - y)
  return { video, audio, errors: stderr.trim() }
}

/** Largest deviation (ms) of consecutive frame times from the frame interval / audio frame durations. */
function maxGapsMs (t: Timeline, fps: number): { video: number, audio: number } {
  let video = 0
  for (let i = 1; i < t.video.length; i++) video = Math.max(video, Math.abs(t.video[i]! - t.video[i - 1]! - 1 / fps) * 1000)
  let audio = 0
  for (let i = 1; i < t.audio.length; i++) audio = Math.max(audio, Math.abs(t.audio[i]!.pts - t.audio[i - 1]!.pts - t.audio[i - 1]!.dur) * 1000)
  return { video, audio }
}

/** Segments listed in a manifest's SegmentTimelines (all representations): each S is 1 + r. */
function timelineLength (mpd: string): number {
  return [...mpd.matchAll(/<S t="\d+" d="\d+"(?: r="(\d+)")?\/>/g)].reduce((n, m) => n + 1 + Number(m[1] ?? 0), 0)
}

describe('CMAF: fMP4 renditions served as HLS v7 and live DASH', { timeout: 240_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let streamId: string
  let work: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-cmaf-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '30']
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--container', 'cmaf', ...common])
    const boot = await ingest.bootstrapAddr()
    await Promise.all([
      cluster.start('worker-a', ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common]),
      cluster.start('worker-b', ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])
    ])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, work) })

  it('serves a live DASH manifest that ffprobe reads and decodes, then HLS v7 that decodes with no gaps', async (t) => {
    const { http } = await ingest.info
    await waitForRoles(http, { worker: 2, edge: 1 })
    const created = await createStream(http, 'cmaf', cluster.apiToken)
    streamId = created.id
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    const edgeHttp = (await edge.info).http
    const mpdUrl = `${edgeHttp}/live/${streamId}/manifest.mpd`

    // Live: the manifest is dynamic, lists both representations, and ffprobe reads it from the live edge.
    const live = await waitUntil(async () => {
      const res = await fetch(mpdUrl)
      if (res.status !== 200) return undefined
      const text = await res.text()
      return timelineLength(text) >= 3 * 3 && text.includes('id="240p"') && text.includes('id="source"') && text.includes('id="audio"') ? { res, text } : undefined
    }, 60_000, 'a DASH manifest with 3 segments of each representation', 500)
    t.diagnostic(`live manifest:\n${live.text}`)
    assert.equal(live.res.headers.get('content-type'), 'application/dash+xml')
    assert.equal(live.res.headers.get('cache-control'), 'public, max-age=1')
    assert.equal(live.res.headers.get('access-control-allow-origin'), '*')
    assert.match(live.text, /type="dynamic"/)
    assert.match(live.text, /availabilityStartTime="\d{4}-\d\d-\d\dT/)
    assert.match(live.text, /<SegmentTemplate timescale="90000" presentationTimeOffset="\d+" startNumber="\d+" initialization="240p\/init-[0-9a-f]{8}\.mp4" media="240p\/\$Number\$\.m4s">/)
    assert.match(live.text, /<AdaptationSet id="1" contentType="audio" mimeType="audio\/mp4"/)
    const probed = JSON.parse((await run(ffmpeg.ffprobe!, ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', mpdUrl], { timeout: 60_000 })).stdout)
    const videos = probed.streams.filter((s: any) => s.codec_type === 'video').map((s: any) => `${s.width}x${s.height}`).sort()
    t.diagnostic(`ffprobe on the live manifest: ${JSON.stringify(probed.streams)}`)
    assert.deepEqual(videos, ['426x240', '640x360'])
    assert.deepEqual(probed.streams.filter((s: any) => s.codec_type === 'audio').map((s: any) => s.codec_name), ['aac'], 'one audio track in the manifest')
    // Decode from the live edge: every representation decodes at least two segments' frames.
    // (ffmpeg's DASH reader follows a live manifest for ever: decode 8 s of every stream of it.)
    const dash = await run(ffmpeg.ffmpeg, ['-hide_banner', '-v', 'error', '-i', mpdUrl, '-map', '0', '-t', '8', '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })
    const perWidth = new Map<string, number>()
    for (const line of dash.stdout.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue
      const s = probed.streams[Number(line.split(',')[0])]
      const k = `${s?.codec_type === 'video' ? `${String(s.width)}` : 'audio'}`
      perWidth.set(k, (perWidth.get(k) ?? 0) + 1)
    }
    t.diagnostic(`decoded from the live DASH manifest (frames per stream): ${JSON.stringify([...perWidth])}; errors: ${JSON.stringify(dash.stderr.trim().slice(0, 500))}`)
    for (const w of ['426', '640']) {
      const frames = perWidth.get(w) ?? 0
      assert.ok(frames >= 2 * SEGMENT_SECONDS * 30, `${w} wide: ${frames} frames decoded from the DASH manifest (two segments are ${2 * SEGMENT_SECONDS * 30})`)
    }
    const audioFrames = perWidth.get('audio') ?? 0
    assert.ok(audioFrames >= 2 * SEGMENT_SECONDS * 48_000 / 1024 - 2, `${audioFrames} AAC frames decoded from the DASH manifest`)
    assert.equal(dash.stderr.trim(), '', 'ffmpeg decoded the DASH manifest without errors')
    assert.equal(await source.done, 0, 'the publisher ran to the end')

    // HLS v7: the master says version 7, the media playlists carry EXT-X-MAP and .m4s URIs, and end.
    const master = await getText(`${edgeHttp}/live/${streamId}/index.m3u8`)
    assert.match(master.text, /^#EXT-X-VERSION:7$/m)
    assert.match(master.text, /^#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio\/index\.m3u8"$/m)
    for (const v of parseMasterPlaylist(master.text).variants) assert.match(v.codecs, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/)
    assert.deepEqual(parseMasterPlaylist(master.text).variants.map(v => v.uri.split('/')[0]).sort(), ['240p', 'source'])
    for (const [rendition, size] of Object.entries(SIZES)) {
      const url = `${edgeHttp}/live/${streamId}/${rendition}/index.m3u8`
      const list = await waitUntil(async () => {
        const p = parseMediaPlaylist((await getText(url)).text)
        return p.ended ? p : undefined
      }, 60_000, `${rendition}: EXT-X-ENDLIST`, 500)
      assert.equal(list.version, 7)
      assert.ok(list.segments.length >= PUBLISH_SECONDS / SEGMENT_SECONDS - 1, `${rendition}: ${list.segments.length} segments`)
      for (const s of list.segments) {
        assert.ok(s.gap !== true, `${rendition} ${s.seq} is no gap`)
        assert.equal(s.uri, `${s.seq}.m4s`)
        assert.match(s.map ?? '', /^init-[0-9a-f]{8}\.mp4$/)
      }
      // Canonical inits: segments made by two workers (and the ingest's remux for the source) share one.
      const inits = new Set(list.segments.map(s => s.map))
      t.diagnostic(`${rendition}: ${list.segments.length} segments, ${inits.size} distinct init segment(s)`)
      assert.equal(inits.size, 1, `${rendition}: inits ${[...inits].join(',')}`)

      const frames = await decodeFrames(ffmpeg.ffprobe!, url)
      const gaps = maxGapsMs(frames, 30)
      if (size == null) {
        t.diagnostic(`${rendition} HLS v7: ${frames.audio.length} audio frames; max audio gap ${gaps.audio.toFixed(2)} ms; errors: ${JSON.stringify(frames.errors.slice(0, 300))}`)
        assert.equal(frames.errors, '', `${rendition}: ffprobe reported errors decoding the playlist`)
        assert.ok(frames.audio.length >= (list.segments.length - 1) * SEGMENT_SECONDS * 48_000 / 1024, `${rendition}: ${frames.audio.length} AAC frames`)
        assert.ok(gaps.audio < 1, `${rendition}: audio gap ${gaps.audio} ms`)
        continue
      }
      t.diagnostic(`${rendition} HLS v7: ${frames.video.length} video frames, ${frames.audio.length} audio frames; max video gap ${gaps.video.toFixed(1)} ms, max audio gap ${gaps.audio.toFixed(1)} ms; errors: ${JSON.stringify(frames.errors.slice(0, 300))}`)
      assert.equal(frames.errors, '', `${rendition}: ffprobe reported errors decoding the playlist`)
      assert.ok(frames.video.length >= (list.segments.length - 1) * SEGMENT_SECONDS * 30, `${rendition}: ${frames.video.length} frames`)
      assert.ok(gaps.video < 1, `${rendition}: video gap ${gaps.video} ms`)
      assert.equal(frames.audio.length, 0, 'video renditions are video only (CMAF: one track per file)')
      const { stdout } = await run(ffmpeg.ffprobe!, ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', url])
      assert.equal(stdout.trim().split('\n')[0], size.join(','))
    }

    // Ended: the manifest turns static with a presentation duration.
    const ended = await (await fetch(mpdUrl)).text()
    assert.match(ended, /type="static"/)
    assert.match(ended, /mediaPresentationDuration="PT\d+(\.\d+)?S"/)
    const total = await decodeFrames(ffmpeg.ffprobe!, mpdUrl, ['-select_streams', 'v'])
    t.diagnostic(`static manifest: ${total.video.length} video frames decoded`)
    // Ended: every segment the edge heard of (as the ended HLS playlists list them), both representations.
    assert.ok(total.video.length >= 2 * (PUBLISH_SECONDS / SEGMENT_SECONDS - 1) * SEGMENT_SECONDS * 30, `${total.video.length} frames from the static manifest`)
  })

  it('serves .m4s and init segments with the CDN headers (immutable, ETag/304, Range/206, HEAD, CORS)', async () => {
    const edgeHttp = (await edge.info).http
    const list = parseMediaPlaylist((await getText(`${edgeHttp}/live/${streamId}/240p/index.m3u8`)).text)
    const seg = list.segments[1]!
    for (const [file, type] of [[seg.uri, 'video/mp4'], [seg.map!, 'video/mp4']] as const) {
      const url = `${edgeHttp}/live/${streamId}/240p/${file}`
      const full = await fetch(url)
      assert.equal(full.status, 200, file)
      assert.equal(full.headers.get('content-type'), type)
      assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable')
      assert.equal(full.headers.get('access-control-allow-origin'), '*')
      assert.equal(full.headers.get('accept-ranges'), 'bytes')
      const etag = full.headers.get('etag')
      assert.match(etag ?? '', /^"[0-9a-f]{64}(-m4s)?"$/)
      const body = Buffer.from(await full.arrayBuffer())
      assert.equal((await fetch(url, { headers: { 'if-none-match': etag! } })).status, 304)
      const part = await fetch(url, { headers: { range: 'bytes=4-11' } })
      assert.equal(part.status, 206)
      assert.equal(part.headers.get('content-range'), `bytes 4-11/${body.byteLength}`)
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), body.subarray(4, 12))
      const head = await fetch(url, { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.headers.get('content-length'), String(body.byteLength))
      assert.equal(head.headers.get('etag'), etag)
      // The init is ftyp+moov; the media segment starts with moof.
      assert.equal(body.subarray(4, 8).toString('latin1'), file.endsWith('.m4s') ? 'moof' : 'ftyp')
    }
    assert.equal((await fetch(`${edgeHttp}/live/${streamId}/240p/${seg.seq}.ts`)).status, 404, 'no .ts URLs for an fMP4 stream')
    assert.equal((await fetch(`${edgeHttp}/live/${streamId}/240p/init-00000000.mp4`)).status, 404)
    assert.equal((await fetch(`${edgeHttp}/live/${streamId}/240p/99999.m4s`)).status, 404)
    assert.equal((await fetch(`${edgeHttp}/live/${streamId}/240p/init-xyz.mp4`)).status, 400)
    assert.equal((await fetch(`${edgeHttp}/live/nosuchstream/manifest.mpd`)).status, 404)
  })
})
