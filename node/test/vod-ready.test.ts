/**
 * The `vod.ready` webhook, with a real node on loopback: a VOD made from a
 * file (`POST /api/streams` with `source_url` and `vod`) sends exactly one
 * signed `vod.ready` once it is `ready`, with the stream id, its playback
 * URL, its segments and duration. No worker: the source passes through,
 * which is enough for a VOD to become ready.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg } from '@diststream/media'
import { verifyWebhook } from '@diststream/webhooks'
import { callApi, Cluster, getJson, waitUntil } from './helpers/cluster.js'
import type { Server } from 'node:http'

const SECRET = 'vod-ready-secret'
const SEGMENT_SECONDS = 2
const CLIP_SECONDS = 6
const CLIP_SEGMENTS = CLIP_SECONDS / SEGMENT_SECONDS

interface Hook { event: string, body: any, valid: boolean }

describe('webhooks: vod.ready', { timeout: 180_000 }, () => {
  const cluster = new Cluster()
  const hooks: Hook[] = []
  let hookServer: Server
  let http: string
  let work: string
  let clip: string
  let failed = false

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-vod-ready-'))
    clip = join(work, 'clip.mp4')
    // 640x360 test pattern + tone, 6 s, a keyframe every 2 s: three segments.
    await promisify(execFile)(resolveFfmpeg().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(CLIP_SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '250k', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', '-shortest', clip])
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        let body: any
        try { body = JSON.parse(raw) } catch { body = raw }
        hooks.push({ event: String(req.headers['x-diststream-event']), body, valid: verifyWebhook(SECRET, raw, req.headers['x-diststream-signature'] as string | undefined) })
        res.statusCode = 204
        res.end()
      })
    })
    await new Promise<void>(resolve => hookServer.listen(0, '127.0.0.1', resolve))
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`
    // The default --webhook-events include vod.ready.
    // The clip is a file source: allowed from its directory only (review M4).
    const ingest = await cluster.start('ingest', ['--role', 'ingest', '--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--webhook', hookUrl, '--allow-file-source', work], { DISTSTREAM_WEBHOOK_SECRET: SECRET })
    http = (await ingest.info).http
  })

  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    await new Promise<void>(resolve => { hookServer.close(() => { resolve() }) })
    await cluster.close(failed, work)
  })

  it('sends one signed vod.ready with the stream id and playback URL when the VOD is ready', async () => {
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'vod-hook', source_url: clip, vod: true })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const id: string = created.body.id
    assert.equal(hooks.filter(h => h.event === 'vod.ready').length, 0, 'nothing before the VOD is ready')
    const ready = await waitUntil(async () => {
      const s = (await getJson(`${http}/api/streams/${id}`)).body
      if (s.state === 'failed') throw new Error(`VOD failed: ${s.error}`)
      return s.state === 'ready' ? s : undefined
    }, 90_000, 'the VOD to be ready', 500)
    await waitUntil(async () => hooks.some(h => h.event === 'vod.ready'), 15_000, 'the vod.ready webhook')
    // Any duplicate would follow at once: give it time to show up.
    await new Promise(resolve => setTimeout(resolve, 2000))
    const vod = hooks.filter(h => h.event === 'vod.ready')
    assert.equal(vod.length, 1, 'exactly one vod.ready')
    const hook = vod[0]!
    assert.ok(hook.valid, 'the signature verifies')
    assert.equal(hook.body.type, 'vod.ready')
    const playbackUrl = `${http}/live/${id}/index.m3u8`
    assert.equal(ready.playbackUrl, playbackUrl, 'the API shows the same playback URL')
    assert.deepEqual(
      { streamId: hook.body.data.streamId, name: hook.body.data.name, playbackUrl: hook.body.data.playbackUrl, segments: hook.body.data.segments },
      { streamId: id, name: 'vod-hook', playbackUrl, segments: CLIP_SEGMENTS }
    )
    assert.ok(Math.abs(hook.body.data.durationMs - CLIP_SECONDS * 1000) < 500, `duration ${hook.body.data.durationMs} ms`)
    assert.deepEqual(hooks.filter(h => h.event !== 'vod.ready').map(h => h.event), [], 'a VOD sends no stream.* events')
  })
})
