import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { codecs, PROTOCOL_BID, TOPIC_JOBS } from '@diststream/protocol'
import { createP2PNode, Gossip, messageChannel, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey } from '@diststream/store'
import { resolveFfmpeg } from '@diststream/media'
import { Worker } from '@diststream/worker'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { Bid, JobAnnounce } from '@diststream/protocol'
import type { P2PNode } from '@diststream/p2p'

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
    jobId: id, streamId: 's1', seq: 0, durationMs: 2000, size: 1000, width: 1280, height: 720, videoCodec: 'h264', audioCodec: 'aac', fpsMilli: 30000,
    ladder: [{ name: '720p', width: 1280, height: 720, videoKbps: 2800 }, { name: '360p', width: 640, height: 360, videoKbps: 800 }],
    deadlineMs: Date.now() + 60_000, issuedAtMs: Date.now()
  })

  for (const maxJobs of [1, 3]) {
    it(`max-jobs ${maxJobs}: bids on ${maxJobs} of 6 jobs, with a growing estimate, then stops`, async () => {
      bids.length = 0
      const worker = new Worker({ gossip, protocols, ffmpegPath: resolveFfmpeg().ffmpeg, maxJobs, workDir: dir, logger, registry: new Registry(), price: 5, offerTtlMs: 600_000 })
      await worker.start()
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
