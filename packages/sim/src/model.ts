import { bidWeight, electBidders, electionSize, shardBits, shardOf } from '@diststream/scheduler'
import { GOSSIP_ENVELOPE_BYTES, MEASURED } from './inputs.js'
import { buildMesh, gossip, GOSSIPSUB_DEFAULTS, meshConnected } from './overlay.js'
import { EventQueue } from './queue.js'
import { Rng } from './rng.js'
import type { Inputs } from './inputs.js'
import type { GossipCount, Mesh } from './overlay.js'

/**
 * How a job finds its bidders.
 *  - `flood`: today's design. The job goes to every worker on the jobs topic,
 *    every free worker bids, the ingest closes the auction once as many bids
 *    as free workers it knows of (presence) are in, or at the bid window.
 *  - `prob`: every worker hears the job; a free worker bids with probability
 *    k·oversample / (free workers it knows of); close at k bids or the window.
 *  - `rendezvous`: every worker hears the job; only the k free workers ranked
 *    first by rendezvous hashing bid (scheduler's `shouldBid`); the ingest
 *    elects the same set from its view (`electBidders`) and closes once
 *    `closeAfter` of them bid, or at the window. A re-announce (no bid)
 *    doubles k (`electionSize`).
 *  - `sharded`: as `rendezvous`, but the job goes only to the topic of the
 *    ingest's home shard (`shardOf(ingest)` at `shardBits(workers)`), whose
 *    workers the ingest keeps connections to; worker capacity presence is
 *    published on the shard topic, and global presence slows down.
 */
export type Design = 'flood' | 'prob' | 'rendezvous' | 'sharded'

export interface SimOptions {
  nodes: number
  design: Design
  seed: number
  /** Jobs simulated (each an independent market round on the same network). */
  jobs: number
  ingestFraction: number
  workerFraction: number
  /** RTT between two nodes = min + (max − min) × their distance on a unit square ÷ √2. */
  rttMinMs: number
  rttMaxMs: number
  /** Probability a worker has a free slot when a job is announced. */
  pFree: number
  /** Probability one entry of a node's presence view is wrong (free ↔ busy). */
  staleness: number
  bidWindowMs: number
  /** Wait before re-announcing a job that drew no bid (the ingest's RETRY_MS). */
  retryMs: number
  maxRounds: number
  /** Elected bidders per job (prob, rendezvous, sharded). */
  k: number
  /** Close the auction after this many bids (default: all expected). */
  closeAfter?: number
  /** prob: bid probability = min(1, k × oversample / free). */
  oversample: number
  /** sharded: workers per shard (target). */
  shardTarget: number
  /** Connections a node keeps (the ingest's cap is maxConnections). */
  targetConnections: number
  maxConnections: number
  presenceIntervalMs: number
  /** sharded: interval of the global (non-capacity) presence, at least... */
  globalPresenceIntervalMs: number
  /** sharded: ...and long enough that all nodes together publish at most this many global presence messages per second. */
  globalPresenceBudget: number
  segmentSec: number
  streamsPerIngest: number
  /** libp2p's default negotiates the protocol (1 RTT) before data; optimistic select sends it with the first data. */
  optimisticSelect: boolean
  /** Charge each node's CPU with its background load (presence, other jobs, bids). */
  backgroundLoad: boolean
  inputs: Inputs
}

export const DEFAULTS: Omit<SimOptions, 'nodes' | 'design'> = {
  seed: 1,
  jobs: 200,
  ingestFraction: 0.01,
  workerFraction: 0.6,
  rttMinMs: 20,
  rttMaxMs: 150,
  pFree: 0.5,
  staleness: 0.05,
  bidWindowMs: 150,
  retryMs: 200,
  maxRounds: 5,
  k: 4,
  oversample: 2,
  shardTarget: 64,
  targetConnections: 24,
  maxConnections: 100,
  presenceIntervalMs: 2000,
  globalPresenceIntervalMs: 30_000,
  globalPresenceBudget: 20,
  segmentSec: 2,
  streamsPerIngest: 1,
  optimisticSelect: false,
  backgroundLoad: true,
  inputs: MEASURED
}

