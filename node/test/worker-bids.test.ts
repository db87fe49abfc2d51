import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { codecs, PROTOCOL_BID, PROTOCOL_TRANSCODE, STREAM_SALT_BYTES, StreamAnnounce, streamIdFor, TOPIC_JOBS, TOPIC_STREAMS, TranscodeResponse } from '@diststream/protocol'
import { createP2PNode, Gossip, messageChannel, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey } from '@diststream/store'
import { detectHwEncoder, ffmpegVersion, resolveFfmpeg, Transcoder } from '@diststream/media'
import { calibrationKey, makeCalibrationClip, Worker, writeCalibration } from '@diststream/worker'
import type { Calibration } from '@diststream/worker'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { Bid, JobAnnounce } from '@diststream/protocol'
import type { P2PNode } from '@diststream/p2p'

const SALT = new Uint8Array(STREAM_SALT_BYTES).fill(1)
/** The test stream's id: owned by this node (the ingest here), see streamIdFor. */
let s1 = ''

/** This node announces stream `s1` as its ingest: workers take jobs only from a stream's own ingest. */
async function announceStream (gossip: Gossip, streamId = s1): Promise<void> {
  await gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, {
    streamId, name: 'test', state: StreamAnnounce.State.LIVE, renditions: [], targetDurationMs: 2000, lastSeq: 0, ingestMultiaddrs: [], updatedAtMs: Date.now(), salt: SALT
  })
}

/**
 * A real worker on a real libp2p node, bidding to this test acting as the ingest (roles on one
 * node talk over the same protocols as across the network). The worker must stop bidding once
 * its running + promised jobs reach --max-jobs.
 */
describe('worker honours --max-jobs when bidding', () => {
  let dir = ''
  let libp2p: P2PNode
  let gossip: Gossip
  let protocols: Protocols
  const bids: Bid[] = []
  const logger = pino({ level: 'silent' })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'worker-bids-'))
    libp2p = await createP2PNode({ privateKey: await loadOrCreatePeerKey(dir), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    s1 = streamIdFor(libp2p.peerId.toString(), SALT)
    gossip = new Gossip(libp2p, logger)
    protocols = new Protocols(libp2p)
    await protocols.handle(PROTOCOL_BID, (stream) => {
      const ch = messageChannel({}, stream, 'bid')
      void (async () => {
        const bid = await ch.read(codecs.bid, { signal: AbortSignal.timeout(5000) })
        bids.push(bid)
        await ch.write(codecs.bidAck, { accepted: true, reason: '' })
        await ch.close()
      })().catch(err => { ch.abort(err) })
    })
  })
  after(async () => {
    await libp2p.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const job = (id: string): JobAnnounce => ({
    jobId: id,
    streamId: s1,
    seq: 0,
    durationMs: 2000,
    size: 1000,
    width: 1280,
    height: 720,
    videoCodec: 'h264',
    audioCodec: 'aac',
    fpsMilli: 30000,
    ladder: [{ name: '720p', width: 1280, height: 720, videoKbps: 2800 }, { name: '360p', width: 640, height: 360, videoKbps: 800 }],
    deadlineMs: Date.now() + 60_000,
    issuedAtMs: Date.now()
  })

  for (const maxJobs of [1, 3]) {
    it(`max-jobs ${maxJobs}: bids on ${maxJobs} of 6 jobs, with a growing estimate, then stops`, async () => {
      bids.length = 0
      const worker = new Worker({ gossip, protocols, ffmpegPath: resolveFfmpeg().ffmpeg, maxJobs, workDir: dir, logger, registry: new Registry(), price: 5, offerTtlMs: 600_000 })
      await worker.start()
      await announceStream(gossip)
      const seen: string[] = []
      const unsubscribe = gossip.subscribe(TOPIC_JOBS, codecs.jobAnnounce, (j) => { seen.push(j.jobId) })
      try {
        const ids = [1, 2, 3, 4, 5, 6].map(i => `m${maxJobs}j${i}`)
        for (const id of ids) await gossip.publish(TOPIC_JOBS, codecs.jobAnnounce, job(id))
        // The worker decides synchronously on delivery, before this test's handler runs; wait for
        // the last job to be delivered and the bids it decided to send to arrive.
        for (let i = 0; i < 200 && (seen.length < ids.length || bids.length < maxJobs); i++) await new Promise(resolve => setTimeout(resolve, 25))
        assert.equal(seen.length, ids.length)
        await new Promise(resolve => setTimeout(resolve, 300))
        assert.deepEqual(bids.map(b => b.jobId).sort(), ids.slice(0, maxJobs).sort())
        for (const b of bids) {
          assert.equal(b.maxJobs, maxJobs)
          assert.equal(b.price, 5)
          assert.equal(b.hwKind, 'cpu')
          assert.equal(b.gpu, false)
        }
        // each promised slot is queued work: later bids promise a later completion
        const estimates = ids.slice(0, maxJobs).map(id => bids.find(b => b.jobId === id)!.estimateMs)
        for (let i = 1; i < estimates.length; i++) assert.ok(estimates[i]! > estimates[i - 1]!, `${estimates.join(' < ')}`)
      } finally {
        unsubscribe()
        await worker.stop()
      }
    })
  }
})

/** The FAKE GPU ffmpeg of the media tests (a wrapper around the real ffmpeg; no GPU here). */
const FAKE_GPU_FFMPEG = fileURLToPath(new URL('../../../packages/media/test/fixtures/fake-gpu-ffmpeg.sh', import.meta.url))

