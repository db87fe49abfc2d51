/**
 * SRT in, end to end, in separate processes on loopback: an ingest with
 * `--srt-passphrase`, a worker and an edge; real ffmpeg (Debian's, with
 * libsrt) as the SRT caller. A publish to `srt://…?streamid=publish:<key>`
 * with the passphrase plays from the edge, transcoded like an RTMP one; while
 * it runs, an unknown key, a wrong passphrase and no passphrase are refused at
 * connect (the caller's libsrt reports the rejection), counted, and the
 * publish goes on.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg } from '@diststream/media'
import { callApi, Cluster, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { metric } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

const SEGMENT_SECONDS = 2
const PUBLISH_SECONDS = 14
/** (ffmpeg 5.1 takes a passphrase in an SRT URL literally, %XX included: none here.) */
const PASSPHRASE = 'correct-horse-battery'

/** ffmpeg publishing testsrc2 + a tone as MPEG-TS to `url` (an SRT caller); resolves with its exit code and stderr. */
function srtCaller (ffmpeg: string, url: string, seconds: number): { done: Promise<{ code: number | null, stderr: string }>, kill: () => void } {
  const child = spawn(ffmpeg, [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(25 * SEGMENT_SECONDS), '-keyint_min', String(25 * SEGMENT_SECONDS), '-sc_threshold', '0', '-b:v', '400k',
    '-c:a', 'aac', '-b:a', '96k', '-f', 'mpegts', url
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < 20_000) stderr += s })
  const done = new Promise<{ code: number | null, stderr: string }>(resolve => child.once('close', (code) => { resolve({ code, stderr }) }))
  return { done, kill: () => { child.kill('SIGKILL') } }
}

describe('SRT publish', { timeout: 180_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess

  before(async () => {
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common], { DISTSTREAM_SRT_PASSPHRASE: PASSPHRASE })
    const boot = await ingest.bootstrapAddr()
    await cluster.start('worker', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', boot, ...common])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed) })

  it('plays an SRT publish from an edge, transcoded; refuses a wrong key, a wrong passphrase and none, and counts them', async (t) => {
    const { http, srtPort } = await ingest.info
    assert.ok(srtPort != null && srtPort > 0, 'the ingest reports its SRT port')
    await waitForRoles(http, { worker: 1, edge: 1 })
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'srt' })
    assert.equal(created.status, 201)
    const stream = created.body as { id: string, key: string, srtUrl: string }
    assert.equal(stream.srtUrl, `srt://127.0.0.1:${srtPort}?streamid=publish:${stream.key}`, 'the API gives the SRT publish URL')
    const base = `srt://127.0.0.1:${srtPort}?connect_timeout=3000`
    const good = srtCaller(ffmpeg.ffmpeg, `${base}&streamid=publish:${stream.key}&passphrase=${PASSPHRASE}`, PUBLISH_SECONDS)
    try {
      // While it publishes: three callers refused at connect, each one ffmpeg exiting with libsrt's rejection.
      await waitUntil(async () => (await getText(`${http}/api/streams/${stream.id}`)).text.includes('"live"') || undefined, 20_000, 'the stream live')
      const refusals = await Promise.all([
        srtCaller(ffmpeg.ffmpeg, `${base}&streamid=publish:nosuchkey&passphrase=${PASSPHRASE}`, 4).done,
        srtCaller(ffmpeg.ffmpeg, `${base}&streamid=publish:${stream.key}&passphrase=wrong-passphrase`, 4).done,
        srtCaller(ffmpeg.ffmpeg, `${base}&streamid=publish:${stream.key}`, 4).done
      ])
      for (const r of refusals) {
        t.diagnostic(r.stderr.split('\n').filter(l => /reject|fail/i.test(l)).slice(0, 2).join(' | '))
        assert.notEqual(r.code, 0, 'a refused caller fails')
        assert.match(r.stderr, /reject/i, 'libsrt reports a rejection')
      }
      const m = (await getText(`${http}/metrics`)).text
      assert.equal(metric(m, 'diststream_srt_refused_total', 'reason="unknown_key"'), 1, 'unknown key counted once (retransmissions are not counted)')
      assert.equal(metric(m, 'diststream_srt_refused_total', 'reason="bad_passphrase"'), 1)
      assert.equal(metric(m, 'diststream_srt_refused_total', 'reason="unencrypted"'), 1)

      // The publish plays from the edge: a transcoded 240p rung with real (non-gap) segments.
      const edgeHttp = (await edge.info).http
      const playlist = await waitUntil(async () => {
        const res = await getText(`${edgeHttp}/live/${stream.id}/240p/index.m3u8`)
        if (res.status !== 200) return undefined
        const p = parseMediaPlaylist(res.text)
        return p.segments.filter(s => s.gap !== true).length >= 3 ? p : undefined
      }, 60_000, 'three transcoded 240p segments on the edge', 500)
      const master = parseMasterPlaylist((await getText(`${edgeHttp}/live/${stream.id}/index.m3u8`)).text)
      t.diagnostic(`variants: ${master.variants.map(v => v.uri).join(', ')}`)
      assert.ok(master.variants.some(v => v.uri.startsWith('240p/')), 'the master lists the transcoded rung')
      const seg = playlist.segments.find(s => s.gap !== true)!
      const init = seg.map != null ? Buffer.from(await (await fetch(`${edgeHttp}/live/${stream.id}/240p/${seg.map}`)).arrayBuffer()) : Buffer.alloc(0)
      const media = Buffer.from(await (await fetch(`${edgeHttp}/live/${stream.id}/240p/${seg.uri}`)).arrayBuffer())
      assert.ok(media.length > 1000, 'a real segment')
      const probe = spawn(ffmpeg.ffprobe!, ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'csv=p=0', '-i', 'pipe:0'])
      let out = ''
      probe.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
      probe.stdin.end(Buffer.concat([init, media]))
      await new Promise(resolve => probe.once('close', resolve))
      assert.match(out, /video,426,240/, 'the edge serves the worker\'s 426x240 transcode')
    } finally {
      good.kill()
      await good.done
    }
  })
})
