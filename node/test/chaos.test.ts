/**
 * Chaos: one ingest, three workers and one edge in separate processes; a
 * 60 s live RTMP stream; a worker is SIGKILLed every ~15 s (one that is
 * transcoding, when there is one) and restarted with its data dir. From the
 * edge: no missing sequence numbers, no gaps, every segment decodes, joins
 * within 50 ms.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import { assertContiguous, checkSegments, settledPlaylist } from './helpers/playback.js'
import type { NodeProcess } from './helpers/cluster.js'

const PUBLISH_SECONDS = 60
const SEGMENT_SECONDS = 2
const KILL_EVERY_MS = 15_000

/** Transcodes a worker is running now, from its own /metrics (0 if it does not answer). */
async function activeJobs (http: string): Promise<number> {
  try {
    return Number(/^diststream_worker_active_jobs (\d+)/m.exec((await getText(`${http}/metrics`)).text)?.[1] ?? 0)
  } catch {
    return 0
  }
}

describe('chaos: workers SIGKILLed mid-stream', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  const workers: NodeProcess[] = []
  let work: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-chaos-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '100']
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--spot-check-rate', '0', ...common])
    const boot = await ingest.bootstrapAddr()
    workers.push(...await Promise.all(['a', 'b', 'c'].map(async n => await cluster.start(`worker-${n}`, ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common]))))
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  // On a failure, show what the nodes logged: that is where the reason is.
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, work) })

  it('plays in full from the edge while workers die', async (t) => {
    const { http } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.filter((p: any) => p.roles.includes('worker')).length === 3, 20_000, 'three workers')
    const created = await createStream(http, 'chaos', cluster.apiToken)
    const streamId: string = created.id
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    const edgeHttp = (await edge.info).http

    // The killer: every ~15 s, SIGKILL a worker that is running an attempt (else the next in turn) and restart it.
    let kills = 0
    let midJob = 0
    let publishing = true
    void source.done.then(() => { publishing = false })
    const killer = (async () => {
      const start = Date.now()
      const restarts: Array<Promise<void>> = []
      for (let turn = 1; ; turn++) {
        // On a fixed schedule (~every 15 s from the start), not 15 s after the last restart finished.
        await new Promise(resolve => setTimeout(resolve, Math.max(0, start + turn * KILL_EVERY_MS - Date.now())))
        if (!publishing) break
        // A worker that is transcoding right now (its own gauge), else the next in turn.
        const active = await Promise.all(workers.map(async w => await activeJobs((await w.info).http)))
        let i = active.findIndex(n => n > 0)
        const mid = i >= 0
        if (mid) midJob++
        else i = turn % workers.length
        kills++
        t.diagnostic(`kill ${kills}: ${workers[i]!.name}${mid ? ' (mid-job)' : ''}`)
        const victim = workers[i]!
        await victim.kill('SIGKILL')
        restarts.push(cluster.restart(victim).then(n => { workers[i] = n }))
      }
      await Promise.all(restarts)
    })()

    assert.equal(await source.done, 0, 'the publisher ran to the end')
    await killer
    assert.ok(kills >= 3, `kills: ${kills}`)

    const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
    const list = await settledPlaylist(edgeHttp, streamId, '240p', expected, 90_000, 6000)
    const seqs = assertContiguous(list.segments, '240p')
    assert.equal(seqs[0], 0)
    assert.ok(list.segments.length >= expected, `${list.segments.length} segments`)
    const { maxVideoGapMs, maxAudioGapMs } = await checkSegments({ edgeHttp, streamId, rendition: '240p', segments: list.segments, dir: work, ffmpeg, size: [426, 240] })
    t.diagnostic(`${list.segments.length} segments, ${kills} kills (${midJob} mid-job); joins: video ${maxVideoGapMs.toFixed(1)} ms, audio ${maxAudioGapMs.toFixed(1)} ms`)
    assert.ok(maxVideoGapMs <= 50 && maxAudioGapMs <= 50, `joins ${maxVideoGapMs}/${maxAudioGapMs} ms`)

    // The ingest recorded what happened: every job of the stream done (none passed through), attempts with reasons.
    const jobs = ((await getJson(`${http}/api/jobs?limit=500`)).body as Array<{ streamId: string, state: string, history: Array<{ outcome: string | null, reason: string | null }> }>).filter(j => j.streamId === streamId)
    assert.deepEqual(jobs.filter(j => j.state !== 'done').map(j => j.state), [])
    const failedAttempts = jobs.flatMap(j => j.history).filter(h => h.outcome !== 'ok' && h.outcome !== 'cancelled')
    t.diagnostic(`attempts that failed: ${failedAttempts.map(h => `${h.outcome} (${h.reason})`).join('; ')}`)
    if (midJob > 0) assert.ok(failedAttempts.length > 0, 'a worker killed mid-job shows as a failed attempt')
    assert.ok(failedAttempts.every(h => typeof h.reason === 'string' && h.reason.length > 0), 'each failed attempt has a reason')
  })
})