export interface Pct { p50: number, p95: number, mean: number }

export interface LoadFigures {
  /** Presence messages received per second (full copies, duplicates included). */
  presenceMsgsPerSec: number
  presenceBytesPerSec: number
  /** CPU share of one core, all background work (presence, job gossip, bids). */
  cpu: number
}

export interface SimResult {
  options: Omit<SimOptions, 'inputs'>
  ingests: number
  workers: number
  relays: number
  /** Workers the job is announced to (topic members). */
  topicSize: number
  shards: number
  meshConnected: boolean
  rttMs: Pct
  /** Announce → auction closed with a winner chosen, at the ingest. */
  dispatchMs: Pct
  /** Announce → the winner has the TranscodeRequest (chosen + stream open + request). */
  requestMs: Pct
  /** Jobs that drew no bid in maxRounds rounds (counted as Infinity in the percentiles). */
  failed: number
  /** Jobs that needed more than one round. */
  retried: number
  /** Jobs whose auction closed on the window rather than on the expected count. */
  windowClosed: number
  /** Full copies of the JobAnnounce (all rounds), Bid + BidAck, TranscodeRequest; IHAVE: message ids in control messages (piggybacked, not messages of their own). */
  msgsPerJob: { gossip: number, bids: number, requests: number, total: number, ihaveIds: number }
  lateBidsPerJob: number
  load: { worker: LoadFigures, relay: LoadFigures, ingest: LoadFigures }
  /** A node class whose CPU is ≥ 95 % busy with background work: the network cannot run there. */
  saturated: string[]
  events: number
  wallMs: number
}

export function pct (xs: number[]): Pct {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p: number): number => s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
  const finite = s.filter(Number.isFinite)
  return { p50: q(0.5), p95: q(0.95), mean: finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length) }
}

/** Average full-payload transmissions of one message over `mesh`, published by `origin`s flooding to `floodTo(origin)`. */
export function transmissionsPerMessage (mesh: Mesh, origins: number[], floodTo: (o: number) => readonly number[]): number {
  let total = 0
  for (const o of origins) {
    const q = new EventQueue()
    const c = gossip(mesh, o, floodTo(o), 0, { q, linkDelay: () => 1, cpu: (_n, at) => at, cpuPerEndMs: 0 })
    q.run()
    total += c.transmissions
  }
  return total / Math.max(1, origins.length)
}

