/**
 * Restream outputs (issue 16) against real processes: an ingest node, an
 * ffmpeg test publish, and an ffmpeg RTMP receiver (`-listen 1`) on
 * loopback. The receiver gets playable H.264 at the source's resolution
 * (copied, not re-encoded); killing it and starting it again gets the output
 * back (reconnect with backoff); the output stops with the publish, comes
 * back with the next one, and survives a node restart. Keys never show
 * without the API token.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, callApi, getJson, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { ChildProcess } from 'node:child_process'

const run = promisify(execFile)
/** Seconds of a receiver's file probed: 15 fps makes 45 frames, three times what the checks ask for. */
const PROBE_SECONDS = 3
const WIDTH = 320
const HEIGHT = 180

async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>(resolve => srv.close(() => { resolve() }))
  return port
}

/** An RTMP receiver: ffmpeg listening on loopback, writing what it gets to `file` (copied). */
function startReceiver (ffmpeg: string, port: number, key: string, file: string): { child: ChildProcess, exited: Promise<void> } {
  const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-listen', '1', '-i', `rtmp://127.0.0.1:${port}/live/${key}`, '-c', 'copy', '-f', 'flv', '-y', file], { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<void>(resolve => child.once('close', () => { resolve() }))
  return { child, exited }
}

/** The file's video as ffprobe decodes it: codec, size, frames decoded. */
async function probeVideo (ffprobe: string, file: string): Promise<{ codec: string, width: number, height: number, frames: number }> {
  // The receiver is still writing the file: probe a copy, and only its first seconds (ffprobe 5.1 crashed
  // with SIGSEGV once, counting frames up to a tail cut mid-tag while the file grew under it).
  const snapshot = `${file}.probe`
  await copyFile(file, snapshot)
  const { stdout } = await run(ffprobe, ['-v', 'error', '-read_intervals', `%+${PROBE_SECONDS}`, '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', snapshot], { timeout: 60_000 })
  const s = JSON.parse(stdout).streams?.[0] ?? {}
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames ?? 0) }
}

