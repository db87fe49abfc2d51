/**
 * Throwaway worker identities, in the test process (security review H1). Each is a real
 * `Worker` of @diststream/worker on its own libp2p node with a fresh key, with two changes an
 * attacker makes at no cost: it bids 0 ms on every job ({@link ZeroEstimator}), and its ffmpeg is
 * the FAKE one of test/fixtures/fake-ffmpeg-liar.sh (the mode given), so its renditions are valid
 * H.264 of the right size, frame count and duration showing another picture. Each identity lives
 * `lifetimeMs`, then is thrown away and a fresh one takes its place. Each also announces itself as a
 * free worker on the presence topic (unauthenticated, review M1), so the ingest waits for its bids.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createP2PNode, Gossip, PresenceService, Protocols } from '@diststream/p2p'
import { loadOrCreatePeerKey } from '@diststream/store'
import { Estimator, Worker } from '@diststream/worker'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { P2PNode } from '@diststream/p2p'

/** Claims every job takes no time at all (a valid bid: estimateMs is a uint32). */
export class ZeroEstimator extends Estimator {
  override estimate (): number { return 0 }
}

interface Sybil { node: P2PNode, worker: Worker, presence: PresenceService, timer: NodeJS.Timeout }

export interface SybilSwarmOptions {
  /** Identities alive at once. */
  count: number
  /** How long one identity lives before a fresh one replaces it (ms). */
  lifetimeMs: number
  /** The multiaddr to dial first (the ingest's). */
  bootstrap: string
  /** The FAKE ffmpeg script, its mode, and the real ffmpeg it passes through to. */
  fakeFfmpeg: string
  mode: string
  realFfmpeg: string
  /** Scratch space (keys, work dirs, the ffmpeg wrapper). */
  dir: string
}

export class SybilSwarm {
  /** Every identity used so far. */
  readonly ids = new Set<string>()
  readonly #live = new Set<Sybil>()
  #running = false
  #wrapper = ''
  #made = 0

  constructor (private readonly opts: SybilSwarmOptions) {}

  async start (): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true })
    // The worker runs ffmpeg with this process's environment: the mode goes in a wrapper.
    this.#wrapper = join(this.opts.dir, 'ffmpeg')
    await writeFile(this.#wrapper, `#!/usr/bin/env bash\nLIAR_MODE=${this.opts.mode} REAL_FFMPEG=${this.opts.realFfmpeg} exec ${this.opts.fakeFfmpeg} "$@"\n`)
    await chmod(this.#wrapper, 0o755)
    this.#running = true
    for (let i = 0; i < this.opts.count; i++) {
      // Staggered, so identities are not all replaced at once.
      await this.#spawn(this.opts.lifetimeMs * (i + 1) / this.opts.count)
    }
  }

  async stop (): Promise<void> {
    this.#running = false
    await Promise.allSettled([...this.#live].map(async s => { await this.#retire(s) }))
  }

  async #spawn (lifetimeMs: number): Promise<void> {
    const dir = join(this.opts.dir, `id${this.#made++}`)
    const node = await createP2PNode({ privateKey: await loadOrCreatePeerKey(dir), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    const log = pino({ level: 'silent' })
    const gossip = new Gossip(node, log)
    const worker = new Worker({ gossip, protocols: new Protocols(node), ffmpegPath: this.#wrapper, maxJobs: 1, workDir: join(dir, 'work'), logger: log, registry: new Registry(), estimator: new ZeroEstimator() })
    await worker.start()
    const startedAtMs = Date.now()
    const presence = new PresenceService(node, gossip, () => ({ roles: ['worker'], httpUrl: '', activeJobs: worker.activeJobs, maxJobs: worker.maxJobs, gpu: false, hwKind: 'cpu', agent: 'sybil', startedAtMs }), log)
    presence.start()
    await node.dial(multiaddr(this.opts.bootstrap), { signal: AbortSignal.timeout(10_000) })
    this.ids.add(node.peerId.toString())
    const sybil: Sybil = {
      node,
      worker,
      presence,
      timer: setTimeout(() => {
        void this.#retire(sybil).then(async () => { if (this.#running) await this.#spawn(this.opts.lifetimeMs) }).catch(() => { /* the swarm is stopping */ })
      }, lifetimeMs)
    }
    this.#live.add(sybil)
  }

  async #retire (s: Sybil): Promise<void> {
    if (!this.#live.delete(s)) return
    clearTimeout(s.timer)
    s.presence.stop()
    await s.worker.stop()
    await s.node.stop()
  }
}

/**
 * Publishes `data` on `topic` through `node`'s own gossipsub connections, but
 * signed by a fresh key (a Sybil identity): what a hostile peer relays for
 * thousands of made-up peers. gossipsub signs with its `publishConfig`
 * (StrictSign: author, public key, private key), swapped here for one
 * publish. Sequential: the config is read when the message is built.
 */
export async function publishAsFreshKey (node: P2PNode, topic: string, data: Uint8Array): Promise<string> {
  const key = await generateKeyPair('Ed25519')
  const author = peerIdFromPrivateKey(key)
  const pubsub = node.services.pubsub as unknown as { publishConfig: unknown }
  const own = pubsub.publishConfig
  pubsub.publishConfig = { type: 0 /* PublishConfigType.Signing */, author, key: publicKeyToProtobuf(key.publicKey), privateKey: key }
  try {
    await node.services.pubsub.publish(topic, data)
  } finally {
    pubsub.publishConfig = own
  }
  return author.toString()
}
