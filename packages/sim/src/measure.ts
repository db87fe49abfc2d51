/**
 * Measures the per-hop costs the model takes as inputs, with real libp2p nodes
 * built by `createP2PNode` (TCP + Noise + Yamux, gossipsub with StrictSign and
 * floodPublish, exactly as `diststream-node` runs), on loopback, in this one
 * process. `node packages/sim/dist/src/cli.js measure` prints the figures; the
 * defaults in `inputs.ts` are one such run, recorded there and in docs/scale.md.
 *
 * Topology: A (publishes, like an ingest; not subscribed) — B — C (both
 * subscribed). A is not connected to C, so A → C is two hops through B's mesh.
 *
 *  - gossip hop: A publishes a real encoded JobAnnounce; time from publish()
 *    to the message event at B (1 hop: A's flood publish) and at C (2 hops:
 *    B validates and forwards over its mesh). One message at a time.
 *  - bid round trip: B opens a stream on A's bid protocol over the existing
 *    connection, writes a real Bid with the MessageChannel, A decodes it and
 *    answers a BidAck. Timed: open + Bid decoded at A ("bid arrival": what the
 *    auction sees), and open → BidAck read at B.
 *    Again with `negotiateFully: false` (protocol id sent with the Bid, no
 *    select round trip before it).
 *  - new connection: B hangs up on A, then dials the bid protocol again
 *    (TCP connect + Noise XX + Yamux + protocol select + bid).
 *  - CPU: process.cpuUsage() (user + system) across a burst of gossip messages
 *    A → B → C, divided by the transmissions (2 per message): encoding,
 *    signing, Noise, Yamux, protobuf, signature check, dedupe and forwarding on
 *    both ends, i.e. what one gossip transmission costs the two peers together.
 *    The same for bid round trips (both ends), and ed25519 verify alone.
 *
 * Loopback latencies include this machine's event loop under whatever else runs
 * on its 2 cores; the model adds WAN latency on top of them.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { loadavg } from 'node:os'
import { codecs, MessageChannel } from '@diststream/protocol'
import { createP2PNode } from '@diststream/p2p'
import type { P2PNode } from '@diststream/p2p'
import type { JobAnnounce, Presence, Bid } from '@diststream/protocol'

const TOPIC = '/diststream-measure/jobs/1.0.0'
const BID = '/diststream-measure/bid/1.0.0'

export interface Summary { n: number, p50: number, p95: number, mean: number }

export interface Measured {
  at: string
  loadavg: number[]
  gossipHop1Ms: Summary
  gossipHop2Ms: Summary
  /** C's arrival minus B's: the forwarding hop alone. */
  gossipForwardMs: Summary
  bidArrivalMs: Summary
  bidRoundTripMs: Summary
  /** Bid arrival with `negotiateFully: false`: the protocol id goes with the Bid. */
  bidArrivalOptimisticMs: Summary
  newConnBidMs: Summary
  /** New-connection dials that failed (e.g. ECONNRESET while the old one closes); left out of newConnBidMs. */
  newConnFailures: number
  cpuPerGossipTransmissionMs: number
  cpuPerBidRoundTripMs: number
  ed25519VerifyMs: number
  bytes: { jobAnnounce: number, presence: number, bid: number }
}

export function summarize (xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p: number): number => s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!
  return { n: s.length, p50: q(0.5), p95: q(0.95), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) }
}

export const sampleJob = (i: number): JobAnnounce => ({
  jobId: `j${String(i).padStart(23, '0')}`,
  streamId: 's0123456789abcdef0123',
  seq: i,
  durationMs: 2000,
  size: 1_200_000,
  width: 1280,
  height: 720,
  videoCodec: 'h264',
  audioCodec: 'aac',
  fpsMilli: 30000,
  ladder: [
    { name: '720p', width: 1280, height: 720, videoKbps: 3000 },
    { name: '480p', width: 854, height: 480, videoKbps: 1500 },
    { name: '360p', width: 640, height: 360, videoKbps: 800 }
  ],
  deadlineMs: Date.now() + 8000,
  issuedAtMs: Date.now()
})

export const samplePresence = (): Presence => ({
  roles: ['worker'],
  multiaddrs: [new Uint8Array([4, 198, 51, 100, 7, 6, 0x0f, 0xa1])],
  httpUrl: 'http://198.51.100.7:8080',
  activeJobs: 0,
  maxJobs: 1,
  gpu: false,
  hwKind: 'cpu',
  agent: 'diststream-node/0.1.0',
  startedAtMs: Date.now()
})

const sampleBid = (jobId: string): Bid => ({ jobId, estimateMs: 1100, activeJobs: 0, maxJobs: 1, gpu: false, hwKind: 'cpu', price: 0 })

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

async function node (): Promise<P2PNode> {
  return await createP2PNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
}

async function waitFor (cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`measure: timed out waiting for ${what}`)
    await sleep(10)
  }
}