describe('restream outputs', { timeout: 240_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  const receivers: ChildProcess[] = []
  let dir = ''
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    for (const r of receivers) r.kill('SIGKILL')
    await cluster.close(failed, dir)
  })

  it('copies the publish to an RTMP receiver, reconnects after it dies, follows the publish, persists', async () => {
    assert.ok(ffmpeg.ffprobe != null, 'ffprobe needed')
    dir = await mkdtemp(join(tmpdir(), 'ds-restream-'))
    // The receiver is on loopback: outputs follow the pull sources' host rules (--allow-private-sources).
    let ingest = await cluster.start('ingest', ['--role', 'ingest', '--segment-seconds', '1', '--allow-private-sources'])
    let { http, rtmpPort } = await ingest.info
    const token = cluster.apiToken
    const stream = await createStream(http, 'restream', token)
    const port = await freePort()
    const outKey = 'outkey-0123456789abcdef'
    const outUrl = `rtmp://127.0.0.1:${port}/live/${outKey}`
    const outputs = `${http}/api/streams/${stream.id}/outputs`

    // Refusals: no token, a scheme that is not rtmp/rtmps/srt, an unknown stream.
    assert.equal((await callApi(outputs, 'POST', 'wrong-token-wrong-token', { url: outUrl })).status, 401)
    const bad = await callApi(outputs, 'POST', token, { url: 'http://127.0.0.1/live/x' })
    assert.equal(bad.status, 400)
    assert.match(bad.body.error, /body\/url/)
    assert.equal((await callApi(`${http}/api/streams/nosuchstream/outputs`, 'POST', token, { url: outUrl })).status, 404)
    const metadata = await callApi(outputs, 'POST', token, { url: 'rtmp://169.254.169.254/live/x' })
    assert.equal(metadata.status, 400, 'a cloud metadata address is never an output')
    assert.match(metadata.body.error, /output host/)

    const added = await callApi(outputs, 'POST', token, { url: outUrl })
    assert.equal(added.status, 201, JSON.stringify(added.body))
    assert.equal(added.body.url, outUrl)
    assert.equal(added.body.state, 'idle', 'not live before the publish')
    const outputId: string = added.body.id
    // Before the stream is announced, its outputs do not exist for the public.
    assert.equal((await getJson(outputs)).status, 404)

    const listOut = async (): Promise<any> => (await getJson(outputs, { headers: { authorization: `Bearer ${token}` } })).body[0]
    const receiverA = startReceiver(ffmpeg.ffmpeg, port, outKey, join(dir, 'a.flv'))
    receivers.push(receiverA.child)
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.key}`, width: WIDTH, height: HEIGHT, fps: 15, gopSeconds: 1, durationSec: 120 })
    await waitUntil(async () => (await listOut())?.state === 'live', 30_000, 'the output live')
    await waitUntil(async () => ((await stat(join(dir, 'a.flv')).catch(() => undefined))?.size ?? 0) > 60_000, 30_000, 'the receiver getting media')
    const a = await probeVideo(ffmpeg.ffprobe, join(dir, 'a.flv'))
    assert.deepEqual({ codec: a.codec, width: a.width, height: a.height }, { codec: 'h264', width: WIDTH, height: HEIGHT }, 'copied: the source\'s H.264 at its resolution')
    assert.ok(a.frames >= 15, `decodable frames (${a.frames})`)

    // Without the token: the output shows, its key does not.
    const pub = await getJson(outputs)
    assert.equal(pub.status, 200)
    assert.equal(pub.body.length, 1)
    assert.ok(!JSON.stringify(pub.body).includes(outKey), 'no key in the public listing')
    assert.equal(pub.body[0].url, `rtmp://127.0.0.1:${port}/live/***`)

    // The receiver dies: the output retries with backoff; a new receiver gets it back.
    receiverA.child.kill('SIGKILL')
    await receiverA.exited
    const down = await waitUntil(async () => { const o = await listOut(); return o?.state === 'retrying' ? o : undefined }, 30_000, 'the output retrying')
    assert.ok(down.failures >= 1)
    assert.equal(typeof down.retryAt, 'number', 'when the next attempt starts')
    const receiverB = startReceiver(ffmpeg.ffmpeg, port, outKey, join(dir, 'b.flv'))
    receivers.push(receiverB.child)
    await waitUntil(async () => (await listOut())?.state === 'live', 40_000, 'the output live again')
    await waitUntil(async () => ((await stat(join(dir, 'b.flv')).catch(() => undefined))?.size ?? 0) > 60_000, 30_000, 'the new receiver getting media')
    const b = await probeVideo(ffmpeg.ffprobe, join(dir, 'b.flv'))
    assert.deepEqual({ codec: b.codec, width: b.width, height: b.height }, { codec: 'h264', width: WIDTH, height: HEIGHT })
    assert.ok(b.frames >= 15)

    // The publish ends: the output stops (and the receiver sees its input end).
    await source.stop()
    await waitUntil(async () => (await listOut())?.state === 'idle', 30_000, 'the output idle after the publish')
    receiverB.child.kill('SIGKILL')
    await receiverB.exited

    // Persisted: after a restart the output is still there, and the next publish starts it again.
    ingest = await cluster.restart(ingest)
    ;({ http, rtmpPort } = await ingest.info)
    const outputs2 = `${http}/api/streams/${stream.id}/outputs`
    const listed = await getJson(outputs2, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual(listed.body.map((o: { id: string, url: string }) => [o.id, o.url]), [[outputId, outUrl]])
    const receiverC = startReceiver(ffmpeg.ffmpeg, port, outKey, join(dir, 'c.flv'))
    receivers.push(receiverC.child)
    const again = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.key}`, width: WIDTH, height: HEIGHT, fps: 15, gopSeconds: 1, durationSec: 120 })
    await waitUntil(async () => (await getJson(outputs2, { headers: { authorization: `Bearer ${token}` } })).body[0]?.state === 'live', 30_000, 'the output live with the next publish')
    await again.stop()

    // Delete: gone; again: 404. The bound: at most 8 outputs per stream.
    assert.equal((await callApi(`${outputs2}/${outputId}`, 'DELETE', token)).status, 204)
    assert.equal((await callApi(`${outputs2}/${outputId}`, 'DELETE', token)).status, 404)
    assert.deepEqual((await getJson(outputs2, { headers: { authorization: `Bearer ${token}` } })).body, [])
    for (let i = 0; i < 8; i++) assert.equal((await callApi(outputs2, 'POST', token, { url: `rtmps://127.0.0.1:9/app/k${i}` })).status, 201)
    const ninth = await callApi(outputs2, 'POST', token, { url: 'rtmps://127.0.0.1:9/app/k9' })
    assert.equal(ninth.status, 409)
    assert.match(ninth.body.error, /at most 8/)
    await rm(dir, { recursive: true, force: true })
  })
})
