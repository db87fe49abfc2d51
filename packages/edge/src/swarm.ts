import { createHash } from 'node:crypto'
import { codecs, FetchRequest, haveTopic } from '@diststream/protocol'
import { serveFetch } from '@diststream/p2p'
import { BoundedMap, Notifier, SingleFlight, sleep } from '@diststream/util'
import { HAVE_BURST, HAVE_MAX_AHEAD, HAVE_MAX_SIGNERS, HAVE_RATE_PER_SEC, HOLDER_SEGMENT_TIMEOUT_MIN_MS, SEGMENT_TIMEOUT_MS, SERVE_PENDING_WAIT_MS, SWARM_DEADLINE_MS, SWARM_INGEST_RETRY_STEP_MS, SWARM_MAX_ATTEMPTS, EDGE_DEFAULTS } from './constants.js'
import { chooseSource, HolderTable } from './holders.js'
import type { FetchClient } from './fetch-client.js'
import type { EdgeMetrics } from './metrics.js'
import type { PeerComponents } from '@diststream/p2p'
import type { Rendition } from '@diststream/protocol'
import type { Stream } from '@libp2p/interface'
import type { Logger } from 'pino'

export interface SwarmInit extends PeerComponents {
  logger: Logger
  client: FetchClient
  metrics: Pick<EdgeMetrics, 'sources' | 'served' | 'servedBytes'>
  /** The owner's shutdown: waits and retries stop when it fires. */
  signal: AbortSignal
  /** Fall back to the ingest (which then must serve) after this long without a copy. */
  fallbackMs?: number
  /** Give up on a rendition segment after this long (it becomes a gap). */
  deadlineMs?: number
  random?: () => number
}

export interface SwarmFetch {
  streamId: string
  ingest: string
  seq: number
  /** The rendition as the ingest announced it: size and sha256 are the trust anchor. */
  rendition: Rendition
}

type Attempt =
  | { kind: 'ok', data: Uint8Array }
  | { kind: 'busy', holders: string[] }
  | { kind: 'failed', err: Error }

const flightKey = (streamId: string, rendition: string, seq: number): string => `${streamId}/${rendition}/${seq}`

/**
 * Edge swarming, the network half: fetch a rendition segment from any peer
 * that holds it, verified against the ingest-signed SegmentAnnounce;
 * announce what we hold (have-lists on /diststream/have/<id>/1.0.0); serve
 * what we hold over /diststream/fetch/1.0.0, including segments still being
 * fetched (the requester waits for our copy rather than going to the ingest).
 */
export class Swarm {
  private readonly tables = new Map<string, HolderTable>()
  private readonly flights = new SingleFlight<Uint8Array>()
  /** The fetches in flight, for the FETCH server to wait on (SingleFlight does not expose its promises). */
  /** Woken (per stream) when a have-list arrives, for fetches waiting for a holder. */
  private readonly holderAnnounced = new Notifier<string>()
  private readonly log: Logger
  private readonly fallbackMs: number
  private readonly deadlineMs: number

  constructor (private readonly init: SwarmInit) {
    this.log = init.logger.child({ component: 'swarm' })
    this.fallbackMs = init.fallbackMs ?? EDGE_DEFAULTS.swarmFallbackMs
    this.deadlineMs = init.deadlineMs ?? SWARM_DEADLINE_MS
  }

  get self (): string {
    return this.init.protocols.self
  }

  /**
   * Follows a stream's have-list; returns the unsubscribe. `maxSeq`: the
   * newest segment the stream announced; a Have far past it is dropped
   * (`have:seq-ahead`), and each signer's Haves are rate-limited
   * (`have:rate`): anyone may publish a Have, so neither can fill the table.
   */
  join (streamId: string, maxSeq: () => number = () => Number.MAX_SAFE_INTEGER): () => void {
    const table = new HolderTable()
    const buckets = new BoundedMap<string, { tokens: number, at: number }>(HAVE_MAX_SIGNERS)
    this.tables.set(streamId, table)
    const off = this.init.gossip.subscribe(haveTopic(streamId), codecs.have, (msg, from) => {
      if (from === this.self) return
      if (msg.streamId !== streamId) {
        this.init.onProtocolError?.('invalid', 'have:foreign-stream')
        return
      }
      if (msg.seq > maxSeq() + HAVE_MAX_AHEAD) {
        this.init.onProtocolError?.('invalid', 'have:seq-ahead')
        return
      }
      if (!takeToken(buckets, from, Date.now())) {
        this.init.onProtocolError?.('invalid', 'have:rate')
        return
      }
      table.add(msg.seq, msg.renditions, from)
      this.holderAnnounced.wake(streamId)
    })
    return () => {
      off()
      if (this.tables.get(streamId) === table) this.tables.delete(streamId)
    }
  }

  /** Tells the stream's peers we hold (and serve) these renditions of a segment. */
  async announce (streamId: string, seq: number, renditions: string[]): Promise<void> {
    if (renditions.length === 0) return
    await this.init.gossip.publish(haveTopic(streamId), codecs.have, { streamId, seq, renditions }).catch((err: any) => {
      this.log.debug({ err: err?.message, streamId, seq }, 'have publish failed')
    })
  }

  /** Fetches and verifies one rendition segment from whichever peer can give it; concurrent calls for one segment share one fetch. */
  async fetch (req: SwarmFetch): Promise<Uint8Array> {
    const key = flightKey(req.streamId, req.rendition.name, req.seq)
    return await this.flights.do(key, async () => await this.run(req))
  }

