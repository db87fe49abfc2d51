/**
 * Workers that lie, in separate processes, each with a FAKE ffmpeg
 * (test/fixtures/fake-ffmpeg-liar.sh) that spoils its transcodes: junk bytes,
 * the wrong resolution, a black picture (valid, so only a spot check catches
 * it), or no answer at all; plus one honest worker. The stream still plays in
 * full from the edge, and every liar's reputation ends below the honest one's.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import { assertContiguous, checkSegments, settledPlaylist } from './helpers/playback.js'
import type { NodeProcess } from './helpers/cluster.js'

const LIAR = fileURLToPath(new URL('../../test/fixtures/fake-ffmpeg-liar.sh', import.meta.url))
const PUBLISH_SECONDS = 30
const SEGMENT_SECONDS = 2
const MODES = ['junk', 'size', 'black', 'hang'] as const

describe('lying workers', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let honest: NodeProcess
  const liars = new Map<string, NodeProcess>()
  let work: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-liars-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '100']
    // Half the jobs are spot-checked on a second worker, so the black-picture liar gets caught.
    // Probation is off: it would catch the black picture before it is served (hostile-market.test.ts
    // tests that); here the sampled spot check of proven workers is under test.
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--spot-check-rate', '0.5', '--probation-jobs', '0', ...common])
    const boot = await ingest.bootstrapAddr()
    const worker = ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common]
    // The honest worker has room for the whole stream plus spot checks.
    honest = await cluster.start('honest', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', boot, ...common])
    await Promise.all(MODES.map(async mode => {
      liars.set(mode, await cluster.start(`liar-${mode}`, [...worker, '--no-calibrate'], { FFMPEG_PATH: LIAR, LIAR_MODE: mode, REAL_FFMPEG: ffmpeg.ffmpeg }))
    }))
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  // On a failure, show what the nodes logged: that is where the reason is.
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, work) })

  it('plays in full, and the liars lose reputation', async (t) => {
    const { http } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.filter((p: any) => p.roles.includes('worker')).length === 1 + MODES.length, 30_000, 'all workers')
    const created = await createStream(http, 'liars', cluster.apiToken)
    const streamId: string = created.id
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    assert.equal(await source.done, 0)

    const edgeHttp = (await edge.info).http
    const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
    const list = await settledPlaylist(edgeHttp, streamId, '240p', expected, 120_000, 8000)
    assertContiguous(list.segments, '240p')
    assert.ok(list.segments.length >= expected)
    const joins = await checkSegments({ edgeHttp, streamId, rendition: '240p', segments: list.segments, dir: work, ffmpeg, size: [426, 240] })
    assert.ok(joins.maxVideoGapMs <= 50 && joins.maxAudioGapMs <= 50, JSON.stringify(joins))

    // Wait for spot checks still running, then read the ingest's view of each worker.
    await new Promise(resolve => setTimeout(resolve, 5000))
    const table = (await getJson(`${http}/api/workers`)).body as Array<{ peerId: string, score: number, invalid: number, failures: number, late: number, totalOk: number, totalFailed: number }>
    const byId = new Map(table.map(w => [w.peerId, w]))
    const honestRec = byId.get((await honest.info).peerId)
    t.diagnostic(`honest: ${JSON.stringify(honestRec)}`)
    assert.ok(honestRec !== undefined && honestRec.totalOk > 0, 'the honest worker did jobs')
    for (const [mode, node] of liars) {
      const rec = byId.get((await node.info).peerId)
      t.diagnostic(`${mode}: ${JSON.stringify(rec)}`)
      assert.ok(rec !== undefined, `${mode} liar was tried`)
      // A hanging worker's attempt may end as a lost hedge race: that counts as late.
      assert.ok(rec.totalFailed > 0 || (mode === 'hang' && rec.late > 0), `${mode} liar has failures on record`)
      assert.ok(rec.score < honestRec.score, `${mode} liar scores ${rec.score.toFixed(2)}, below the honest ${honestRec.score.toFixed(2)}`)
      if (mode !== 'hang') assert.ok(rec.invalid > 0, `${mode} liar's output was caught as invalid`)
    }
    // The hanging worker's ffmpeg (a 600 s sleep) was killed when the ingest gave up on it (a hedge won,
    // or its deadline passed): the job ended as an error long before the sleep would have.
    const hangMetrics = (await getText(`${(await liars.get('hang')!.info).http}/metrics`)).text
    assert.match(hangMetrics, /^diststream_worker_jobs_total\{outcome="error"\} [1-9]/m, 'a hanging transcode was stopped when the ingest dropped it')
    const metrics = (await getText(`${http}/metrics`)).text
    // The black worker is caught whichever side of a spot check it is on: as the job's worker (first-bad) or as the checker (second-bad).
    assert.match(metrics, /^diststream_spot_checks_total\{verdict="(first|second)-bad"\} [1-9]/m, 'a spot check caught a worker whose output had passed verification')
  })
})
