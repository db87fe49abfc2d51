/**
 * Two broadcasters at once on one network (issue 12's 19-process hole, made
 * small): a bootstrap, two ingests publishing at the same time, four workers
 * with one slot each and an edge, in separate processes that know only the
 * bootstrap. The two ingests compete for the same workers, so a worker that
 * bid for one ingest's job is often busy with the other's when the job comes:
 * its refusal must send the job to the next free worker at once, not let the
 * segment go out untranscoded while others have room. Asserted: every
 * segment of both streams is transcoded (no job passed its source through or
 * failed on every bidder) and both play at the edge with no gap.
 */
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream, metric } from './helpers/streams.js'
import { assertContiguous, settledPlaylist } from './helpers/playback.js'
import type { NodeProcess } from './helpers/cluster.js'

const WORKERS = 4
const PUBLISH_SECONDS = 16
const SEGMENT_SECONDS = 2
const COMMON = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '60']

describe('two ingests publishing at once share four one-slot workers', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  const ingests: NodeProcess[] = []
  let edge: NodeProcess

  before(async () => {
    const boot = await cluster.start('bootstrap', ['--role', 'bootstrap'])
    const addr = await boot.bootstrapAddr()
    ingests.push(...await Promise.all(['ingest-a', 'ingest-b'].map(async name => await cluster.start(name, ['--role', 'ingest', '--bootstrap', addr, ...COMMON]))))
    for (let i = 0; i < WORKERS; i += 2) {
      await Promise.all([i, i + 1].map(async j => await cluster.start(`worker-${j}`, ['--role', 'worker', '--max-jobs', '1', '--bootstrap', addr, ...COMMON])))
    }
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', addr, ...COMMON])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed) })

  it('every segment of both streams is transcoded and plays at the edge with no gap', async (t) => {
    for (const ingest of ingests) {
      const { http } = await ingest.info
      await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.filter((p: any) => p.roles.includes('worker')).length === WORKERS, 40_000, `${ingest.name} to see every worker`)
    }
    const streams = await Promise.all(ingests.map(async (ingest, i) => {
      const info = await ingest.info
      const created = await createStream(info.http, `two-${i}`, cluster.apiToken)
      return { ingest, info, id: created.id as string, key: created.key as string }
    }))
    const sources = streams.map(s => startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${s.info.rtmpPort}/live/${s.key}`, width: 426, height: 240, fps: 15, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS }))
    for (const s of sources) assert.equal(await s.done, 0, 'the publisher ran to the end')

    const edgeHttp = (await edge.info).http
    const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
    for (const s of streams) {
      const list = await settledPlaylist(edgeHttp, s.id, '240p', expected - 1, 90_000, 6000)
      assertContiguous(list.segments, `${s.ingest.name} 240p`)
    }
    for (const s of streams) {
      const m = (await getText(`${s.info.http}/metrics`)).text
      const counts = {
        announced: metric(m, 'diststream_jobs_announced_total'),
        completed: metric(m, 'diststream_jobs_completed_total'),
        passthrough: metric(m, 'diststream_jobs_passthrough_total') || 0,
        failed: metric(m, 'diststream_jobs_failed_total') || 0,
        rebids: metric(m, 'diststream_jobs_rebid_total') || 0
      }
      t.diagnostic(`${s.ingest.name}: ${JSON.stringify(counts)}`)
      assert.ok(counts.announced >= expected - 1, `${s.ingest.name} announced ${counts.announced} jobs`)
      assert.equal(counts.passthrough, 0, `${s.ingest.name}: no segment went out untranscoded while workers had room`)
      assert.equal(counts.failed, 0, `${s.ingest.name}: no job failed on every bidder`)
      assert.equal(counts.completed, counts.announced, `${s.ingest.name}: every job came back transcoded`)
    }
  })
})
