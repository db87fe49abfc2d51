/**
 * Publishes with one kind of track, end to end in separate processes (an
 * ingest, a worker, an edge; real ffmpeg publishing over RTMP). A video-only
 * publish plays from the edge with no audio group, and promptly: before the
 * FLV header was rewritten from the publisher's metadata (flv-header.ts),
 * ffmpeg's FLV demuxer waited for the audio node-media-server announced, about
 * 90 s at this bitrate, before the first segment. An audio-only publish
 * (radio) plays as audio-only HLS: the master's one variant is the audio
 * playlist (no video ladder, no job), and its segments decode as AAC.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg } from '@diststream/media'
import { Cluster, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

const run = promisify(execFile)
const SEGMENT_SECONDS = 2
/**
 * A video-only publish must list its first segments on the edge within this, while it still
 * publishes (PUBLISH_SECONDS). Without the header fix ffmpeg cut nothing until its probe size
 * or the input's end (measured: a 30 s video-only FLV with audio announced gave its first
 * segment at 30 s, with the header fixed at 5 s); here it took 6-7 s.
 */
const FIRST_SEGMENTS_WITHIN_MS = 15_000
/** Longer than FIRST_SEGMENTS_WITHIN_MS, so a publish whose segments only come at its end fails. */
const PUBLISH_SECONDS = 30

/** ffmpeg publishing `tracks` of a test source over RTMP as FLV, for `seconds`. */
function rtmpPublish (ffmpeg: string, url: string, tracks: 'video' | 'audio', seconds: number): { done: Promise<number | null>, kill: () => void } {
  const video = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(25 * SEGMENT_SECONDS), '-keyint_min', String(25 * SEGMENT_SECONDS), '-sc_threshold', '0', '-b:v', '300k']
  const audio = ['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', 'aac', '-b:a', '96k']
  const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'warning', ...(tracks === 'video' ? video : audio), '-t', String(seconds), '-f', 'flv', url], { stdio: 'ignore' })
  return { done: new Promise(resolve => child.once('close', resolve)), kill: () => { child.kill('SIGKILL') } }
}

describe('publishes with one kind of track', { timeout: 180_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess

  before(async () => {
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common])
    const boot = await ingest.bootstrapAddr()
    await cluster.start('worker', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', boot, ...common])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed) })

  it('plays a video-only publish without an audio group, its first segments within seconds', async (t) => {
    const { http, rtmpPort } = await ingest.info
    await waitForRoles(http, { worker: 1, edge: 1 })
    const stream = await createStream(http, 'video-only', cluster.apiToken)
    const edgeHttp = (await edge.info).http
    const started = Date.now()
    const pub = rtmpPublish(ffmpeg.ffmpeg, `rtmp://127.0.0.1:${rtmpPort!}/live/${stream.key}`, 'video', PUBLISH_SECONDS)
    try {
      await waitUntil(async () => {
        const res = await getText(`${edgeHttp}/live/${stream.id}/240p/index.m3u8`)
        return res.status === 200 && parseMediaPlaylist(res.text).segments.filter(s => s.gap !== true).length >= 2
      }, FIRST_SEGMENTS_WITHIN_MS, 'two transcoded segments of a video-only publish on the edge', 500)
      t.diagnostic(`two segments on the edge ${Date.now() - started} ms after the publish started`)
      const text = (await getText(`${edgeHttp}/live/${stream.id}/index.m3u8`)).text
      t.diagnostic(text)
      assert.doesNotMatch(text, /TYPE=AUDIO/, 'no audio group')
      assert.doesNotMatch(text, /AUDIO="/, 'no variant refers to an audio group')
      const master = parseMasterPlaylist(text)
      assert.ok(master.variants.some(v => v.uri.startsWith('240p/')))
      for (const v of master.variants) assert.doesNotMatch(v.codecs ?? '', /mp4a/, 'no audio codec announced')
    } finally {
      pub.kill()
      await pub.done
    }
  })

  it('plays an audio-only publish as audio-only HLS: no video ladder, segments decode as audio', async (t) => {
    const { http, rtmpPort } = await ingest.info
    await waitForRoles(http, { worker: 1, edge: 1 })
    const stream = await createStream(http, 'radio', cluster.apiToken)
    const edgeHttp = (await edge.info).http
    const pub = rtmpPublish(ffmpeg.ffmpeg, `rtmp://127.0.0.1:${rtmpPort!}/live/${stream.key}`, 'audio', PUBLISH_SECONDS)
    const dir = await mkdtemp(join(tmpdir(), 'ds-radio-'))
    try {
      const playlist = await waitUntil(async () => {
        const res = await getText(`${edgeHttp}/live/${stream.id}/audio/index.m3u8`)
        if (res.status !== 200) return undefined
        const p = parseMediaPlaylist(res.text)
        return p.segments.filter(s => s.gap !== true).length >= 3 ? p : undefined
      }, FIRST_SEGMENTS_WITHIN_MS, 'three audio segments of an audio-only publish on the edge', 500)
      const text = (await getText(`${edgeHttp}/live/${stream.id}/index.m3u8`)).text
      t.diagnostic(text)
      const master = parseMasterPlaylist(text)
      assert.deepEqual(master.variants.map(v => v.uri), ['audio/index.m3u8'], 'the audio playlist is the one variant')
      assert.doesNotMatch(text, /RESOLUTION=/, 'no video variant')
      assert.match(text, /CODECS="mp4a\.40\.2"/)
      assert.equal((await getText(`${edgeHttp}/live/${stream.id}/source/index.m3u8`)).status, 404, 'no video rendition')
      const jobs = JSON.parse((await getText(`${http}/api/jobs?limit=500`)).text) as Array<{ streamId: string }>
      assert.equal(jobs.filter(j => j.streamId === stream.id).length, 0, 'no transcode job for audio')
      // Two consecutive segments, each its init + media, decode as AAC audio and nothing else.
      const files: string[] = []
      for (const seg of playlist.segments.filter(s => s.gap !== true).slice(0, 2)) {
        const get = async (f: string): Promise<Buffer> => Buffer.from(await (await fetch(`${edgeHttp}/live/${stream.id}/audio/${f}`)).arrayBuffer())
        const file = join(dir, `${seg.seq}.mp4`)
        await writeFile(file, Buffer.concat([seg.map != null ? await get(seg.map) : Buffer.alloc(0), await get(seg.uri)]))
        files.push(file)
      }
      for (const file of files) {
        const { stdout } = await run(ffmpeg.ffprobe!, ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', file])
        assert.equal(stdout.trim(), 'aac,audio', 'one AAC audio stream')
        const decoded = await run(ffmpeg.ffmpeg, ['-v', 'error', '-i', file, '-f', 'null', '-'])
        assert.equal(decoded.stderr.trim(), '', 'decodes without errors')
      }
    } finally {
      pub.kill()
      await pub.done
      await rm(dir, { recursive: true, force: true })
    }
  })
})