describe('a worker whose GPU fails on a live job', () => {
  let dir = ''
  let libp2p: P2PNode
  const saved: Record<string, string | undefined> = {}
  const env: Record<string, string> = { FAKE_GPU_LISTED: 'h264_nvenc', FAKE_GPU_HWACCELS: 'cuda', FAKE_GPU_TEST_PASS: 'h264_nvenc' }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'worker-gpu-'))
    for (const [k, v] of Object.entries(env)) { saved[k] = process.env[k]; process.env[k] = v }
    libp2p = await createP2PNode({ privateKey: await loadOrCreatePeerKey(dir), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    s1 = streamIdFor(libp2p.peerId.toString(), SALT)
  })
  after(async () => {
    await libp2p.stop()
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v }
    await rm(dir, { recursive: true, force: true })
  })

  it('transcodes it on the CPU, warns once, bids as cpu from then on, and recalibrates on the CPU', async () => {
    const logger = pino({ level: process.env.DEBUG_WORKER_TEST ? 'debug' : 'silent' })
    const warnings: string[] = []
    const gossip = new Gossip(libp2p, logger)
    const protocols = new Protocols(libp2p)
    const detection = await detectHwEncoder(FAKE_GPU_FFMPEG)
    assert.equal(detection.selected?.encoder, 'h264_nvenc')
    const transcoder = new Transcoder({ ffmpegPath: FAKE_GPU_FFMPEG, hw: detection.selected, logger: { warn: (_o, msg) => warnings.push(msg) } })
    const ladder = [{ name: '240p', width: 426, height: 240, videoKbps: 400 }]
    const version = await ffmpegVersion(resolveFfmpeg().ffmpeg)
    // A calibration cached earlier for the GPU: the worker starts from it.
    const gpuKey = calibrationKey({ ffmpegVersion: version, encoder: 'h264_nvenc', preset: 'veryfast', ladder })
    const cached: Calibration = { key: gpuKey, ffmpegVersion: version, encoder: 'h264_nvenc', preset: 'veryfast', source: { width: 426, height: 240 }, ladder, runs: [], measuredAt: 0, fixedMs: 50, msPerMediaSec: 10, pixelsPerFrame: 130_000, fps: 30 }
    await writeCalibration(dir, cached)
    const worker = new Worker({ gossip, protocols, ffmpegPath: FAKE_GPU_FFMPEG, maxJobs: 2, cpuMaxJobs: 1, workDir: join(dir, 'work'), logger, registry: new Registry(), transcoder, calibrate: { dataDir: dir, ladder, ffmpegVersion: version } })
    await worker.start()
    try {
      await worker.calibrated()
      assert.equal(worker.calibration?.encoder, 'h264_nvenc', 'loaded from the cache')
      assert.deepEqual([worker.gpu, worker.hwKind, worker.maxJobs], [true, 'nvenc', 2])

      const clip = join(dir, 'seg.ts')
      await makeCalibrationClip(resolveFfmpeg().ffmpeg, clip, { width: 426, height: 240 }, 1)
      const segment = await readFile(clip)
      const job: JobAnnounce = {
        jobId: 'gpu-job',
        streamId: s1,
        seq: 0,
        durationMs: 1000,
        size: segment.byteLength,
        width: 426,
        height: 240,
        videoCodec: 'h264',
        audioCodec: 'aac',
        fpsMilli: 30000,
        ladder,
        deadlineMs: Date.now() + 60_000,
        issuedAtMs: Date.now()
      }
      const signal = AbortSignal.timeout(60_000)
      // As an ingest would: announce the stream and the job, take the worker's bid, then send the segment.
      const bid = new Promise<void>((resolve) => {
        void protocols.handle(PROTOCOL_BID, (stream) => {
          const bc = messageChannel({}, stream, 'bid')
          void (async () => {
            await bc.read(codecs.bid, { signal })
            await bc.write(codecs.bidAck, { accepted: true, reason: '' })
            await bc.close()
            resolve()
          })().catch(err => { bc.abort(err) })
        })
      })
      await announceStream(gossip)
      await gossip.publish(TOPIC_JOBS, codecs.jobAnnounce, job)
      await bid
      const ch = messageChannel({}, await protocols.dial(libp2p.peerId.toString(), PROTOCOL_TRANSCODE, { signal }), 'transcode')
      await ch.write(codecs.transcodeRequest, { job, segmentSize: segment.byteLength }, { signal })
      await ch.writeBytes(segment, { signal })
      const res = await ch.read(codecs.transcodeResponse, { signal })
      assert.equal(res.status, TranscodeResponse.Status.OK, res.error)
      assert.equal(res.encoder, 'libx264')
      const bytes = await ch.readBytes(res.renditions[0]!.size, { signal })
      assert.ok(bytes.byteLength > 0)
      await ch.close({ signal }).catch(() => { /* the worker may close first */ })

      assert.equal(warnings.length, 1)
      assert.match(warnings[0]!, /h264_nvenc failed at run time; using the CPU \(libx264\) for this and every later job/)
      assert.deepEqual([worker.gpu, worker.hwKind, worker.encoder, worker.maxJobs], [false, 'cpu', 'libx264', 1])
      await worker.calibrated()
      assert.equal(worker.calibration?.encoder, 'libx264', 'measured again on the CPU')
      assert.ok((worker.calibration?.runs.length ?? 0) > 0)
    } finally {
      await worker.stop()
    }
  })
})
