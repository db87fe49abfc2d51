/**
 * A trickling ingest against a real worker process (security review H4). The
 * hostile peer is a real libp2p node in this test process: it announces its own
 * stream, puts a job on the market every 300 ms, accepts every bid, then opens
 * /transcode, sends a proper request for a 2 MiB segment and trickles it at a
 * few hundred bytes every 2 s, never finishing. An honest ingest (its own
 * process) publishes a live stream whose 240p rung only that worker can make.
 *
 * The worker must drop each trickle at its size-scaled receive deadline, count
 * it, keep the hostile ingest to its share of the slots while the honest one
 * wants them, and transcode the honest stream; its RSS stays bounded.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { createP2PNode, Gossip } from '@diststream/p2p'
import { codecs, MessageChannel, PROTOCOL_BID, PROTOCOL_TRANSCODE, StreamAnnounce, streamIdFor, TOPIC_JOBS, TOPIC_STREAMS } from '@diststream/protocol'
import { loadOrCreatePeerKey } from '@diststream/store'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { metric, protocolErrors, rssMiB } from './helpers/hostile.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { JobAnnounce } from '@diststream/protocol'
import type { P2PNode } from '@diststream/p2p'
import type { PeerId, Stream } from '@libp2p/interface'
import type { TestSource } from '@diststream/media'

/** What the trickler declares: 2 MiB gives the worker a receive deadline of 3 s + 4 s. */
const DECLARED_BYTES = 2 * 1024 * 1024
/** One trickle: a little data, under the worker's 5 s silence limit. */
const TRICKLE_BYTES = 256
const TRICKLE_EVERY_MS = 2000
/** The worker's resident memory must stay below this (it idles at ~120 MiB). */
const MAX_RSS_MIB = 400

