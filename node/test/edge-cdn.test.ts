/**
 * CDN-grade delivery, with real processes: an ingest and an edge in their
 * own processes (so segments cross libp2p), a real RTMP publish (ffmpeg test
 * pattern, 320x180, 1 s segments, no worker: the source passes through), and
 * a local webhook receiver that checks signatures. Then the stream
 * lifecycle on a second node with short limits: ENDLIST at the end, a stale
 * stream ended, heartbeats keeping one alive, removal after the retention.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { verifyWebhook } from '@diststream/webhooks'
import { callApi, Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { Server } from 'node:http'

const SECRET = 'hook-secret'
const ffmpeg = resolveFfmpeg()

/** Sum of a metric's samples whose labels include `labels` (Prometheus text). */
function metric (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/)
    if (m == null || m[1] !== name) continue
    if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue
    sum = (sum ?? 0) + Number(m[3])
  }
  return sum
}

async function metrics (node: NodeProcess): Promise<string> {
  return (await getText(`${(await node.info).http}/metrics`)).text
}

interface Hook { body: string, event: string, delivery: string, valid: boolean, status: number }

describe('edge: CDN-grade HTTP, coalescing, metrics, webhooks', { timeout: 180_000 }, () => {
  const cluster = new Cluster()
  let ingest: NodeProcess
  let edge: NodeProcess
  let streamId: string
  let lastSeq: number
  let base: string
  const hooks: Hook[] = []
  let hookServer: Server
  let failed = false

  before(async () => {
    let first = true
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        // The first delivery fails, so a retry must follow.
        const status = first ? 500 : 204
        first = false
        hooks.push({ body, event: String(req.headers['x-diststream-event']), delivery: String(req.headers['x-diststream-delivery']), valid: verifyWebhook(SECRET, body, req.headers['x-diststream-signature'] as string | undefined), status })
        res.statusCode = status
        res.end()
      })
    })
    await new Promise<void>(resolve => hookServer.listen(0, '127.0.0.1', resolve))
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`
    // MPEG-TS CDN semantics (e2e-cmaf.test.ts checks the same for fMP4).
    const common = ['--segment-seconds', '1', '--ladder', '240p', '--playlist-window', '3', '--container', 'ts']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common, '--webhook', hookUrl, '--webhook-events', 'stream.started,stream.ended,segment.ready'], { DISTSTREAM_WEBHOOK_SECRET: SECRET })
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', await ingest.bootstrapAddr(), ...common])
    base = (await edge.info).http
  })

  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    if (failed) process.stderr.write(cluster.logs() + '\n')
    await cluster.stop()
    await new Promise(resolve => hookServer.close(resolve))
  })

  it('publishes a short stream; the ingest counts its ffmpeg children while it runs', async () => {
    const { http, rtmpPort } = await ingest.info
    const created = await createStream(http, 'cdn', cluster.apiToken)
    streamId = created.id
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 320, height: 180, fps: 25, gopSeconds: 1, durationSec: 10 })
    try {
      // The segmenter is an ffmpeg child of the ingest.
      await waitUntil(async () => (metric(await metrics(ingest), 'diststream_ffmpeg_processes') ?? 0) >= 1, 30_000, 'diststream_ffmpeg_processes ≥ 1 on the ingest')
      assert.equal(metric(await metrics(ingest), 'diststream_active_streams'), 1)
      assert.equal(await source.done, 0, source.stderrTail().join('\n'))
    } finally {
      await source.stop()
    }
    // The publisher left: the stream is over for players.
    const s = await waitUntil(async () => {
      const { body } = await getJson(`${http}/api/streams/${streamId}`)
      return body.state === 'idle' ? body : undefined
    }, 30_000, 'the stream to go idle after unpublish')
    assert.ok(s.lastSeq >= 7, `lastSeq ${s.lastSeq}`)
    lastSeq = s.lastSeq
    await waitUntil(async () => metric(await metrics(ingest), 'diststream_ffmpeg_processes') === 0, 30_000, 'no ffmpeg children left')
  })

  it('ended stream: the media playlist is the whole stream as VOD (not the 3-segment live window) with EXT-X-ENDLIST, long caching, the right type and CORS', async () => {
    assert.equal((await getText(`${base}/live/${streamId}/index.m3u8`)).status, 200)
    const res = await waitUntil(async () => {
      const r = await fetch(`${base}/live/${streamId}/source/index.m3u8`)
      const text = await r.text()
      return r.status === 200 && text.includes('#EXT-X-ENDLIST') ? { r, text } : undefined
    }, 30_000, 'EXT-X-ENDLIST in the edge playlist')
    assert.equal(res.r.headers.get('content-type'), 'application/vnd.apple.mpegurl')
    assert.equal(res.r.headers.get('cache-control'), 'public, max-age=3600')
    assert.equal(res.r.headers.get('access-control-allow-origin'), '*')
    const pl = parseMediaPlaylist(res.text)
    assert.ok(pl.ended)
    assert.deepEqual(pl.segments.map(x => x.seq), Array.from({ length: lastSeq + 1 }, (_, i) => i))
    assert.ok(pl.segments.every(x => x.gap !== true && x.uri === `${x.seq}.ts`))
  })

  it('N concurrent requests for an uncached segment cause one upstream fetch', async () => {
    // Seq 0 is older than the window the edge backfilled: not cached anywhere on the edge yet.
    const before = metric(await metrics(edge), 'diststream_edge_upstream_fetches_total') ?? 0
    const N = 24
    const bodies = await Promise.all(Array.from({ length: N }, async () => {
      const r = await fetch(`${base}/live/${streamId}/source/0.ts`)
      assert.equal(r.status, 200)
      return Buffer.from(await r.arrayBuffer())
    }))
    const afterCount = metric(await metrics(edge), 'diststream_edge_upstream_fetches_total') ?? 0
    assert.equal(afterCount - before, 1, `upstream fetches: ${before} → ${afterCount}`)
    assert.ok(bodies[0]!.byteLength > 1000)
    for (const b of bodies) assert.ok(b.equals(bodies[0]!))
    // Now hot: served from memory, no further fetch.
    const hitsBefore = metric(await metrics(edge), 'diststream_edge_cache_hits_total') ?? 0
    assert.equal((await fetch(`${base}/live/${streamId}/source/0.ts`)).status, 200)
    const m = await metrics(edge)
    assert.equal(metric(m, 'diststream_edge_upstream_fetches_total'), afterCount)
    assert.equal(metric(m, 'diststream_edge_cache_hits_total'), hitsBefore + 1)
  })

  it('segments: immutable caching, strong ETag → 304, Range → 206/416, HEAD, CORS, video/mp2t', async () => {
    const url = `${base}/live/${streamId}/source/1.ts`
    const full = await fetch(url)
    const body = Buffer.from(await full.arrayBuffer())
    assert.equal(full.status, 200)
    assert.equal(full.headers.get('content-type'), 'video/mp2t')
    assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    assert.equal(full.headers.get('accept-ranges'), 'bytes')
    const etag = full.headers.get('etag')
    assert.equal(etag, `"${createHash('sha256').update(body).digest('hex')}"`)
    assert.equal(full.headers.get('access-control-allow-origin'), '*')
    assert.match(full.headers.get('access-control-expose-headers') ?? '', /Content-Range/)
    assert.match(full.headers.get('access-control-expose-headers') ?? '', /ETag/)

    const cond = await fetch(url, { headers: { 'if-none-match': etag! } })
    assert.equal(cond.status, 304)
    assert.equal((await cond.arrayBuffer()).byteLength, 0)
    assert.equal(cond.headers.get('etag'), etag)
    assert.equal((await fetch(url, { headers: { 'if-none-match': '"nope"' } })).status, 200)

    const part = await fetch(url, { headers: { range: 'bytes=100-299' } })
    assert.equal(part.status, 206)
    assert.equal(part.headers.get('content-range'), `bytes 100-299/${body.byteLength}`)
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(body.subarray(100, 300)))
    const tail = await fetch(url, { headers: { range: 'bytes=-188' } })
    assert.equal(tail.status, 206)
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(body.byteLength - 188)))
    const bad = await fetch(url, { headers: { range: `bytes=${body.byteLength}-` } })
    assert.equal(bad.status, 416)
    assert.equal(bad.headers.get('content-range'), `bytes */${body.byteLength}`)

    const head = await fetch(url, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-length'), String(body.byteLength))
    assert.equal(head.headers.get('etag'), etag)
    assert.equal(head.headers.get('content-type'), 'video/mp2t')
    assert.equal((await head.arrayBuffer()).byteLength, 0)

    const pre = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://player.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' } })
    assert.equal(pre.status, 204)
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /HEAD/)
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Range/)

    const missing = await fetch(`${base}/live/${streamId}/source/999999.ts`)
    assert.equal(missing.status, 404)
    assert.equal(missing.headers.get('access-control-allow-origin'), '*')
  })

  it('metrics and /readyz', async () => {
    const m = await metrics(edge)
    assert.ok((metric(m, 'diststream_edge_requests_total', { type: 'segment', status: '200' }) ?? 0) >= 25)
    assert.ok((metric(m, 'diststream_edge_requests_total', { type: 'segment', status: '206' }) ?? 0) >= 2)
    assert.ok((metric(m, 'diststream_edge_requests_total', { type: 'segment', status: '304' }) ?? 0) >= 1)
    assert.ok((metric(m, 'diststream_edge_requests_total', { type: 'segment', status: '416' }) ?? 0) >= 1)
    assert.ok((metric(m, 'diststream_edge_requests_total', { type: 'playlist', status: '200' }) ?? 0) >= 1)
    assert.ok((metric(m, 'diststream_edge_bytes_sent_total') ?? 0) > 25 * 1000)
    assert.equal(metric(m, 'diststream_active_streams'), 0, 'the followed stream has ended')
    assert.equal(metric(m, 'diststream_ffmpeg_processes'), 0)
    assert.ok((metric(m, 'diststream_process_cpu_seconds_total') ?? 0) > 0)
    assert.ok((metric(m, 'diststream_process_resident_memory_bytes') ?? 0) > 10e6)
    const ready = await getJson(`${base}/readyz`)
    assert.equal(ready.status, 200)
    assert.deepEqual(ready.body, { ready: true, reasons: [] })
  })

  it('webhooks: stream.started, segment.ready, stream.ended, all signed, the failed delivery retried', async () => {
    await waitUntil(async () => hooks.some(h => h.event === 'stream.ended'), 30_000, 'stream.ended webhook')
    assert.ok(hooks.every(h => h.valid), 'every webhook signature verifies')
    const events = hooks.filter(h => h.status !== 500).map(h => JSON.parse(h.body))
    const started = events.find(e => e.type === 'stream.started')
    assert.equal(started?.data.streamId, streamId)
    const segs = events.filter(e => e.type === 'segment.ready').map(e => e.data.seq as number)
    assert.ok(segs.includes(0) && segs.includes(5), `segment.ready for seqs ${segs.join(',')}`)
    const ended = events.find(e => e.type === 'stream.ended')
    assert.equal(ended.data.reason, 'unpublished')
    assert.equal(ended.data.streamId, streamId)
    // The first delivery got a 500 and came again, same delivery id and body.
    const failedOnce = hooks.find(h => h.status === 500)!
    const retried = hooks.filter(h => h.delivery === failedOnce.delivery)
    assert.equal(retried.length, 2)
    assert.equal(retried[1]!.status, 204)
    assert.equal(retried[1]!.body, failedOnce.body)
  })
})

describe('stream lifecycle: stale streams ended, heartbeats, DVR retention then removal', { timeout: 180_000 }, () => {
  const cluster = new Cluster()
  let node: NodeProcess
  let http: string
  let failed = false

  before(async () => {
    node = await cluster.start('node', ['--role', 'ingest,edge', '--segment-seconds', '1', '--ladder', '240p', '--stale-stream-seconds', '4', '--dvr-retention-seconds', '10'])
    http = (await node.info).http
  })
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    if (failed) process.stderr.write(cluster.logs() + '\n')
    await cluster.stop()
  })

  const create = async (name: string): Promise<{ id: string, key: string }> => {
    return await createStream(http, name, cluster.apiToken)
  }
  const state = async (id: string): Promise<string> => {
    const r = await getJson(`${http}/api/streams/${id}`)
    return r.status === 404 ? 'gone' : r.body.state
  }

  it('a published stream ends (ENDLIST), stays as VOD, then is removed with its files; a stale one is ended; heartbeats keep one alive', async () => {
    const a = await create('published')
    const beating = await create('beating')
    const quiet = await create('quiet')
    let beat = true
    const beats = (async () => {
      while (beat) {
        const r = await callApi(`${http}/api/streams/${beating.id}/heartbeat`, 'POST', cluster.apiToken)
        assert.equal(r.status, 200)
        await new Promise(resolve => setTimeout(resolve, 400))
      }
    })()
    try {
      const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await node.info).rtmpPort}/live/${a.key}`, width: 320, height: 180, fps: 25, gopSeconds: 1, durationSec: 4 })
      try {
        // Follow it on the edge while it is live.
        await waitUntil(async () => (await getText(`${http}/live/${a.id}/source/index.m3u8`)).text.includes('#EXTINF'), 30_000, 'a live playlist')
        await source.done
      } finally {
        await source.stop()
      }
      const vod = await waitUntil(async () => {
        const r = await getText(`${http}/live/${a.id}/source/index.m3u8`)
        return r.text.includes('#EXT-X-ENDLIST') ? r.text : undefined
      }, 30_000, 'EXT-X-ENDLIST after the publisher left')
      const first = parseMediaPlaylist(vod).segments[0]!
      assert.equal((await fetch(`${http}/live/${a.id}/source/${first.uri}`)).status, 200, 'the VOD segments play')
      assert.ok(existsSync(join(node.dataDir, 'segments', a.id)))
      assert.ok(existsSync(join(node.dataDir, 'cache', a.id)))

      // The never-published stream without heartbeats goes stale and is ended.
      await waitUntil(async () => await state(quiet.id) === 'ended', 30_000, 'the quiet stream to be ended as stale')
      assert.notEqual(await state(beating.id), 'ended', 'heartbeats keep a stream alive')

      // Past the retention: gone from the ingest (record, index, files) and from the edge's cache.
      await waitUntil(async () => await state(a.id) === 'gone', 40_000, 'the ended stream to be removed after its retention')
      await waitUntil(async () => !existsSync(join(node.dataDir, 'segments', a.id)) && !existsSync(join(node.dataDir, 'cache', a.id)), 20_000, 'its files to be removed')
      assert.equal((await getText(`${http}/live/${a.id}/source/index.m3u8`)).status, 404)
      assert.notEqual(await state(beating.id), 'ended')
    } finally {
      beat = false
      await beats
    }
    // Without heartbeats it goes stale too; a heartbeat for an ended stream is refused.
    await waitUntil(async () => await state(beating.id) === 'ended', 30_000, 'the formerly beating stream to be ended')
    assert.equal((await callApi(`${http}/api/streams/${beating.id}/heartbeat`, 'POST', cluster.apiToken)).status, 409)
    assert.equal((await callApi(`${http}/api/streams/nosuchstream/heartbeat`, 'POST', cluster.apiToken)).status, 404)
  })
})
