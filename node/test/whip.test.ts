/**
 * WHIP ingest (RFC 9725) end to end: a real Chromium with a fake camera and
 * microphone publishes over WebRTC to `POST /whip/<key>` on an ingest+edge
 * process; a worker process transcodes. The edge's HLS lists source segments
 * that decode as H.264 + AAC (the browser's Opus transcoded) and a 240p
 * rendition; DELETE ends the publish; a wrong key, a wrong content type and
 * an oversized offer are refused and counted, with no session held; a
 * broadcaster that goes silent, and one that never connects, are timed out.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMediaPlaylist } from '@diststream/hls'
import { MAX_WHIP_SESSIONS_PER_STREAM, WHIP_CONNECT_TIMEOUT_MS, WHIP_MEDIA_TIMEOUT_MS } from '@diststream/ingest'
import { probeMedia, resolveFfmpeg } from '@diststream/media'
import { Cluster, getJson, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { CHROMIUM } from './helpers/hlsjs.js'
import { createStream, metric } from './helpers/streams.js'
import { connectionState, launchBroadcaster, makeOffer, publish, servePage, unpublish } from './helpers/whip-client.js'
import type { Server } from 'node:http'
import type { Browser, Page } from 'playwright-core'
import type { NodeProcess } from './helpers/cluster.js'

/** Segments each rendition must list before the publish is judged (2 s each). */
const SEGMENTS = 3

