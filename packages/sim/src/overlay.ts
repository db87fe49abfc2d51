import type { EventQueue } from './queue.js'
import type { Rng } from './rng.js'

/** Gossipsub v1.1 mesh parameters (the spec's and js-libp2p's defaults). */
export interface MeshParams {
  D: number
  Dlo: number
  Dhi: number
}

export const GOSSIPSUB_DEFAULTS: MeshParams & { Dlazy: number, historyGossip: number, heartbeatMs: number } = {
  D: 6, Dlo: 4, Dhi: 12, Dlazy: 6, historyGossip: 3, heartbeatMs: 700
}

/** One topic's mesh: symmetric adjacency between its subscribers (node indices). */
export interface Mesh {
  members: number[]
  adj: Map<number, number[]>
}

/**
 * The mesh gossipsub's heartbeat converges to: every subscriber GRAFTs random
 * subscribers until it has D mesh peers, no peer accepts more than Dhi, and
 * links are symmetric. Peers left below Dlo after the first pass take any
 * subscriber with room (as a later heartbeat would).
 */
export function buildMesh (members: readonly number[], p: MeshParams, rng: Rng): Mesh {
  const adj = new Map<number, Set<number>>()
  for (const m of members) adj.set(m, new Set())
  const n = members.length
  const link = (a: number, b: number): void => { adj.get(a)!.add(b); adj.get(b)!.add(a) }
  const fill = (target: number): void => {
    for (const a of rng.sample(members, n)) {
      const sa = adj.get(a)!
      let tries = 0
      while (sa.size < Math.min(target, n - 1) && tries++ < 8 * p.D + 32) {
        const b = members[rng.int(n)]!
        if (b === a || sa.has(b) || adj.get(b)!.size >= p.Dhi) continue
        link(a, b)
      }
    }
  }
  fill(p.D)
  fill(p.Dlo)
  const out = new Map<number, number[]>()
  for (const [k, v] of adj) out.set(k, [...v])
  return { members: [...members], adj: out }
}

/** True when every member can reach every other over the mesh. */
export function meshConnected (mesh: Mesh): boolean {
  if (mesh.members.length === 0) return true
  const seen = new Set<number>([mesh.members[0]!])
  const stack = [mesh.members[0]!]
  while (stack.length > 0) {
    const a = stack.pop()!
    for (const b of mesh.adj.get(a) ?? []) if (!seen.has(b)) { seen.add(b); stack.push(b) }
  }
  return seen.size === mesh.members.length
}

export interface GossipHooks {
  q: EventQueue
  /** Network + stack latency of one transmission a → b, ms (no CPU). */
  linkDelay: (a: number, b: number) => number
  /** Occupies `node`'s CPU for `ms` from `at` (FIFO); returns when it is done. */
  cpu: (node: number, at: number, ms: number) => number
  /** CPU per transmission on each end, ms. */
  cpuPerEndMs: number
  /** CPU of receiving a duplicate (dropped by message id before validation), ms; default cpuPerEndMs. */
  cpuDuplicateMs?: number
  /** A member got the message for the first time, validated, at `at`. */
  onFirst?: (node: number, at: number) => void
}

export interface GossipCount {
  /** Full-payload copies sent (publish flood + mesh forwards). */
  transmissions: number
  /** Copies that arrived at a node that already had the message. */
  duplicates: number
  /** Members reached. */
  reached: number
}

/**
 * Publishes one message from `origin` (which need not subscribe, like an
 * ingest on the jobs topic): flood publish to `floodTo` (the origin's
 * connected subscribers), then every member forwards it, on first receipt, to
 * its mesh peers except the one it came from and the origin (gossipsub's
 * forwardMessage). IHAVE/IWANT do not add copies here: the mesh is connected,
 * so every member has the message before the heartbeat that would gossip it.
 * The returned counts fill in as `h.q` runs.
 */
export function gossip (mesh: Mesh, origin: number, floodTo: readonly number[], start: number, h: GossipHooks): GossipCount {
  const count: GossipCount = { transmissions: 0, duplicates: 0, reached: 0 }
  const seen = new Set<number>()
  const send = (from: number, to: number, at: number): void => {
    count.transmissions++
    const sent = h.cpu(from, at, h.cpuPerEndMs)
    h.q.at(sent + h.linkDelay(from, to), () => { receive(to, from, h.q.now) })
  }
  const receive = (node: number, from: number, at: number): void => {
    if (seen.has(node)) {
      count.duplicates++
      h.cpu(node, at, h.cpuDuplicateMs ?? h.cpuPerEndMs)
      return
    }
    const done = h.cpu(node, at, h.cpuPerEndMs)
    seen.add(node)
    count.reached++
    h.onFirst?.(node, done)
    for (const peer of mesh.adj.get(node) ?? []) {
      if (peer !== from && peer !== origin) send(node, peer, done)
    }
  }
  for (const t of floodTo) if (t !== origin) send(origin, t, start)
  return count
}
