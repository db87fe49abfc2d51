/**
 * The live path end to end, in separate processes on loopback: one ingest,
 * two workers and one edge, connected only through --bootstrap; a real RTMP
 * publish (ffmpeg test pattern with audio, 20 s); everything asserted from
 * the edge's URLs (plus the ingest's /api/jobs and /metrics).
 */
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { measureJoins, probeMedia, resolveFfmpeg, startTestSource } from '@diststream/media'
import { callApi, Cluster, getJson, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

const PUBLISH_SECONDS = 20
const SEGMENT_SECONDS = 2
const RUNGS: Record<string, [number, number]> = { '360p': [640, 360], '240p': [426, 240] }

describe('live path: RTMP in → jobs → bids → libp2p transcode → edge HLS out', { timeout: 240_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let workers: NodeProcess[]
  let streamId: string
  let work: string
  const segments = new Map<string, Array<{ seq: number, uri: string, durationSec: number, pdtMs?: number }>>()

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-e2e-'))
    // This suite inspects MPEG-TS bytes (joins, continuity); e2e-cmaf.test.ts covers fMP4.
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '360p,240p', '--playlist-window', '60', '--container', 'ts']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common])
    const boot = await ingest.bootstrapAddr()
    workers = await Promise.all([
      cluster.start('worker-a', ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common]),
      cluster.start('worker-b', ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])
    ])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  // On any failure, show what the nodes logged: that is where the reason is.
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

  after(async () => { await cluster.close(failed, work) })

  it('publishes over RTMP and plays every rendition from the edge, seamlessly', async (t) => {
    const { http } = await ingest.info
    // The ingest learns every other node's roles through presence gossip.
    await waitForRoles(http, { worker: 2, edge: 1 })

    const created = await createStream(http, 'e2e', cluster.apiToken)
    streamId = created.id
    assert.match(created.rtmpUrl, /^rtmp:\/\/.+\/live\/[0-9a-f]{32}$/)
    const rtmpUrl = `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`

    // An unknown key is refused at publish time.
    const intruder = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/not-a-key`, width: 320, height: 180, durationSec: 3 })
    assert.notEqual(await intruder.done, 0, 'a publish with an unknown key must fail')

    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: rtmpUrl, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    const edgeHttp = (await edge.info).http
    // A viewer asks the edge for a stream it has never heard of: it finds it on the network.
    const master = await waitUntil(async () => {
      const r = await getText(`${edgeHttp}/live/${streamId}/index.m3u8`)
      return r.status === 200 ? r.text : undefined
    }, 30_000, 'the edge to serve the master playlist', 500)
    const variants = parseMasterPlaylist(master).variants
    const names = variants.map(v => v.uri.split('/')[0])
    for (const rung of Object.keys(RUNGS)) assert.ok(names.includes(rung), `master lists ${rung}: ${names.join(',')}`)
    for (const v of variants) {
      assert.ok(v.bandwidth > 0, 'BANDWIDTH')
      assert.match(v.codecs, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, 'CODECS')
    }
    assert.equal(await source.done, 0, 'the publisher ran to the end')

    // All segments arrive at the edge: the count settles once the segmenter sees the end.
    const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
    for (const rung of Object.keys(RUNGS)) {
      let last = -1
      let stableSince = Date.now()
      const list = await waitUntil(async () => {
        const r = await getText(`${edgeHttp}/live/${streamId}/${rung}/index.m3u8`)
        if (r.status !== 200) return undefined
        const p = parseMediaPlaylist(r.text)
        if (p.segments.length !== last) { last = p.segments.length; stableSince = Date.now() }
        return p.segments.length >= expected && Date.now() - stableSince > 4000 ? p : undefined
      }, 45_000, `${rung} playlist to hold all ${expected} segments`, 500)
      assert.ok(list.segments.length >= expected && list.segments.length <= expected + 1, `${rung}: ${list.segments.length} segments`)
      assert.equal(list.mediaSequence, 0)
      list.segments.forEach((s, i) => {
        assert.equal(s.seq, i, 'contiguous sequence numbers')
        assert.ok(s.pdtMs != null && s.pdtMs > 0, 'EXT-X-PROGRAM-DATE-TIME on every segment')
        assert.ok(!s.gap, `segment ${s.seq} of ${rung} is not a gap`)
      })
      segments.set(rung, list.segments)
    }
    t.diagnostic(`segments per rendition: ${[...segments].map(([k, v]) => `${k}=${v.length}`).join(' ')}`)

    // Every segment decodes at the rung's resolution, and consecutive segments join seamlessly.
    for (const [rung, list] of segments) {
      const files: string[] = []
      for (const s of list) {
        const res = await fetch(`${edgeHttp}/live/${streamId}/${rung}/${s.uri}`)
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('content-type'), 'video/mp2t')
        const file = join(work, `${rung}-${s.seq}.ts`)
        await writeFile(file, Buffer.from(await res.arrayBuffer()))
        files.push(file)
        const probe = await probeMedia(file, { ffprobePath: ffmpeg.ffprobe, countFrames: true })
        assert.deepEqual([probe.width, probe.height], RUNGS[rung], `${rung} segment ${s.seq} resolution`)
        assert.ok((probe.videoFrames ?? 0) > 0, `${rung} segment ${s.seq} decodes`)
        assert.ok(Math.abs(probe.durationSec - s.durationSec) < 0.3 || s.seq === list.length - 1, `${rung} segment ${s.seq} duration ${probe.durationSec} vs EXTINF ${s.durationSec}`)
      }
      const joins = await measureJoins(files, { ffprobePath: ffmpeg.ffprobe })
      t.diagnostic(`${rung}: max video gap ${joins.maxVideoGapMs.toFixed(1)} ms, max audio gap ${joins.maxAudioGapMs.toFixed(1)} ms over ${files.length - 1} joins`)
      assert.ok(Math.abs(joins.maxVideoGapMs) <= 50, `${rung} video joins: ${JSON.stringify(joins.video)}`)
      assert.ok(Math.abs(joins.maxAudioGapMs) <= 50, `${rung} audio joins: ${JSON.stringify(joins.audio)}`)
    }

    // Both workers did jobs, and the ingest's metrics count them.
    const jobs = (await getJson(`${http}/api/jobs?limit=500`)).body as Array<{ state: string, worker: string, streamId: string }>
    const done = jobs.filter(j => j.streamId === streamId && j.state === 'done')
    const workerIds = await Promise.all(workers.map(async w => (await w.info).peerId))
    for (const id of workerIds) assert.ok(done.some(j => j.worker === id), `worker ${id} did jobs (${done.map(j => j.worker).join(',')})`)
    const metrics = (await getText(`${http}/metrics`)).text
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN)
    assert.ok(value('diststream_jobs_announced_total') >= expected, 'announced counted')
    assert.ok(value('diststream_jobs_completed_total') >= expected, 'completed counted')
    assert.match(metrics, /^diststream_segment_latency_seconds_count \d+/m)
    assert.match(metrics, /^diststream_peers \d+/m)
  })

  it('answers unknown streams and bad paths with JSON errors', async () => {
    const edgeHttp = (await edge.info).http
    const r = await getJson(`${edgeHttp}/live/nosuchstream/index.m3u8`)
    assert.equal(r.status, 404)
    assert.equal(typeof r.body.error, 'string')
    assert.equal((await getJson(`${edgeHttp}/live/${streamId}/..%2F..%2Fetc/index.m3u8`)).status, 400)
    assert.equal((await getJson(`${edgeHttp}/live/${streamId}/360p/999999.ts`)).status, 404)
    const { http } = await ingest.info
    assert.equal((await getJson(`${http}/api/streams/nosuchstream`)).status, 404)
    assert.equal((await getJson(`${http}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.apiToken}` }, body: '{"name": 5}' })).status, 400)
  })

  it('ends the playlist when the stream is deleted', async () => {
    const { http } = await ingest.info
    const del = await callApi(`${http}/api/streams/${streamId}`, 'DELETE', cluster.apiToken)
    assert.equal(del.status, 200)
    assert.equal(del.body.state, 'ended')
    const edgeHttp = (await edge.info).http
    await waitUntil(async () => parseMediaPlaylist((await getText(`${edgeHttp}/live/${streamId}/360p/index.m3u8`)).text).ended, 10_000, 'EXT-X-ENDLIST at the edge')
  })
})
