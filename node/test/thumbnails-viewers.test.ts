/**
 * Thumbnails and network-wide viewer counts (issue 16), with real processes:
 * an ingest, and edges B and C each in its own process; a real RTMP publish
 * (640x360 test pattern, 1 s segments, no worker: the source passes through,
 * CMAF). Each edge's thumbnail is a 320 px JPEG (ffprobe), cached (ETag,
 * 304), 404 for an unknown stream. Real players (ffmpeg's HLS and DASH
 * readers, each with its own user agent): two on B, one on C; the ingest
 * and B answer 3 viewers in `GET /api/streams/:id`, each edge exports its
 * own in `diststream_viewers{stream}`, and the figure drops to 0 once they
 * stop (the edges run with a 4 s viewer window instead of 30 s). Then a VOD
 * from a file: its poster. Last, a lying peer claims 4 billion viewers: the
 * ingest counts MAX_VIEWERS_PER_CLAIM for it, and nothing once it withdraws.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { createP2PNode, Gossip } from '@diststream/p2p'
import { codecs, MAX_VIEWERS_PER_CLAIM, TOPIC_VIEWERS } from '@diststream/protocol'
import { loadOrCreatePeerKey } from '@diststream/store'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { callApi, Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { launchBrowser } from './helpers/hlsjs.js'
import { createStream, metric } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { TestSource } from '@diststream/media'
import type { ChildProcess } from 'node:child_process'

const ffmpeg = resolveFfmpeg()
const run = promisify(execFile)
/** The edges' viewer window (--viewer-window-seconds): short, so the drop is seen in seconds. */
const WINDOW_S = 4