export function simulate (partial: Partial<SimOptions> & Pick<SimOptions, 'nodes' | 'design'>): SimResult {
  const o: SimOptions = { ...DEFAULTS, ...partial }
  const wall0 = performance.now()
  const rng = new Rng(o.seed)
  const N = o.nodes
  const nIngest = Math.max(1, Math.round(N * o.ingestFraction))
  const nWorker = Math.max(1, Math.round(N * o.workerFraction))
  const ingests = Array.from({ length: nIngest }, (_, i) => i)
  const workers = Array.from({ length: nWorker }, (_, i) => nIngest + i)
  const ids = Array.from({ length: N }, (_, i) => `peer-${o.seed}-${i}`)
  const xs = Float64Array.from({ length: N }, () => rng.next())
  const ys = Float64Array.from({ length: N }, () => rng.next())
  const rtt = (a: number, b: number): number => o.rttMinMs + (o.rttMaxMs - o.rttMinMs) * Math.hypot(xs[a]! - xs[b]!, ys[a]! - ys[b]!) / Math.SQRT2
  const inp = o.inputs
  const cpuEnd = inp.cpuPerGossipTransmissionMs / 2
  const cpuBidEnd = inp.cpuPerBidRoundTripMs / 2
  const dupCpu = Math.max(0, cpuEnd - inp.ed25519VerifyMs)
  const localHop = Math.max(0, inp.gossipHopMs - inp.cpuPerGossipTransmissionMs)
  const bidLocal = Math.max(0, inp.bidArrivalMs - cpuBidEnd)
  const newConnCpu = Math.max(0, inp.newConnBidMs - inp.bidArrivalMs)
  // Yamux opens a stream with the first frame; multistream-select costs a round trip unless the
  // dialer sends the protocol with the first data (libp2p's `negotiateFully: false`).
  const selectRtts = o.optimisticSelect ? 0.5 : 1.5
  const mp = GOSSIPSUB_DEFAULTS

  // Topics: which workers a job from ingest i reaches, and whom i floods to.
  const sharded = o.design === 'sharded'
  const bits = sharded ? shardBits(nWorker, o.shardTarget) : 0
  const shardMembers = new Map<number, number[]>()
  for (const w of workers) {
    const s = sharded ? shardOf(ids[w]!, bits) : 0
    let m = shardMembers.get(s)
    if (m == null) shardMembers.set(s, m = [])
    m.push(w)
  }
  const meshes = new Map<number, Mesh>()
  const meshOf = (s: number): Mesh => {
    let m = meshes.get(s)
    if (m == null) meshes.set(s, m = buildMesh(shardMembers.get(s) ?? [], mp, rng))
    return m
  }
  const homeShard = (ing: number): number => sharded ? shardOf(ids[ing]!, bits) : 0
  const ingestConns = new Map<number, Set<number>>()
  const connsOf = (ing: number): Set<number> => {
    let c = ingestConns.get(ing)
    if (c == null) ingestConns.set(ing, c = new Set(rng.sample(shardMembers.get(homeShard(ing)) ?? [], o.maxConnections)))
    return c
  }

  // Background load per node class, from rates (see docs/scale.md).
  const allNodes = Array.from({ length: N }, (_, i) => i)
  const presenceMesh = buildMesh(allNodes, mp, rng)
  const neighbours = (n: number, pool: readonly number[], k: number): number[] => rng.sample(pool, k + 1).filter(x => x !== n).slice(0, k)
  const origins = rng.sample(allNodes, 4)
  const tGlobal = transmissionsPerMessage(presenceMesh, origins, n => neighbours(n, allNodes, o.targetConnections))
  // sharded: global presence within a network-wide budget of messages per second.
  const globalInterval = sharded ? Math.max(o.globalPresenceIntervalMs, N * 1000 / o.globalPresenceBudget) : o.presenceIntervalMs
  const globalRate = (1000 / globalInterval) * tGlobal
  const homeMesh = meshOf(homeShard(ingests[0]!))
  const topicSize = homeMesh.members.length
  const tShard = sharded ? transmissionsPerMessage(homeMesh, rng.sample(homeMesh.members, 3), n => neighbours(n, homeMesh.members, o.targetConnections)) : 0
  const shardPresenceRate = sharded ? (1000 / o.presenceIntervalMs) * tShard : 0 // per member of that shard
  const tJob = transmissionsPerMessage(homeMesh, [ingests[0]!], () => [...connsOf(ingests[0]!)])
  const jobsPerSec = nIngest * o.streamsPerIngest / o.segmentSec
  const shards = sharded ? 2 ** bits : 1
  const bidsPerJob = o.design === 'flood' ? topicSize * o.pFree : o.design === 'prob' ? Math.min(topicSize * o.pFree, o.k * o.oversample) : Math.min(topicSize * o.pFree, o.k)
  const envelope = (payload: number): number => payload + GOSSIP_ENVELOPE_BYTES
  // Copies of presence each node receives per second: every publisher's message makes t copies
  // network-wide, so per node (N publishers, N receivers) it is rate × t.
  const workerPresence = globalRate + shardPresenceRate
  const relayPresence = globalRate
  // Distinct presence messages per second a node sees (one per publisher and interval).
  const relayPresenceMsgs = N * 1000 / globalInterval
  const workerPresenceMsgs = relayPresenceMsgs + (sharded ? topicSize * 1000 / o.presenceIntervalMs : 0)
  // CPU share of one core (ms per s ÷ 1000). Each received copy costs the receiver cpuEnd, and on
  // average each node sends as many copies as it receives.
  const jobCopiesPerWorker = (jobsPerSec / shards) * tJob / Math.max(1, topicSize)
  // A copy costs its sender cpuEnd; the first copy of a message costs the receiver cpuEnd, a
  // duplicate (dropped by message id before the signature check) costs cpuEnd − verify.
  const perCopy = (copiesPerSec: number, messagesPerSec: number): number =>
    copiesPerSec * cpuEnd + messagesPerSec * cpuEnd + Math.max(0, copiesPerSec - messagesPerSec) * dupCpu
  const workerCpu = (perCopy(workerPresence, workerPresenceMsgs) + perCopy(jobCopiesPerWorker, jobsPerSec / shards) + cpuBidEnd * jobsPerSec * bidsPerJob / nWorker) / 1000
  const relayCpu = perCopy(relayPresence, relayPresenceMsgs) / 1000
  // Bidders the ingest holds no connection to also cost it a handshake.
  const unconnected = 1 - connsOf(ingests[0]!).size / Math.max(1, topicSize)
  const ingestCpu = (perCopy(workerPresence, workerPresenceMsgs) + (o.streamsPerIngest / o.segmentSec) * (cpuEnd * connsOf(ingests[0]!).size + bidsPerJob * (cpuBidEnd + unconnected * newConnCpu))) / 1000
  const load = {
    worker: { presenceMsgsPerSec: workerPresence, presenceBytesPerSec: workerPresence * envelope(inp.bytes.presence), cpu: workerCpu },
    relay: { presenceMsgsPerSec: relayPresence, presenceBytesPerSec: relayPresence * envelope(inp.bytes.presence), cpu: relayCpu },
    ingest: { presenceMsgsPerSec: workerPresence, presenceBytesPerSec: workerPresence * envelope(inp.bytes.presence), cpu: ingestCpu }
  }
  const saturated = Object.entries(load).filter(([, l]) => l.cpu >= 0.95).map(([k]) => k)
  const inflate = new Float64Array(N).fill(1)
  if (o.backgroundLoad && saturated.length === 0) {
    for (let n = 0; n < N; n++) {
      const c = n < nIngest ? ingestCpu : n < nIngest + nWorker ? workerCpu : relayCpu
      inflate[n] = 1 / (1 - c)
    }
  }

  // The market rounds.
  const q = new EventQueue()
  const busy = new Float64Array(N)
  const cpu = (node: number, at: number, ms: number): number => {
    const start = Math.max(at, busy[node]!)
    busy[node] = start + ms * inflate[node]!
    return busy[node]!
  }
  const linkDelay = (a: number, b: number): number => rtt(a, b) / 2 + localHop
  const dispatch: number[] = []
  const request: number[] = []
  let failed = 0
  let retried = 0
  let windowClosed = 0
  const counts: GossipCount[] = []
  let requestMsgs = 0
  let bidMsgs = 0
  let lateBids = 0
  let ihave = 0
  const isFree = new Uint8Array(N)
  const estimate = new Float64Array(N)

  for (let j = 0; j < o.jobs; j++) {
    const ing = ingests[rng.int(nIngest)]!
    const shard = homeShard(ing)
    const mesh = meshOf(shard)
    const members = mesh.members
    const conns = connsOf(ing)
    const jobId = `job-${o.seed}-${j}`
    const t0 = j * 10_000 // far apart: rounds of different jobs do not overlap
    q.run(t0)
    for (const w of members) { isFree[w] = rng.chance(o.pFree) ? 1 : 0; estimate[w] = rng.uniform(800, 1600) }
    const order = o.design === 'rendezvous' || sharded
      ? members.map(w => ({ w, weight: bidWeight(jobId, ids[w]!) })).sort((a, b) => a.weight - b.weight || (ids[a.w]! < ids[b.w]! ? -1 : 1)).map(x => x.w)
      : members
    let round = 0
    const startRound = (at: number): void => {
      round++
      // The ingest's view of who is free, redrawn each round (presence moves on).
      const viewFree = members.filter(w => (isFree[w] === 1) !== rng.chance(o.staleness))
      let expected: number
      const bidders = new Set<number>()
      if (o.design === 'flood') {
        expected = viewFree.length
        for (const w of members) if (isFree[w] === 1) bidders.add(w)
      } else if (o.design === 'prob') {
        expected = Math.min(o.k, viewFree.length)
        const p = Math.min(1, o.k * o.oversample / Math.max(1, viewFree.length))
        for (const w of members) if (isFree[w] === 1 && rng.chance(p)) bidders.add(w)
      } else {
        const k = electionSize(o.k, round)
        expected = electBidders({ jobId, freeWorkers: viewFree.map(w => ids[w]!), k }).length
        // Worker w's own view: each worker ranked before it is believed free with the view error.
        let aheadFree = 0
        let aheadBusy = 0
        for (const w of order) {
          if (aheadFree >= 2 * k + 20) break
          if (isFree[w] === 1) {
            if (rng.binomial(aheadFree, 1 - o.staleness) + rng.binomial(aheadBusy, o.staleness) < k) bidders.add(w)
            aheadFree++
          } else aheadBusy++
        }
      }
      const closeAt = Math.max(1, Math.min(expected, o.closeAfter ?? expected))
      const bids: number[] = []
      let closed = false
      const close = (at: number, byWindow: boolean): void => {
        if (closed) return
        closed = true
        if (byWindow) windowClosed++
        if (bids.length > 0) {
          const winner = bids.reduce((a, b) => estimate[a]! <= estimate[b]! ? a : b)
          dispatch.push(at - t0)
          request.push(at - t0 + selectRtts * rtt(ing, winner) + bidLocal)
          requestMsgs++
        } else if (round < o.maxRounds && members.some(w => isFree[w] === 1)) {
          if (round === 1) retried++
          q.at(at + o.retryMs, () => { startRound(q.now) })
        } else {
          failed++
          dispatch.push(Infinity)
          request.push(Infinity)
        }
      }
      q.at(at + o.bidWindowMs, () => { close(q.now, true) })
      const onFirst = (w: number, got: number): void => {
        if (!bidders.has(w)) return
        const conn = conns.has(w)
        const r = rtt(w, ing)
        const sent = cpu(w, got, cpuBidEnd)
        bidMsgs += 2 // Bid + BidAck
        q.at(sent + (conn ? 0 : 3 * r) + selectRtts * r + bidLocal, () => {
          const done = cpu(ing, q.now, cpuBidEnd + (conn ? 0 : newConnCpu))
          q.at(done, () => {
            if (closed) { lateBids++; return }
            bids.push(w)
            if (bids.length >= closeAt) close(q.now, false)
          })
        })
      }
      counts.push(gossip(mesh, ing, [...conns], at, { q, linkDelay, cpu, cpuPerEndMs: cpuEnd, cpuDuplicateMs: dupCpu, onFirst }))
      ihave += members.length * mp.historyGossip * mp.Dlazy
    }
    startRound(t0)
  }
  q.run()
  const jobs = Math.max(1, o.jobs)
  const gossipMsgs = counts.reduce((a, c) => a + c.transmissions, 0)
  const { inputs: _inputs, ...options } = o
  return {
    options,
    ingests: nIngest,
    workers: nWorker,
    relays: N - nIngest - nWorker,
    topicSize,
    shards,
    meshConnected: meshConnected(homeMesh) && meshConnected(presenceMesh),
    rttMs: pct(Array.from({ length: 2000 }, () => rtt(rng.int(N), rng.int(N)))),
    dispatchMs: pct(dispatch),
    requestMs: pct(request),
    failed,
    retried,
    windowClosed,
    msgsPerJob: { gossip: gossipMsgs / jobs, bids: bidMsgs / jobs, requests: requestMsgs / jobs, total: (gossipMsgs + bidMsgs + requestMsgs) / jobs, ihaveIds: ihave / jobs },
    lateBidsPerJob: lateBids / jobs,
    load,
    saturated,
    events: q.processed,
    wallMs: performance.now() - wall0
  }
}
