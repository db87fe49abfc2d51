/**
 * Throwaway identities against the job market (security review H1), with real node processes:
 * an ingest, one honest worker and an edge, and a swarm of throwaway worker identities in the
 * test process (helpers/sybil.ts): real Workers on fresh keys that bid 0 ms on every job and
 * answer with valid renditions whose picture is a real transcode for 10 frames, then solid
 * magenta (the FAKE ffmpeg's `inject` mode; it passed the old 10-frame PSNR check). Each identity
 * announces itself as a free worker in presence (so the ingest waits for its bids and the honest
 * worker is not always elected to bid on a job's first announce), and is replaced by a fresh one
 * every few seconds, so there is always a never-tried bidder.
 *
 * The ingest must stay up; the stream must play in full at the edge with no gap; no served
 * segment may show the injected picture (checked per frame, and every job was completed by the
 * honest worker per the ingest's job ledger); the offence is counted
 * (`diststream_probation_checks_total{verdict="bad"}`), and the ingest's RSS stays bounded.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { metric, rssMiB } from './helpers/hostile.js'
import { createStream } from './helpers/streams.js'
import { assertContiguous, checkSegments, settledPlaylist } from './helpers/playback.js'
import { SybilSwarm } from './helpers/sybil.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { JobRecord } from '@diststream/scheduler'

const LIAR = fileURLToPath(new URL('../../test/fixtures/fake-ffmpeg-liar.sh', import.meta.url))
const PUBLISH_SECONDS = 40
const SEGMENT_SECONDS = 2
/** Throwaway identities alive at once: fewer than the ingest's 4 attempts per job, so each job still reaches the honest worker in the worst case. */
const SYBILS = 3
/** How long one identity lives: a few jobs, then a fresh never-tried id. */
const SYBIL_LIFETIME_MS = 10_000
/**
 * The honest worker leaves probation after this many verified jobs (the default is 20): the test
 * covers throwaway ids against an honest worker on probation, then against a proven one.
 */
const PROBATION_JOBS = 6
/** The ingest idles at ~150 MiB; the attack must not grow it much. */
const MAX_RSS_MIB = 450
/** A frame is the injected magenta when both chroma means are this far above grey (128): testsrc2 averages ~127/125. */
const MAGENTA_CHROMA = 180

const run = promisify(execFile)

/** Frames of `file` whose average chroma is magenta (per-frame signalstats). */
async function magentaFrames (ffmpegPath: string, file: string): Promise<number> {
  const { stderr } = await run(ffmpegPath, ['-hide_banner', '-nostdin', '-i', file, '-vf', 'signalstats,metadata=print:key=lavfi.signalstats.UAVG,metadata=print:key=lavfi.signalstats.VAVG', '-an', '-f', 'null', '-'], { maxBuffer: 16 << 20 })
  const u = [...stderr.matchAll(/UAVG=([\d.]+)/g)].map(m => Number(m[1]))
  const v = [...stderr.matchAll(/VAVG=([\d.]+)/g)].map(m => Number(m[1]))
  assert.ok(u.length > 0 && u.length === v.length, `signalstats of ${file}`)
  return u.filter((x, i) => x > MAGENTA_CHROMA && v[i]! > MAGENTA_CHROMA).length
}

describe('throwaway identities cannot take over the market (H1)', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let honest: NodeProcess
  let edge: NodeProcess
  let swarm: SybilSwarm | undefined
  let work = ''

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-sybil-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '100']
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--spot-check-rate', '0', '--probation-jobs', String(PROBATION_JOBS), ...common])
    const boot = await ingest.bootstrapAddr()
    honest = await cluster.start('honest', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', boot, ...common])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
    swarm = new SybilSwarm({ count: SYBILS, lifetimeMs: SYBIL_LIFETIME_MS, bootstrap: boot, fakeFfmpeg: LIAR, mode: 'inject', realFfmpeg: ffmpeg.ffmpeg, dir: join(work, 'sybils') })
    await swarm.start()
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    await swarm?.stop()
    await cluster.close(failed, work)
  })

  it('every served segment is the honest transcode; the stream plays in full; the offence is counted', async (t) => {
    const { http, rtmpPort } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.some((p: any) => p.roles.includes('worker')), 30_000, 'the honest worker')
    const created = await createStream(http, 'sybils', cluster.apiToken)
    const streamId: string = created.id
    let peakRss = 0
    const sampler = setInterval(() => { void rssMiB(ingest.proc.pid!).then(r => { peakRss = Math.max(peakRss, r) }, () => { /* the ingest exited: the assertions below say so */ }) }, 500)
    try {
      const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
      assert.equal(await source.done, 0)

      // The whole stream at the edge, no gap, every segment decodes and joins the next.
      const edgeHttp = (await edge.info).http
      const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
      const list = await settledPlaylist(edgeHttp, streamId, '240p', expected, 120_000, 6000)
      assertContiguous(list.segments, '240p')
      assert.ok(list.segments.length >= expected, `${list.segments.length} segments`)
      const { files, ...joins } = await checkSegments({ edgeHttp, streamId, rendition: '240p', segments: list.segments, dir: work, ffmpeg, size: [426, 240] })
      assert.ok(joins.maxVideoGapMs <= 50 && joins.maxAudioGapMs <= 50, JSON.stringify(joins))

      // No served frame shows the injected picture.
      for (const f of files) assert.equal(await magentaFrames(ffmpeg.ffmpeg, f), 0, `${f} carries the injected picture`)

      // The ingest's ledger: every job of the stream was completed by the honest worker, and throwaway ids did try.
      const honestId = (await honest.info).peerId
      const jobs = ((await getJson(`${http}/api/jobs?limit=500`)).body as JobRecord[]).filter(j => j.streamId === streamId)
      assert.ok(jobs.length >= expected, `${jobs.length} jobs`)
      const notHonest = jobs.filter(j => j.state !== 'done' || j.worker !== honestId)
      assert.deepEqual(notHonest.map(j => `${j.seq}: ${j.state} by ${j.worker}`), [], 'every job done by the honest worker')
      const sybilAttempts = jobs.flatMap(j => j.history).filter(a => swarm!.ids.has(a.worker))
      const refused = sybilAttempts.filter(a => a.outcome === 'invalid').length
      const sybilBids = jobs.flatMap(j => j.bidders).filter(b => swarm!.ids.has(b.peerId)).length
      t.diagnostic(`identities used: ${swarm!.ids.size}; their bids: ${sybilBids}, attempts: ${sybilAttempts.length} (invalid ${refused}); jobs: ${jobs.length}; peak ingest RSS ${peakRss.toFixed(0)} MiB`)
      assert.ok(refused >= 3, `throwaway ids' output refused as invalid: ${refused}`)
      assert.equal(sybilAttempts.filter(a => a.outcome === 'ok').length, 0, 'no throwaway id\'s result accepted')

      // Counted, and the ingest is up and bounded.
      const text = (await getText(`${http}/metrics`)).text
      assert.ok(metric(text, /^diststream_probation_checks_total\{verdict="bad"\} (\d+)/m) >= refused, 'probation refusals counted')
      assert.ok(metric(text, /^diststream_probation_checks_total\{verdict="pass"\} (\d+)/m) >= PROBATION_JOBS, 'the honest worker passed its probation checks')
      assert.equal(ingest.proc.exitCode, null, 'the ingest is up')
      assert.equal((await getText(`${http}/readyz`)).status, 200)
      assert.ok(peakRss < MAX_RSS_MIB, `ingest RSS ${peakRss.toFixed(0)} MiB`)
    } finally {
      clearInterval(sampler)
    }
  })
})