/** ffprobe's codec and size of a JPEG. */
async function probeJpeg (dir: string, name: string, jpeg: Uint8Array): Promise<{ codec: string, width: number, height: number }> {
  const file = join(dir, name)
  await writeFile(file, jpeg)
  const { stdout } = await run(ffmpeg.ffprobe ?? 'ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file])
  const s = JSON.parse(stdout).streams[0]
  return { codec: s.codec_name, width: s.width, height: s.height }
}

/** The thumbnail once the edge has a picture: before that only 503 + Retry-After is allowed. */
async function thumbnail (base: string, id: string): Promise<Response & { bytes: Uint8Array }> {
  return await waitUntil(async () => {
    const r = await fetch(`${base}/live/${id}/thumbnail.jpg`)
    const bytes = new Uint8Array(await r.arrayBuffer())
    if (r.status === 503) {
      assert.ok(r.headers.get('retry-after') != null, '503 carries Retry-After')
      return undefined
    }
    assert.equal(r.status, 200, new TextDecoder().decode(bytes))
    return Object.assign(r, { bytes })
  }, 30_000, `a thumbnail from ${base}`)
}

/** A real player: ffmpeg reading the stream (HLS or DASH) as it goes, sending `agent` as its User-Agent. */
function player (url: string, agent: string): ChildProcess {
  return spawn(ffmpeg.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-user_agent', agent, '-i', url, '-map', '0', '-c', 'copy', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] })
}

async function stopPlayer (p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return
  const closed = new Promise(resolve => p.once('close', resolve))
  p.kill('SIGKILL')
  await closed
}

describe('thumbnails and network-wide viewer counts', { timeout: 240_000 }, () => {
  const cluster = new Cluster()
  let ingest: NodeProcess
  let b: string
  let c: string
  let ingestHttp: string
  let streamId: string
  let source: TestSource | undefined
  const players: ChildProcess[] = []
  let work: string
  let failed = false

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-thumbs-'))
    const common = ['--segment-seconds', '1', '--ladder', '240p', '--playlist-window', '4']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common, '--allow-file-source', work])
    ingestHttp = (await ingest.info).http
    const boot = await ingest.bootstrapAddr()
    const edges = await Promise.all(['b', 'c'].map(async name => await cluster.start(name, ['--role', 'edge', '--bootstrap', boot, ...common, '--viewer-window-seconds', String(WINDOW_S)])))
    b = (await edges[0]!.info).http
    c = (await edges[1]!.info).http
    const created = await createStream(ingestHttp, 'thumbs', cluster.apiToken)
    streamId = created.id
    source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 25, gopSeconds: 1, durationSec: 120 })
    await waitUntil(async () => (await getJson(`${ingestHttp}/api/streams/${streamId}`)).body.lastSeq >= 1, 30_000, 'the first segments at the ingest')
  })

  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    for (const p of players) await stopPlayer(p)
    await source?.stop()
    await cluster.close(failed, work)
  })

  it('each edge answers a 320 px JPEG of the stream, cached (ETag, 304, max-age), and 404 for an unknown stream', async () => {
    for (const base of [b, c]) {
      const r = await thumbnail(base, streamId)
      assert.equal(r.headers.get('content-type'), 'image/jpeg')
      assert.equal(r.headers.get('cache-control'), 'public, max-age=5')
      assert.equal(r.headers.get('access-control-allow-origin'), '*')
      const etag = r.headers.get('etag')
      assert.match(etag ?? '', /^"[0-9a-f]{32}"$/)
      assert.ok(r.bytes.byteLength > 1000 && r.bytes.byteLength < 64 * 1024, `${r.bytes.byteLength} bytes`)
      assert.deepEqual(await probeJpeg(work, 'thumb.jpg', r.bytes), { codec: 'mjpeg', width: 320, height: 180 })
      // Within max-age the same picture comes back, and a revalidation is a 304 without a body.
      const again = await fetch(`${base}/live/${streamId}/thumbnail.jpg`, { headers: { 'if-none-match': etag! } })
      assert.equal(again.status, 304)
      assert.equal((await again.arrayBuffer()).byteLength, 0)
      assert.equal(again.headers.get('etag'), etag)
    }
    const unknown = await fetch(`${b}/live/nosuchstream0000000000/thumbnail.jpg`)
    assert.equal(unknown.status, 404)
    assert.equal((await fetch(`${b}/live/bad..id/thumbnail.jpg`)).status, 400)
    // A thumbnail fetch is no viewer.
    assert.equal((await getJson(`${ingestHttp}/api/streams/${streamId}`)).body.viewers, 0)
  })

  it('two players on B (HLS) and one on C (DASH): 3 viewers at the ingest and on B, each edge exports its own, 0 once they stop', async () => {
    players.push(player(`${b}/live/${streamId}/index.m3u8`, 'player-b1'))
    players.push(player(`${b}/live/${streamId}/index.m3u8`, 'player-b2'))
    players.push(player(`${c}/live/${streamId}/manifest.mpd`, 'player-c1'))
    await waitUntil(async () => (await getJson(`${ingestHttp}/api/streams/${streamId}`)).body.viewers === 3, 30_000, '3 viewers at the ingest')
    await waitUntil(async () => (await getJson(`${b}/api/streams/${streamId}`)).body.viewers === 3, 15_000, '3 viewers on edge B')
    assert.equal(metric((await getText(`${b}/metrics`)).text, 'diststream_viewers', `stream="${streamId}"`), 2)
    assert.equal(metric((await getText(`${c}/metrics`)).text, 'diststream_viewers', `stream="${streamId}"`), 1)
    for (const p of players) assert.equal(p.exitCode, null, 'players are still playing')
    const dash = await getJson(`${ingestHttp}/api/dashboard`)
    assert.equal(dash.body.streams.find((s: any) => s.id === streamId)?.networkViewers, 3)
    // Edge B's dashboard (real Chromium): the stream with its thumbnail and the network's figure.
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage()
      await page.goto(`${b}/streams`)
      await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('[data-testid=network-viewers]')].some((td: any) => td.textContent === '3'), undefined, { timeout: 15_000 })
      await page.waitForFunction(() => ((globalThis as any).document.querySelector('img[data-testid=thumbnail]')?.naturalWidth ?? 0) === 320, undefined, { timeout: 15_000 })
    } finally {
      await browser.close()
    }
    for (const p of players.splice(0)) await stopPlayer(p)
    await waitUntil(async () => (await getJson(`${ingestHttp}/api/streams/${streamId}`)).body.viewers === 0, WINDOW_S * 1000 + 15_000, 'the count to drop to 0 at the ingest')
    assert.equal((await getJson(`${c}/api/streams/${streamId}`)).body.viewers, 0)
  })

  it('a lying peer\'s claim counts for at most MAX_VIEWERS_PER_CLAIM, and goes when it withdraws it', async () => {
    const evil = await createP2PNode({ privateKey: await loadOrCreatePeerKey(join(work, 'evil')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    try {
      const gossip = new Gossip(evil, pino({ level: 'silent' }))
      gossip.subscribe(TOPIC_VIEWERS, codecs.viewerCounts, () => {})
      await evil.dial(multiaddr(await ingest.bootstrapAddr()), { signal: AbortSignal.timeout(10_000) })
      const ingestId = (await ingest.info).peerId
      await waitUntil(async () => evil.services.pubsub.getSubscribers(TOPIC_VIEWERS).some(p => p.toString() === ingestId), 20_000, 'the ingest subscribed to viewer counts')
      const viewers = async (): Promise<number> => (await getJson(`${ingestHttp}/api/streams/${streamId}`)).body.viewers
      assert.equal(await viewers(), 0)
      // Sent until it arrives (the mesh may take a heartbeat); each message replaces the last, so repeats change nothing.
      await waitUntil(async () => {
        await gossip.publish(TOPIC_VIEWERS, codecs.viewerCounts, { streams: [{ streamId, viewers: 4_000_000_000 }], sentAtMs: Date.now() }).catch(() => 0)
        return await viewers() > 0
      }, 20_000, 'the lie to arrive', 1000)
      assert.equal(await viewers(), MAX_VIEWERS_PER_CLAIM)
      assert.ok(metric((await getText(`${ingestHttp}/metrics`)).text, 'diststream_viewer_claims_total', 'outcome="capped"') >= 1)
      await gossip.publish(TOPIC_VIEWERS, codecs.viewerCounts, { streams: [], sentAtMs: Date.now() })
      await waitUntil(async () => await viewers() === 0, 10_000, 'the withdrawn claim to go')
    } finally {
      await evil.stop()
    }
  })

  it('a VOD gets a poster (long cache)', async () => {
    await source?.stop()
    const clip = join(work, 'clip.mp4')
    await run(ffmpeg.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip])
    const created = await callApi(`${ingestHttp}/api/streams`, 'POST', cluster.apiToken, { name: 'poster', source_url: clip, vod: true })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const id: string = created.body.id
    await waitUntil(async () => {
      const s = (await getJson(`${ingestHttp}/api/streams/${id}`)).body
      if (s.state === 'failed') throw new Error(`VOD failed: ${s.error}`)
      return s.state === 'ready'
    }, 60_000, 'the VOD to be ready', 500)
    const r = await thumbnail(b, id)
    assert.equal(r.headers.get('cache-control'), 'public, max-age=300')
    assert.deepEqual(await probeJpeg(work, 'poster.jpg', r.bytes), { codec: 'mjpeg', width: 320, height: 180 })
  })
  after(async () => { await rm(work, { recursive: true, force: true }) })
})