describe('a trickling ingest cannot pin a worker (H4)', { timeout: 240_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let worker: NodeProcess
  let evil: P2PNode
  let gossip: Gossip
  let target: PeerId
  let source: TestSource | undefined
  let running = true
  const trickles = new Set<Stream>()
  let bids = 0
  let work = ''
  /** The hostile ingest's own stream: a real self-certifying id, so the worker binds it to the trickler. */
  const trickleSalt = new Uint8Array(16).fill(7)
  let trickleId = ''

  function evilJob (n: number): JobAnnounce {
    const now = Date.now()
    return {
      jobId: `trickle${n}`,
      streamId: trickleId,
      seq: n,
      durationMs: 2000,
      size: DECLARED_BYTES,
      width: 640,
      height: 360,
      videoCodec: 'h264',
      audioCodec: 'aac',
      fpsMilli: 30_000,
      ladder: [{ name: '240p', width: 426, height: 240, videoKbps: 400 }],
      deadlineMs: now + 60_000,
      issuedAtMs: now
    }
  }

  /** After each won bid: open /transcode, send the request, then trickle the segment until the worker gives up. */
  async function trickle (job: JobAnnounce): Promise<void> {
    const stream = await evil.dialProtocol(target, PROTOCOL_TRANSCODE, { signal: AbortSignal.timeout(10_000) })
    trickles.add(stream)
    const ch = new MessageChannel(stream)
    try {
      await ch.write(codecs.transcodeRequest, { job, segmentSize: DECLARED_BYTES })
      while (running && stream.status === 'open' && stream.writeStatus === 'writable') {
        await ch.writeBytes(new Uint8Array(TRICKLE_BYTES))
        await new Promise(resolve => setTimeout(resolve, TRICKLE_EVERY_MS))
      }
    } catch {
      // the worker reset the stream: what this test wants
    } finally {
      trickles.delete(stream)
      stream.abort(new Error('test: trickle over'))
    }
  }

  before(async () => {
    const common = ['--segment-seconds', '2', '--ladder', '240p', '--playlist-window', '60', '--spot-check-rate', '0']
    ingest = await cluster.start('ingest', ['--role', 'ingest,edge', ...common])
    const boot = await ingest.bootstrapAddr()
    worker = await cluster.start('worker', ['--role', 'worker', '--max-jobs', '2', '--no-calibrate', '--bootstrap', boot, ...common])
    target = peerIdFromString((await worker.info).peerId)

    work = await mkdtemp(join(tmpdir(), 'ds-trickle-'))
    evil = await createP2PNode({ privateKey: await loadOrCreatePeerKey(work), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    trickleId = streamIdFor(evil.peerId.toString(), trickleSalt)
    gossip = new Gossip(evil, pino({ level: 'silent' }))
    await evil.dial(multiaddr(await worker.bootstrapAddr()), { signal: AbortSignal.timeout(10_000) })
    await evil.handle(PROTOCOL_BID, (stream) => {
      void (async () => {
        const ch = new MessageChannel(stream)
        try {
          const bid = await ch.read(codecs.bid, { signal: AbortSignal.timeout(5000) })
          bids++
          await ch.write(codecs.bidAck, { accepted: true, reason: '' })
          await ch.close()
          const n = Number(bid.jobId.replace('trickle', ''))
          void trickle(evilJob(n))
        } catch (err: any) {
          ch.abort(err)
        }
      })()
    })
    await waitUntil(async () => [TOPIC_JOBS, TOPIC_STREAMS].every(t => evil.services.pubsub.getSubscribers(t).some(p => p.equals(target))), 20_000, 'the worker\'s subscriptions')
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    running = false
    for (const s of trickles) s.abort(new Error('test over'))
    await source?.stop()
    await evil?.stop()
    await cluster.close(failed, work)
  })

  it('the trickles are dropped and counted; the honest stream is transcoded by that worker', async (t) => {
    const workerHttp = (await worker.info).http
    // The hostile ingest's market: a stream announce every second, a job every 300 ms.
    let n = 0
    const market = setInterval(() => {
      void gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, { streamId: trickleId, salt: trickleSalt, name: 'trickle', state: StreamAnnounce.State.LIVE, renditions: [], targetDurationMs: 2000, lastSeq: n, ingestMultiaddrs: [], updatedAtMs: Date.now() }).catch(() => { /* no peer subscribed yet: the next second's announce */ })
      for (let i = 0; i < 3; i++) void gossip.publish(TOPIC_JOBS, codecs.jobAnnounce, evilJob(n++)).catch(() => { /* no peer subscribed yet: the next job */ })
    }, 1000)
    try {
      // First it pins every slot of the (otherwise idle) worker.
      await waitUntil(async () => metric((await getText(`${workerHttp}/metrics`)).text, /^diststream_worker_active_jobs (\d+)/m) === 2, 30_000, 'the trickler to hold both slots')
      const timeouts0 = (await protocolErrors(workerHttp)).timeout ?? 0

      // Then an honest broadcaster goes live on the honest ingest.
      const { http, rtmpPort } = await ingest.info
      const created = await createStream(http, 'honest', cluster.apiToken)
      source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: 2 })

      const workerId = (await worker.info).peerId
      let peakRss = 0
      const record = await waitUntil(async () => {
        peakRss = Math.max(peakRss, await rssMiB(worker.proc.pid!))
        const table = (await getJson(`${http}/api/workers`)).body as Array<{ peerId: string, totalOk: number }>
        const w = table.find(r => r.peerId === workerId)
        return w != null && w.totalOk >= 5 ? w : undefined
      }, 90_000, 'the worker to transcode 5 of the honest stream\'s segments', 1000)
      t.diagnostic(`worker record at the honest ingest: ${JSON.stringify(record)}; bids to the trickler: ${bids}; peak RSS ${peakRss.toFixed(0)} MiB`)

      // The edge lists transcoded 240p segments of the honest stream.
      const playlist = await getText(`${http}/live/${created.id}/240p/index.m3u8`)
      assert.equal(playlist.status, 200)
      const listed = playlist.text.split('\n').filter(l => /^\d+\.(ts|m4s)$/.test(l)).length
      assert.ok(listed >= 3, `240p segments listed at the edge: ${listed}\n${playlist.text}`)

      // The trickles were dropped at their receive deadline, and counted.
      const text = (await getText(`${workerHttp}/metrics`)).text
      assert.ok(metric(text, /^diststream_worker_jobs_refused_total\{why="stalled_transfer"\} (\d+)/m) >= 2, 'stalled transfers counted')
      assert.ok(((await protocolErrors(workerHttp)).timeout ?? 0) > timeouts0, 'counted as protocol timeouts')
      assert.ok(bids > 2, 'the trickler kept winning bids (it was kept to its share, not shut out)')
      assert.ok(peakRss < MAX_RSS_MIB, `worker RSS ${peakRss.toFixed(0)} MiB`)
    } finally {
      clearInterval(market)
    }
  })
})
