/**
 * Issue 12's hole in small: a job whose bidder then refuses it as busy must
 * go to the next worker with room at once, never out untranscoded. One
 * ingest, two real workers (`--max-jobs 1`, separate processes), one edge,
 * and a third "worker" in this process that announces room in presence,
 * bids on every job with a tempting estimate and answers every transcode
 * BUSY (a worker whose slot another ingest took between bid and dispatch).
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { codecs, PROTOCOL_BID, PROTOCOL_TRANSCODE, TOPIC_JOBS, TranscodeResponse } from '@diststream/protocol'
import { createP2PNode, Gossip, messageChannel, PresenceService, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey } from '@diststream/store'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream, metric } from './helpers/streams.js'
import { assertContiguous, checkSegments, settledPlaylist } from './helpers/playback.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { P2PNode } from '@diststream/p2p'

const PUBLISH_SECONDS = 24
const SEGMENT_SECONDS = 2
/** The decliner's bid: far below any real worker's, so it is drawn first whenever it is in an auction. */
const TEMPTING_ESTIMATE_MS = 50
/** How long the decliner's bid and refusal exchanges may take (ms). */
const EXCHANGE_MS = 5000

describe('a bidder that refuses as busy: the job goes to a worker with room', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let work = ''
  let decliner: P2PNode
  let presence: PresenceService | undefined
  const declined: string[] = []

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-busy-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '100']
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--spot-check-rate', '0', ...common])
    const boot = await ingest.bootstrapAddr()
    for (const name of ['worker-a', 'worker-b']) await cluster.start(name, ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])

    const logger = pino({ level: 'silent' })
    decliner = await createP2PNode({ privateKey: await loadOrCreatePeerKey(join(work, 'decliner')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [boot] })
    const gossip = new Gossip(decliner, logger)
    const protocols = new Protocols(decliner)
    presence = new PresenceService(decliner, gossip, () => ({
      roles: ['worker'], multiaddrs: [], httpUrl: '', activeJobs: 0, maxJobs: 1, gpu: false, hwKind: 'cpu', agent: 'test-decliner', startedAtMs: Date.now()
    }), logger)
    presence.start()
    gossip.subscribe(TOPIC_JOBS, codecs.jobAnnounce, (job, from) => {
      void (async () => {
        const ch = messageChannel({}, await protocols.dial(from, PROTOCOL_BID, { signal: AbortSignal.timeout(EXCHANGE_MS) }), 'bid')
        const signal = AbortSignal.timeout(EXCHANGE_MS)
        await ch.write(codecs.bid, { jobId: job.jobId, estimateMs: TEMPTING_ESTIMATE_MS, activeJobs: 0, maxJobs: 1, gpu: false, hwKind: 'cpu', price: 0 }, { signal })
        await ch.read(codecs.bidAck, { signal })
        await ch.close({ signal })
      })().catch(() => { /* the ingest may close a full auction's stream first: a lost bid is fine here */ })
    })
    await protocols.handle(PROTOCOL_TRANSCODE, (stream) => {
      const ch = messageChannel({}, stream, 'transcode')
      void (async () => {
        const signal = AbortSignal.timeout(EXCHANGE_MS)
        const req = await ch.read(codecs.transcodeRequest, { signal })
        declined.push(req.job?.jobId ?? '?')
        await ch.write(codecs.transcodeResponse, { status: TranscodeResponse.Status.BUSY, error: 'busy (test)', renditions: [], elapsedMs: 0, encoder: '' }, { signal })
        await ch.close({ signal })
      })().catch(err => { ch.abort(err) })
    })
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    presence?.stop()
    await decliner?.stop()
    await cluster.close(failed, work)
  })

  it('every segment is transcoded (no pass-through, no gap) though the most tempting bidder refuses every job', async (t) => {
    const { http } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.filter((p: any) => p.roles.includes('worker')).length === 3, 30_000, 'three workers in the ingest\'s presence')
    const created = await createStream(http, 'busy', cluster.apiToken)
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    assert.equal(await source.done, 0)

    const edgeHttp = (await edge.info).http
    const expected = PUBLISH_SECONDS / SEGMENT_SECONDS
    const list = await settledPlaylist(edgeHttp, created.id, '240p', expected, 120_000, 6000)
    assertContiguous(list.segments, '240p')
    await checkSegments({ edgeHttp, streamId: created.id, rendition: '240p', segments: list.segments, dir: work, ffmpeg, size: [426, 240] })

    const m = (await getText(`${http}/metrics`)).text
    const figures = {
      announced: metric(m, 'diststream_jobs_announced_total'),
      completed: metric(m, 'diststream_jobs_completed_total'),
      passthrough: metric(m, 'diststream_jobs_passthrough_total'),
      failed: metric(m, 'diststream_jobs_failed_total'),
      declined: declined.length
    }
    t.diagnostic(JSON.stringify(figures))
    assert.ok(figures.declined >= 3, `the decliner was dispatched to (and refused) at least 3 jobs: ${figures.declined}`)
    assert.equal(figures.passthrough, 0, 'no segment went out untranscoded')
    assert.equal(figures.failed, 0, 'no job failed on every bidder')
    assert.equal(figures.completed, figures.announced, 'every announced job completed')
  })
})