  private async run (req: SwarmFetch): Promise<Uint8Array> {
    const shutdown = this.init.signal
    const start = Date.now()
    const failed = new Set<string>()
    const hinted: string[] = []
    let ingestBusy = false
    let holderAttempts = 0
    let lastErr: Error | undefined
    for (let attempts = 0; attempts < SWARM_MAX_ATTEMPTS && Date.now() - start < this.deadlineMs;) {
      shutdown.throwIfAborted()
      const table = this.tables.get(req.streamId)
      const choice = chooseSource({
        ingest: req.ingest,
        self: this.self,
        holders: [...(table?.holders(req.seq, req.rendition.name) ?? []), ...hinted],
        failed,
        ingestBusy,
        elapsedMs: Date.now() - start,
        holderAttempts
      }, { fallbackMs: this.fallbackMs, random: this.init.random })
      if (choice.kind === 'wait') {
        await this.waitForHolder(req.streamId, choice.ms)
        continue
      }
      attempts++
      const toIngest = choice.peer === req.ingest
      if (!toIngest) holderAttempts++
      const res = await this.attempt(req, choice.peer, choice.acceptBusy, toIngest ? SEGMENT_TIMEOUT_MS : Math.max(HOLDER_SEGMENT_TIMEOUT_MIN_MS, this.fallbackMs + 2000))
      if (res.kind === 'ok') {
        this.init.metrics.sources.inc({ source: !toIngest ? 'edge' : choice.acceptBusy ? 'ingest' : 'ingest_fallback' })
        return res.data
      }
      if (res.kind === 'busy') {
        if (toIngest) ingestBusy = true
        else failed.add(choice.peer)
        // Only the ingest's BUSY names holders worth trying: another peer's hints are claims anyone could make.
        if (toIngest) for (const h of res.holders) if (!hinted.includes(h)) hinted.push(h)
        continue
      }
      lastErr = res.err
      this.log.debug({ peer: choice.peer, key: flightKey(req.streamId, req.rendition.name, req.seq), err: res.err.message }, 'fetch attempt failed')
      if (toIngest && !choice.acceptBusy) {
        // the ingest itself failed: retry it after a pause, like before swarming
        await sleep(SWARM_INGEST_RETRY_STEP_MS * attempts, shutdown)
      } else {
        failed.add(choice.peer)
        table?.remove(req.seq, req.rendition.name, choice.peer)
      }
    }
    throw lastErr ?? new Error(`fetch ${req.rendition.name}/${req.seq}: no source within ${this.deadlineMs} ms`)
  }

  /** Until a have-list for the stream arrives, `ms` passes, or the edge stops. */
  private async waitForHolder (streamId: string, ms: number): Promise<void> {
    const generation = (): number => this.tables.get(streamId)?.generation ?? 0
    const before = generation()
    await this.holderAnnounced.wait(streamId, () => generation() !== before, { timeoutMs: ms, signal: this.init.signal })
  }

  private async attempt (req: SwarmFetch, peer: string, acceptBusy: boolean, timeoutMs: number): Promise<Attempt> {
    const r = req.rendition
    try {
      const res = await this.init.client.segment(peer, { streamId: req.streamId, rendition: r.name, seq: req.seq, acceptBusy, expect: { size: r.size, sha256: r.sha256 } }, { timeoutMs })
      return res.kind === 'busy' ? { kind: 'busy', holders: res.holders } : { kind: 'ok', data: res.data }
    } catch (err: any) {
      return { kind: 'failed', err: err instanceof Error ? err : new Error(String(err)) }
    }
  }

  /**
   * The FETCH handler of an edge: serves rendition segments it holds (from
   * `lookup`, its cache) or is fetching (the requester waits for our copy).
   * INDEX requests are for the ingest (the edge is not the origin).
   */
  async serve (stream: Stream, lookup: (streamId: string, rendition: string, seq: number) => Promise<Uint8Array | undefined>): Promise<void> {
    await serveFetch(this.init, stream, async (req) => {
      if (req.kind === FetchRequest.Kind.INDEX) return { status: 'not_found', error: 'an edge serves segments; ask the stream\'s ingest for its index' }
      let data = await lookup(req.streamId, req.rendition, req.seq).catch((err: Error) => {
        this.log.debug({ err: err.message, streamId: req.streamId }, 'cache read for a peer failed; answering not held')
        return undefined
      })
      const pending = data == null ? this.flights.get(flightKey(req.streamId, req.rendition, req.seq)) : undefined
      if (pending != null) data = await raceTimeout(pending, SERVE_PENDING_WAIT_MS)
      if (data == null) return { status: 'not_found', error: 'not held here' }
      const bytes = data
      return {
        status: 'segment',
        data: bytes,
        sha256: createHash('sha256').update(bytes).digest(),
        onSent: () => {
          this.init.metrics.served.inc()
          this.init.metrics.servedBytes.inc(bytes.byteLength)
        }
      }
    })
  }
}

/** A token bucket per signer ({@link HAVE_RATE_PER_SEC}, {@link HAVE_BURST}): whether `signer` may have one more Have now. */
function takeToken (buckets: BoundedMap<string, { tokens: number, at: number }>, signer: string, now: number): boolean {
  const b = buckets.get(signer) ?? { tokens: HAVE_BURST, at: now }
  const tokens = Math.min(HAVE_BURST, b.tokens + (now - b.at) * HAVE_RATE_PER_SEC / 1000)
  const ok = tokens >= 1
  buckets.set(signer, { tokens: ok ? tokens - 1 : tokens, at: now })
  return ok
}

/** `p`'s value, or undefined when it fails (its own fetch logs that) or takes longer than `ms`. */
async function raceTimeout<T> (p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    // A failed fetch answers "not held": the fetch itself logs and counts its failure.
    return await Promise.race([p.catch(() => undefined), new Promise<undefined>(resolve => { timer = setTimeout(() => { resolve(undefined) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}
