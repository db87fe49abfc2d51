/**
 * The scale experiment: a seeded discrete-event model of gossipsub job
 * fan-out and the bid round, with per-hop costs measured on real libp2p nodes
 * (measure.ts). docs/scale.md has the method and the results.
 *
 * @example
 * ```ts
 * import { simulate } from '@diststream/sim'
 * const r = simulate({ nodes: 1000, design: 'sharded', k: 4 })
 * console.log(r.dispatchMs.p95, r.msgsPerJob.total)
 * ```
 *
 * @packageDocumentation
 */
export { EventQueue } from './queue.js'
export { Rng } from './rng.js'
export { buildMesh, gossip, GOSSIPSUB_DEFAULTS, meshConnected, type GossipCount, type GossipHooks, type Mesh, type MeshParams } from './overlay.js'
export { MEASURED, GOSSIP_ENVELOPE_BYTES, type Inputs } from './inputs.js'
export { measure, type Measured, type Summary } from './measure.js'
export { DEFAULTS, pct, simulate, transmissionsPerMessage, type Design, type LoadFigures, type Pct, type SimOptions, type SimResult } from './model.js'
