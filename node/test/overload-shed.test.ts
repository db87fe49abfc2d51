/**
 * Live means live (issue 13): the only worker is too slow for the whole
 * ladder (test/fixtures/fake-ffmpeg-slow.sh: a deterministic delay per
 * output pixel before the real ffmpeg), so without shedding every segment
 * would queue behind the last and the stream would fall further behind. The
 * ingest sheds the costliest rung instead: latency stays within two segment
 * durations of normal, `GET /api/streams/:id` lists the rung as shed, and the
 * source plays at the edge with no gap.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream, metric } from './helpers/streams.js'
import { assertContiguous, settledPlaylist } from './helpers/playback.js'
import type { NodeProcess } from './helpers/cluster.js'

const SLOW = fileURLToPath(new URL('../../test/fixtures/fake-ffmpeg-slow.sh', import.meta.url))
const PUBLISH_SECONDS = 40
const SEGMENT_SECONDS = 2
const SEGMENT_MS = SEGMENT_SECONDS * 1000
/**
 * 8 ms per thousand output pixels: 360p (230 kpx) sleeps 1.84 s and 240p
 * (102 kpx) 0.82 s, so the whole ladder takes over a segment duration (the
 * worker cannot keep up) and 240p alone well under it.
 */
const SLOW_MS_PER_KPIXEL = '8'

describe('a live stream on a worker too slow for its ladder sheds its top rung', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let work = ''

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-shed-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '360p,240p', '--playlist-window', '100']
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--spot-check-rate', '0', ...common])
    const boot = await ingest.bootstrapAddr()
    await cluster.start('slow-worker', ['--role', 'worker', '--max-jobs', '1', '--no-calibrate', '--bootstrap', boot, ...common], { FFMPEG_PATH: SLOW, REAL_FFMPEG: ffmpeg.ffmpeg, SLOW_MS_PER_KPIXEL })
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, work) })

  it('latency stays bounded, 360p is listed as shed, the source plays without a gap', async (t) => {
    const { http } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.some((p: any) => p.roles.includes('worker')), 30_000, 'the worker in the ingest\'s presence')
    const created = await createStream(http, 'shed', cluster.apiToken)
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    // While it plays, the API says which rungs are live.
    const shedSeen = await waitUntil(async () => {
      const s = (await getJson(`${http}/api/streams/${created.id}`)).body
      return s.rungs?.shed?.includes('360p') === true ? s.rungs : undefined
    }, PUBLISH_SECONDS * 1000, 'the API to list 360p as shed', 500)
    t.diagnostic(`rungs while overloaded: ${JSON.stringify(shedSeen)}`)
    assert.ok(shedSeen.live.includes('240p') || shedSeen.shed.includes('240p'), 'every rung is either live or shed')
    assert.equal(await source.done, 0)

    const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
    const list = await settledPlaylist((await edge.info).http, created.id, 'source', expected, 120_000, 6000)
    assertContiguous(list.segments, 'source')

    // Each job's time from creation (the segment cut) to its verified result: queueing included.
    const jobs = ((await getJson(`${http}/api/jobs?limit=500`)).body as Array<{ streamId: string, seq: number, state: string, durationMs: number | null }>)
      .filter(j => j.streamId === created.id && j.state === 'done' && j.durationMs != null)
      .sort((a, b) => a.seq - b.seq)
    t.diagnostic(`job ms by seq: ${jobs.map(j => `${j.seq}:${j.durationMs}`).join(' ')}`)
    assert.ok(jobs.length >= expected / 2, `most segments were transcoded (${jobs.length} of ${expected})`)
    const normal = Math.min(...jobs.map(j => j.durationMs!))
    // Once the shed took effect (the second half of the stream), no job is more than two durations behind normal.
    const late = jobs.filter(j => j.seq >= expected / 2 && j.durationMs! > normal + 2 * SEGMENT_MS)
    assert.deepEqual(late.map(j => `${j.seq}:${j.durationMs}`), [], `normal ${normal} ms; bound ${normal + 2 * SEGMENT_MS} ms`)
    const m = (await getText(`${http}/metrics`)).text
    assert.ok(metric(m, 'diststream_rungs_shed_total') > 0, 'shed rungs are counted')
    assert.equal(metric(m, 'diststream_jobs_passthrough_total'), 0, 'shedding, not passing through')
  })
})
