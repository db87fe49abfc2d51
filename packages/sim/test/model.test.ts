import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildMesh, EventQueue, gossip, GOSSIPSUB_DEFAULTS, meshConnected, Rng, simulate } from '../src/index.js'
import type { Mesh } from '../src/index.js'

const meshOf = (edges: Array<[number, number]>): Mesh => {
  const adj = new Map<number, number[]>()
  for (const [a, b] of edges) {
    adj.set(a, [...(adj.get(a) ?? []), b])
    adj.set(b, [...(adj.get(b) ?? []), a])
  }
  return { members: [...adj.keys()].sort(), adj }
}

const run = (mesh: Mesh, origin: number, floodTo: number[], delay = 1, cpu = 0): { count: ReturnType<typeof gossip>, first: Map<number, number> } => {
  const q = new EventQueue()
  const first = new Map<number, number>()
  const busy = new Map<number, number>()
  const count = gossip(mesh, origin, floodTo, 0, {
    q,
    linkDelay: () => delay,
    cpu: (n, at, ms) => { const end = Math.max(at, busy.get(n) ?? 0) + ms; busy.set(n, end); return end },
    cpuPerEndMs: cpu,
    onFirst: (n, at) => { first.set(n, at) }
  })
  q.run()
  return { count, first }
}

describe('EventQueue', () => {
  it('runs events in time order, ties in scheduling order', () => {
    const q = new EventQueue()
    const log: string[] = []
    q.at(30, () => log.push('c'))
    q.at(10, () => log.push('a1'))
    q.at(20, () => { log.push('b'); q.after(0, () => log.push('b-now')); q.at(5, () => log.push('past→now')) })
    q.at(10, () => log.push('a2'))
    q.run()
    assert.deepEqual(log, ['a1', 'a2', 'b', 'b-now', 'past→now', 'c'])
    assert.equal(q.now, 30)
    assert.equal(q.processed, 6)
  })

  it('stops at `until` and resumes', () => {
    const q = new EventQueue()
    const log: number[] = []
    for (const t of [5, 1, 4, 2, 3]) q.at(t, () => log.push(t))
    q.run(3)
    assert.deepEqual(log, [1, 2, 3])
    q.run()
    assert.deepEqual(log, [1, 2, 3, 4, 5])
  })

  it('keeps order across many random events', () => {
    const q = new EventQueue()
    const rng = new Rng(7)
    const seen: number[] = []
    for (let i = 0; i < 5000; i++) { const t = rng.int(1000); q.at(t, () => seen.push(t)) }
    q.run()
    assert.equal(seen.length, 5000)
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]! <= seen[i]!)
  })
})

describe('Rng', () => {
  it('is deterministic per seed', () => {
    const a = new Rng(42)
    const b = new Rng(42)
    const c = new Rng(43)
    const xa = Array.from({ length: 5 }, () => a.next())
    assert.deepEqual(xa, Array.from({ length: 5 }, () => b.next()))
    assert.notDeepEqual(xa, Array.from({ length: 5 }, () => c.next()))
    assert.ok(xa.every(x => x >= 0 && x < 1))
  })

  it('binomial has the right mean, small and large n', () => {
    const r = new Rng(1)
    for (const [n, p] of [[20, 0.3], [1000, 0.05]] as const) {
      let sum = 0
      for (let i = 0; i < 4000; i++) sum += r.binomial(n, p)
      assert.ok(Math.abs(sum / 4000 - n * p) < 0.05 * n * p + 0.1, `${n}, ${p}: ${sum / 4000}`)
    }
    assert.equal(r.binomial(0, 0.5), 0)
    assert.equal(r.binomial(10, 1), 10)
  })
})