export async function measure (opts: { reps?: number, cpuBurst?: number, log?: (s: string) => void } = {}): Promise<Measured> {
  const reps = opts.reps ?? 200
  const burst = opts.cpuBurst ?? 1000
  const log = opts.log ?? (() => {})
  const [a, b, c] = await Promise.all([node(), node(), node()])
  try {
    const arrivals = new Map<string, { b?: number, c?: number }>()
    for (const [n, key] of [[b, 'b'], [c, 'c']] as const) {
      n.services.pubsub.subscribe(TOPIC)
      n.services.pubsub.addEventListener('message', (evt) => {
        if (evt.detail.topic !== TOPIC) return
        const job = codecs.jobAnnounce.decode(evt.detail.data)
        const rec = arrivals.get(job.jobId)
        if (rec != null) rec[key] = performance.now()
      })
    }
    await b.dial(a.getMultiaddrs()[0]!)
    await c.dial(b.getMultiaddrs()[0]!)
    // Wait for A to know B subscribes and for the B–C mesh (heartbeat 700 ms):
    // probe until a message reaches C.
    await waitFor(() => a.services.pubsub.getSubscribers(TOPIC).length > 0, 15_000, 'A to see B subscribe')
    for (let i = 0; ; i++) {
      const job = sampleJob(900_000 + i)
      const rec: { b?: number, c?: number } = {}
      arrivals.set(job.jobId, rec)
      await a.services.pubsub.publish(TOPIC, codecs.jobAnnounce.encode(job))
      await sleep(200)
      if (rec.c != null) break
      if (i > 100) throw new Error('measure: no message reached C through the mesh')
    }
    await sleep(500)
    log('gossip: one message at a time, A → B → C')
    const hop1: number[] = []
    const hop2: number[] = []
    const fwd: number[] = []
    for (let i = 0; i < reps; i++) {
      const job = sampleJob(i)
      const rec: { b?: number, c?: number } = {}
      arrivals.set(job.jobId, rec)
      const t0 = performance.now()
      await a.services.pubsub.publish(TOPIC, codecs.jobAnnounce.encode(job))
      await waitFor(() => rec.b != null && rec.c != null, 5000, `message ${i} at B and C`)
      hop1.push(rec.b! - t0)
      hop2.push(rec.c! - t0)
      fwd.push(rec.c! - rec.b!)
      await sleep(5)
    }

    log('gossip CPU: a burst')
    const burstIds: string[] = []
    const cpu0 = cpuMs()
    for (let i = 0; i < burst; i++) {
      const job = sampleJob(100_000 + i)
      arrivals.set(job.jobId, {})
      burstIds.push(job.jobId)
      await a.services.pubsub.publish(TOPIC, codecs.jobAnnounce.encode(job))
    }
    await waitFor(() => burstIds.every(id => arrivals.get(id)?.c != null), 60_000, 'the burst at C')
    const cpuGossip = (cpuMs() - cpu0) / (burst * 2)

    // Bids: A handles, B dials.
    let arrivedAt = 0
    await a.handle(BID, (stream) => {
      const ch = new MessageChannel(stream)
      void (async () => {
        try {
          const bid = await ch.read(codecs.bid)
          arrivedAt = performance.now()
          await ch.write(codecs.bidAck, { accepted: bid.jobId.length > 0, reason: '' })
          await stream.close()
        } catch { stream.abort(new Error('bad bid')) }
      })()
    })
    const oneBid = async (jobId: string, negotiateFully = true): Promise<{ arrival: number, rtt: number }> => {
      const t0 = performance.now()
      const stream = await b.dialProtocol(a.peerId, BID, { negotiateFully })
      const ch = new MessageChannel(stream)
      await ch.write(codecs.bid, sampleBid(jobId))
      const ack = await ch.read(codecs.bidAck)
      const t1 = performance.now()
      if (!ack.accepted) throw new Error('bid refused')
      await stream.close()
      return { arrival: arrivedAt - t0, rtt: t1 - t0 }
    }
    log('bids over the existing connection')
    const arr: number[] = []
    const rtt: number[] = []
    for (let i = 0; i < reps; i++) {
      const r = await oneBid(`bid${i}`)
      arr.push(r.arrival)
      rtt.push(r.rtt)
      await sleep(2)
    }
    const arrOpt: number[] = []
    for (let i = 0; i < reps; i++) {
      arrOpt.push((await oneBid(`opt${i}`, false)).arrival)
      await sleep(2)
    }
    const cpu1 = cpuMs()
    for (let i = 0; i < burst / 2; i++) await oneBid(`cpu${i}`)
    const cpuBid = (cpuMs() - cpu1) / (burst / 2)

    log('bids over a new connection each time')
    const fresh: number[] = []
    let freshFailures = 0
    for (let i = 0; i < Math.min(40, reps); i++) {
      await b.hangUp(a.peerId)
      await sleep(100)
      const t0 = performance.now()
      try {
        await oneBid(`new${i}`)
        fresh.push(performance.now() - t0)
      } catch {
        freshFailures++
      }
    }

    log('ed25519 verify alone')
    const key = await generateKeyPair('Ed25519')
    const data = codecs.jobAnnounce.encode(sampleJob(1))
    const sig = await key.sign(data)
    const n = 2000
    const cpu2 = cpuMs()
    for (let i = 0; i < n; i++) await key.publicKey.verify(data, sig)
    const verify = (cpuMs() - cpu2) / n

    return {
      at: new Date().toISOString(),
      loadavg: loadavg(),
      gossipHop1Ms: summarize(hop1),
      gossipHop2Ms: summarize(hop2),
      gossipForwardMs: summarize(fwd),
      bidArrivalMs: summarize(arr),
      bidRoundTripMs: summarize(rtt),
      bidArrivalOptimisticMs: summarize(arrOpt),
      newConnBidMs: summarize(fresh),
      newConnFailures: freshFailures,
      cpuPerGossipTransmissionMs: cpuGossip,
      cpuPerBidRoundTripMs: cpuBid,
      ed25519VerifyMs: verify,
      bytes: {
        jobAnnounce: codecs.jobAnnounce.encode(sampleJob(1)).byteLength,
        presence: codecs.presence.encode(samplePresence()).byteLength,
        bid: codecs.bid.encode(sampleBid('j'.repeat(24))).byteLength
      }
    }
  } finally {
    await Promise.allSettled([a.stop(), b.stop(), c.stop()])
  }
}