describe('WHIP ingest from a browser', { timeout: 240_000, skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let node: NodeProcess
  let http: string
  let browser: Browser
  let page: Page
  let site: { server: Server, url: string }
  let dir: string
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ds-whip-'))
    const common = ['--ladder', '240p', '--segment-seconds', '2', '--spot-check-rate', '0', '--container', 'ts']
    node = await cluster.start('ingest-edge', ['--role', 'ingest,edge', ...common])
    await cluster.start('worker', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', await node.bootstrapAddr(), ...common])
    http = (await node.info).http
    await waitForRoles(http, { worker: 1 }, 30_000)
    site = await servePage()
    browser = await launchBroadcaster()
    page = await browser.newPage()
    page.on('pageerror', err => { process.stderr.write(`[browser] ${String(err)}\n`) })
    await page.goto(site.url)
  })

  after(async () => {
    await browser?.close()
    site?.server.close()
    await cluster.close(failed, dir)
  })

  it('refuses a wrong key, a wrong content type, an oversized offer and one session too many; DELETE frees a session', async () => {
    const offer = await makeOffer(page)
    const post = async (path: string, body: string, type = 'application/sdp'): Promise<Response> => await fetch(`${http}${path}`, { method: 'POST', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(10_000) })
    const wrong = await post('/whip/no-such-key', offer)
    assert.equal(wrong.status, 404, 'unknown key')
    assert.equal(wrong.headers.get('access-control-allow-origin'), '*', 'refusals carry CORS too')
    const { key } = await createStream(http, 'whip-refusals', cluster.apiToken)
    assert.equal((await post(`/whip/${key}`, offer, 'text/plain')).status, 415, 'content type must be application/sdp')
    assert.equal((await post(`/whip/${key}`, offer + 'a=x-pad:' + 'x'.repeat(64 * 1024) + '\r\n')).status, 413, 'oversized offer')
    assert.equal((await post(`/whip/${key}`, 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n')).status, 400, 'an offer without video')
    const pre = await fetch(`${http}/whip/${key}`, { method: 'OPTIONS' })
    assert.equal(pre.status, 204)
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/)
    // A key holds at most MAX_WHIP_SESSIONS_PER_STREAM sessions, connected or not; DELETE frees them before they connect.
    const held: string[] = []
    for (let i = 0; i < MAX_WHIP_SESSIONS_PER_STREAM; i++) {
      const r = await post(`/whip/${key}`, offer)
      assert.equal(r.status, 201, `offer ${i}: ${await r.text()}`)
      assert.equal(r.headers.get('content-type'), 'application/sdp')
      held.push(r.headers.get('location')!)
    }
    const over = await post(`/whip/${key}`, offer)
    assert.equal(over.status, 503, 'one session too many for this stream')
    assert.ok(over.headers.get('retry-after') != null)
    assert.equal(metric((await getText(`${http}/metrics`)).text, 'diststream_whip_sessions'), MAX_WHIP_SESSIONS_PER_STREAM)
    assert.equal((await fetch(`${http}${held[0]!.replace(key, 'other-key')}`, { method: 'DELETE' })).status, 404, 'DELETE needs the key the session was made with')
    for (const loc of held) assert.equal((await fetch(`${http}${loc}`, { method: 'DELETE' })).status, 200)
    const m = (await getText(`${http}/metrics`)).text
    assert.equal(metric(m, 'diststream_whip_refused_total', 'why="too_many_sessions"'), 1)
    assert.equal(metric(m, 'diststream_whip_refused_total', 'why="unknown_key"'), 1)
    assert.equal(metric(m, 'diststream_whip_refused_total', 'why="content_type"'), 1)
    assert.equal(metric(m, 'diststream_whip_refused_total', 'why="sdp_too_large"'), 1)
    assert.equal(metric(m, 'diststream_whip_refused_total', 'why="bad_offer"'), 1)
    assert.equal(metric(m, 'diststream_whip_sessions'), 0, 'no session held for a refused offer')
  })

  it('a browser publishes; the edge plays H.264 + AAC and a transcoded rendition; DELETE ends it', async () => {
    const stream = await createStream(http, 'whip', cluster.apiToken)
    const res = await publish(page, `${http}/whip/${stream.key}`)
    assert.equal(res.status, 201, `WHIP POST: ${res.error}`)
    assert.ok(res.location?.startsWith(`${http}/whip/${stream.key}/`), `Location ${String(res.location)}`)
    await waitUntil(async () => (await connectionState(page)) === 'connected', 20_000, 'the browser to connect')

    for (const rendition of ['source', '240p']) {
      await waitUntil(async () => {
        const r = await getText(`${http}/live/${stream.id}/${rendition}/index.m3u8`)
        return r.status === 200 && parseMediaPlaylist(r.text).segments.filter(s => s.gap !== true).length >= SEGMENTS
      }, 90_000, `the edge to list ${SEGMENTS} ${rendition} segments`, 500)
    }
    for (const rendition of ['source', '240p']) {
      const playlist = parseMediaPlaylist((await getText(`${http}/live/${stream.id}/${rendition}/index.m3u8`)).text)
      process.stdout.write(`[whip] ${rendition} segment lengths: ${playlist.segments.map(s => s.durationSec.toFixed(2)).join(', ')} s\n`)
      for (const s of playlist.segments.filter(s => s.gap !== true).slice(0, SEGMENTS)) {
        const body = await fetch(`${http}/live/${stream.id}/${rendition}/${s.uri}`, { signal: AbortSignal.timeout(15_000) })
        assert.equal(body.status, 200)
        const file = join(dir, `${rendition}-${s.seq}.ts`)
        await writeFile(file, Buffer.from(await body.arrayBuffer()))
        const probe = await probeMedia(file, { ffprobePath: ffmpeg.ffprobe, ffmpegPath: ffmpeg.ffmpeg, countFrames: true })
        assert.equal(probe.videoCodec, 'h264', `${rendition} ${s.seq} video`)
        assert.equal(probe.audioCodec, 'aac', `${rendition} ${s.seq} audio (Opus transcoded)`)
        assert.ok((probe.videoFrames ?? 0) > 0, `${rendition} ${s.seq} decodes`)
        assert.ok(probe.keyframeStart, `${rendition} ${s.seq} starts on a keyframe`)
        if (rendition === '240p') assert.equal(probe.height, 240)
        // Keyframes are asked for twice a segment: no segment is much longer than 1.5 of them.
        if (rendition === 'source') assert.ok(s.durationSec <= 3.5, `source ${s.seq} lasts ${s.durationSec} s`)
      }
    }
    assert.equal(metric((await getText(`${http}/metrics`)).text, 'diststream_whip_sessions'), 1)

    assert.equal(await unpublish(page, res.location!), 200, 'DELETE')
    await waitUntil(async () => {
      const s = await getJson(`${http}/api/streams/${stream.id}`)
      return s.body.state !== 'live'
    }, 20_000, 'the stream to stop being live after DELETE')
    assert.equal(metric((await getText(`${http}/metrics`)).text, 'diststream_whip_sessions'), 0)
    assert.equal((await fetch(res.location!, { method: 'DELETE' })).status, 404, 'the resource is gone')
  })

  it('a broadcaster that goes silent without a DELETE is ended by the media timeout', async () => {
    const stream = await createStream(http, 'whip-silent', cluster.apiToken)
    const res = await publish(page, `${http}/whip/${stream.key}`)
    assert.equal(res.status, 201, `WHIP POST: ${res.error}`)
    await waitUntil(async () => {
      const r = await getText(`${http}/live/${stream.id}/source/index.m3u8`)
      return r.status === 200 && parseMediaPlaylist(r.text).segments.length >= 1
    }, 60_000, 'a first source segment', 500)
    const closedAt = Date.now()
    await page.evaluate(() => { (globalThis as any).__pc.close() })
    await waitUntil(async () => (await getJson(`${http}/api/streams/${stream.id}`)).body.state !== 'live', WHIP_MEDIA_TIMEOUT_MS + 15_000, 'the silent publish to end', 500)
    const tookMs = Date.now() - closedAt
    process.stdout.write(`[whip] silent publish ended ${tookMs} ms after the browser closed (media timeout ${WHIP_MEDIA_TIMEOUT_MS} ms)\n`)
    assert.ok(tookMs >= WHIP_MEDIA_TIMEOUT_MS - 1000, `ended by the timeout, not before (${tookMs} ms)`)
    const m = (await getText(`${http}/metrics`)).text
    assert.equal(metric(m, 'diststream_whip_failures_total', 'stage="media_timeout"'), 1)
    assert.equal(metric(m, 'diststream_whip_sessions'), 0)
  })

  it('an answered offer that never connects frees its slot after the connect timeout, counted', async () => {
    const { key, id } = await createStream(http, 'whip-unconnected', cluster.apiToken)
    // The browser's offer, answered by the ingest, but the browser never takes the answer: ICE never completes.
    const r = await fetch(`${http}/whip/${key}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: await makeOffer(page), signal: AbortSignal.timeout(10_000) })
    assert.equal(r.status, 201)
    assert.equal(metric((await getText(`${http}/metrics`)).text, 'diststream_whip_sessions'), 1)
    await waitUntil(async () => metric((await getText(`${http}/metrics`)).text, 'diststream_whip_sessions') === 0, WHIP_CONNECT_TIMEOUT_MS + 10_000, 'the unconnected session to be dropped', 500)
    assert.equal(metric((await getText(`${http}/metrics`)).text, 'diststream_whip_failures_total', 'stage="connect_timeout"'), 1)
    assert.equal((await getJson(`${http}/api/streams/${id}`)).body.state, 'idle', 'a session that never connected never made the stream live')
  })
})