describe('gossip fan-out', () => {
  it('a line 1-2-3 from origin 0 flooding to 1: 3 copies, no duplicates, one hop each', () => {
    const { count, first } = run(meshOf([[1, 2], [2, 3]]), 0, [1], 10)
    assert.deepEqual(count, { transmissions: 3, duplicates: 0, reached: 3 })
    assert.deepEqual([...first], [[1, 10], [2, 20], [3, 30]])
  })

  it('a triangle from one flood target: 5 copies, 2 of them duplicates', () => {
    // 0→1; 1→2, 1→3; 2→3 and 3→2 (not back to 1, the sender) arrive as duplicates
    const { count } = run(meshOf([[1, 2], [2, 3], [1, 3]]), 0, [1])
    assert.deepEqual(count, { transmissions: 5, duplicates: 2, reached: 3 })
  })

  it('a full mesh of n with flood publish to all: n + n(n−1) copies', () => {
    const n = 5
    const edges: Array<[number, number]> = []
    for (let a = 1; a <= n; a++) for (let b = a + 1; b <= n; b++) edges.push([a, b])
    const { count } = run(meshOf(edges), 0, [1, 2, 3, 4, 5])
    assert.deepEqual(count, { transmissions: n + n * (n - 1), duplicates: n * (n - 1), reached: n })
  })

  it('a member never forwards back to the origin even when the origin is in its mesh', () => {
    const { count } = run(meshOf([[0, 1], [1, 2]]), 0, [1])
    // 0→1, 1→2 (not 1→0: origin); 2 has only 1 as a peer, its sender
    assert.deepEqual(count, { transmissions: 2, duplicates: 0, reached: 2 })
  })

  it('CPU queues: a node pays per copy, serially', () => {
    // 0 floods to 1 and 2 with 1 ms CPU per end, link 10 ms: sends end at 1 and 2,
    // so 1 has it validated at 1 + 10 + 1 = 12 and 2 at 2 + 10 + 1 = 13.
    const { first } = run(meshOf([[1, 9], [2, 9]]), 0, [1, 2], 10, 1)
    assert.equal(first.get(1), 12)
    assert.equal(first.get(2), 13)
  })

  it('reaches every subscriber of a built mesh, whose degrees stay within Dlo..Dhi', () => {
    const rng = new Rng(3)
    const members = Array.from({ length: 800 }, (_, i) => i + 1)
    const mesh = buildMesh(members, GOSSIPSUB_DEFAULTS, rng)
    assert.ok(meshConnected(mesh))
    for (const m of members) {
      const d = mesh.adj.get(m)!.length
      assert.ok(d >= GOSSIPSUB_DEFAULTS.Dlo && d <= GOSSIPSUB_DEFAULTS.Dhi, `degree ${d}`)
    }
    const { count, first } = run(mesh, 0, rng.sample(members, 20))
    assert.equal(count.reached, 800)
    assert.equal(first.size, 800)
    // every member forwards to its mesh peers but its sender: transmissions = 20 + Σ(deg − 1) (+ flood targets keep all)
    const degSum = members.reduce((a, m) => a + mesh.adj.get(m)!.length, 0)
    assert.ok(count.transmissions <= 20 + degSum && count.transmissions >= 20 + degSum - 800)
  })
})

describe('simulate', () => {
  const base = { nodes: 100, jobs: 20, pFree: 1, staleness: 0, bidWindowMs: 10_000, backgroundLoad: false } as const

  it('flood: every free worker bids, the auction closes on the last expected bid', () => {
    const r = simulate({ ...base, design: 'flood' })
    assert.equal(r.workers, 60)
    assert.equal(r.ingests, 1)
    assert.equal(r.msgsPerJob.bids, 2 * 60) // Bid + BidAck from each of the 60 workers
    assert.equal(r.msgsPerJob.requests, 1)
    assert.equal(r.windowClosed, 0)
    assert.equal(r.failed, 0)
    assert.ok(r.dispatchMs.p95 < 10_000)
  })

  it('rendezvous: exactly k bids per job with exact views', () => {
    const r = simulate({ ...base, design: 'rendezvous', k: 4 })
    assert.equal(r.msgsPerJob.bids, 2 * 4)
    assert.equal(r.windowClosed, 0)
    assert.equal(r.lateBidsPerJob, 0)
  })

  it('closing after the first bids is never slower than waiting for all', () => {
    const all = simulate({ ...base, design: 'rendezvous', k: 4 })
    const first = simulate({ ...base, design: 'rendezvous', k: 4, closeAfter: 1 })
    assert.ok(first.dispatchMs.p50 <= all.dispatchMs.p50)
    assert.ok(first.lateBidsPerJob > 0)
  })

  it('sharded: the job reaches one shard, so its gossip does not grow with the network', () => {
    const small = simulate({ ...base, nodes: 1000, design: 'sharded', jobs: 10 })
    const flood = simulate({ ...base, nodes: 1000, design: 'flood', jobs: 10 })
    assert.equal(small.shards, 16) // 600 workers / 64 → 2^4 shards
    assert.ok(small.topicSize < 80 && small.topicSize > 15, `shard of ${small.topicSize}`)
    assert.equal(flood.topicSize, 600)
    assert.ok(small.msgsPerJob.gossip < flood.msgsPerJob.gossip / 5)
  })

  it('is deterministic for a seed', () => {
    const a = simulate({ nodes: 200, design: 'prob', jobs: 30, seed: 5 })
    const b = simulate({ nodes: 200, design: 'prob', jobs: 30, seed: 5 })
    assert.deepEqual({ ...a, wallMs: 0 }, { ...b, wallMs: 0 })
  })

  it('today\'s presence saturates a 1,000-node network with the measured costs', () => {
    const r = simulate({ nodes: 1000, design: 'flood', jobs: 1 })
    assert.ok(r.saturated.includes('relay'))
    const s = simulate({ nodes: 1000, design: 'sharded', jobs: 1 })
    assert.deepEqual(s.saturated, [])
  })
})
