/**
 * A keyframe-less publish against a real ingest process (security review M3). The hostile
 * publisher sends H.264 with one keyframe at the start and none after (x264 keyint 100000,
 * no scene cuts), so the segmenter never reaches a cut; an honest publisher streams on the
 * same ingest at the same time.
 *
 * The ingest must stop the hostile publish once its open segment outlasts the bound
 * (10 × `--segment-seconds`, at least 20 s), disconnect the publisher, count the refusal,
 * show the reason on the stream and in the `stream.ended` webhook, keep the disk it used
 * bounded (and free it), and keep segmenting the honest stream throughout.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { MAX_SOURCE_SEGMENT_BYTES, MIN_MAX_SEGMENT_SECONDS, resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream, metric } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { TestSource } from '@diststream/media'
import type { Server } from 'node:http'

/** With 1 s segments the bound is MIN_MAX_SEGMENT_SECONDS (20 s). */
const SEGMENT_SECONDS = 1
/** Start-up of the publisher and the segmenter (ffmpeg probing an FLV pipe), and the watch's polls. */
const SLACK_MS = 12_000
/** The hostile publisher would run this long if never stopped. */
const HOSTILE_SECONDS = 90

/** Bytes of every file under `dir` (0 if it does not exist). */
async function du (dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])
  let total = 0
  for (const e of entries) if (e.isFile()) total += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size
  return total
}

describe('a keyframe-less publish is stopped within the bound (M3)', { timeout: 180_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let honest: TestSource | undefined
  let hostile: ReturnType<typeof spawn> | undefined
  let hookServer: Server
  const hooks: any[] = []
  let failed = false

  before(async () => {
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => { hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8'))); res.statusCode = 204; res.end() })
    })
    await new Promise<void>(resolve => hookServer.listen(0, '127.0.0.1', resolve))
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`
    // No workers: segments pass through, so the test measures the segmenter, not the market.
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--container', 'ts', '--webhook', hookUrl, '--webhook-events', 'stream.ended'], { DISTSTREAM_WEBHOOK_SECRET: 'hostile-publish-secret' })
  })

  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    hostile?.kill('SIGKILL')
    await honest?.stop()
    await cluster.close(failed)
    hookServer.close()
  })

  it('stops the huge-GOP publish, counts and shows why, keeps the honest stream going', async () => {
    const { http, rtmpPort } = await ingest.info
    const auth = { headers: { authorization: `Bearer ${cluster.apiToken}` } }
    const stream = async (id: string): Promise<any> => (await getJson(`${http}/api/streams/${id}`, auth)).body
    const good = await createStream(http, 'honest', cluster.apiToken)
    const bad = await createStream(http, 'hostile', cluster.apiToken)

    honest = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${good.key}`, width: 320, height: 180, fps: 25, gopSeconds: 1 })
    await waitUntil(async () => ((await stream(good.id)).lastSeq ?? -1) >= 1, 30_000, 'the honest stream to segment')

    const t0 = Date.now()
    hostile = spawn(ffmpeg.ffmpeg, [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      // With audio, as a real publisher (a video-only FLV makes the segmenter's ffmpeg wait up to 90 s for the audio its header announces).
      '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(HOSTILE_SECONDS), '-map', '0:v', '-map', '1:a',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
      '-g', '100000', '-x264-params', 'keyint=100000:min-keyint=100000:scenecut=0',
      '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/${bad.key}`
    ], { stdio: 'ignore' })
    const hostileExit = new Promise<number | null>(resolve => hostile!.once('exit', code => { resolve(code) }))
    await waitUntil(async () => (await stream(bad.id)).state === 'live', 15_000, 'the hostile publish to go live')

    // While it runs: the disk it takes stays under the cap (its one open segment), and the honest stream segments.
    const incoming = join(ingest.dataDir, 'incoming', bad.id)
    let maxDisk = 0
    const honestAtStart = (await stream(good.id)).lastSeq as number
    const refused = await waitUntil(async () => {
      maxDisk = Math.max(maxDisk, await du(incoming))
      const s = await stream(bad.id)
      return s.state === 'idle' && s.error != null ? s : undefined
    }, (MIN_MAX_SEGMENT_SECONDS * 1000) + SLACK_MS + 10_000, 'the hostile publish to be stopped', 500)
    const elapsed = Date.now() - t0
    assert.ok(elapsed >= MIN_MAX_SEGMENT_SECONDS * 1000, `not stopped before the bound (${elapsed} ms)`)
    assert.ok(elapsed <= MIN_MAX_SEGMENT_SECONDS * 1000 + SLACK_MS, `stopped within the bound (${elapsed} ms)`)
    assert.match(refused.error, /keyframe interval too long/)
    assert.equal(refused.lastSeq, null, 'no segment of it was ever cut')
    assert.ok(maxDisk > 0 && maxDisk < MAX_SOURCE_SEGMENT_BYTES, `disk used by the hostile publish: ${maxDisk} bytes`)

    // The publisher is disconnected (ffmpeg fails writing), long before its 90 s.
    const code = await Promise.race([hostileExit, new Promise<'running'>(resolve => setTimeout(() => { resolve('running') }, 15_000))])
    assert.notEqual(code, 'running', 'the hostile publisher was disconnected')
    assert.notEqual(code, 0)

    const text = (await getText(`${http}/metrics`)).text
    assert.equal(metric(text, 'diststream_ingest_publishes_refused_total', 'why="keyframe_interval"'), 1)
    const hook = await waitUntil(async () => hooks.find(h => h.type === 'stream.ended' && h.data.streamId === bad.id), 15_000, 'the stream.ended webhook')
    assert.equal(hook.data.reason, 'refused')
    assert.match(hook.data.error, /keyframe interval too long/)
    await waitUntil(async () => (await du(incoming)) === 0, 10_000, 'the refused publish\'s files to be removed')

    // The node is up and the honest stream kept segmenting through it all, and after.
    const honestNow = (await stream(good.id)).lastSeq as number
    assert.ok(honestNow - honestAtStart >= MIN_MAX_SEGMENT_SECONDS / SEGMENT_SECONDS / 2, `honest segments during the hostile publish: ${honestAtStart} → ${honestNow}`)
    await waitUntil(async () => ((await stream(good.id)).lastSeq ?? -1) >= honestNow + 3, 15_000, 'the honest stream to go on segmenting')
    const g = await stream(good.id)
    assert.equal(g.state, 'live')
    assert.equal(g.error, undefined)
    assert.equal((await getText(`${http}/readyz`)).status, 200)
  })
})
