import { createHash } from 'node:crypto'
import { codecs, FetchRequest, FetchResponse, haveTopic, PROTOCOL_FETCH } from '@diststream/protocol'
import { messageChannel, serveFetch } from '@diststream/p2p'
import { Counter } from 'prom-client'
import { chooseSource, HolderTable } from './holders.js'
import type { PeerComponents } from '@diststream/p2p'
import type { Rendition } from '@diststream/protocol'
import type { Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface SwarmInit extends PeerComponents {
  logger: Logger
  registry: Registry
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

/**
 * Edge swarming: fetch a rendition segment from any peer that holds it,
 * verified against the ingest-signed SegmentAnnounce; announce what we hold
 * (have-lists on /diststream/have/<id>/1.0.0); serve what we hold over
 * /diststream/fetch/1.0.0, including segments still being fetched (the
 * requester waits for our copy rather than going to the ingest).
 */
export class Swarm {
  private readonly tables = new Map<string, HolderTable>()
  private readonly inflight = new Map<string, Promise<Uint8Array>>()
  private readonly log: Logger
  private readonly fallbackMs: number
  private readonly deadlineMs: number
  private readonly metrics: { sources: Counter<'source'>, served: Counter, servedBytes: Counter }
  private readonly waiters = new Set<() => void>()

  constructor (private readonly init: SwarmInit) {
    this.log = init.logger.child({ component: 'swarm' })
    this.fallbackMs = init.fallbackMs ?? 3000
    this.deadlineMs = init.deadlineMs ?? 30_000
    const counter = (name: string, help: string, labelNames: string[] = []): Counter<any> =>
      (init.registry.getSingleMetric(name) as Counter<any> | undefined) ?? new Counter({ name, help, labelNames, registers: [init.registry] })
    this.metrics = {
      sources: counter('diststream_edge_fetch_sources_total', 'Rendition segments fetched, by source: ingest, edge (another holder), or ingest_fallback (holders failed)', ['source']),
      served: counter('diststream_fetch_served_total', 'Rendition segments served to other peers over /diststream/fetch'),
      servedBytes: counter('diststream_fetch_served_bytes_total', 'Rendition bytes served to other peers over /diststream/fetch')
    }
  }

  get self (): string {
    return this.init.protocols.self
  }

  /** Follows a stream's have-list; returns the unsubscribe. */
  join (streamId: string): () => void {
    const table = new HolderTable()
    this.tables.set(streamId, table)
    const off = this.init.gossip.subscribe(haveTopic(streamId), codecs.have, (msg, from) => {
      if (from === this.self) return
      if (msg.streamId !== streamId) {
        this.init.onProtocolError?.('invalid', 'have:foreign-stream')
        return
      }
      table.add(msg.seq, msg.renditions, from)
      for (const wake of this.waiters) wake()
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

  /** Fetches and verifies one rendition segment from whichever peer can give it. */
  async fetch (req: SwarmFetch): Promise<Uint8Array> {
    const key = `${req.streamId}/${req.rendition.name}/${req.seq}`
    const running = this.inflight.get(key)
    if (running != null) return await running
    const p = this.run(req)
    this.inflight.set(key, p)
    p.catch(() => {}).finally(() => { if (this.inflight.get(key) === p) this.inflight.delete(key) })
    return await p
  }

  private async run (req: SwarmFetch): Promise<Uint8Array> {
    const start = Date.now()
    const failed = new Set<string>()
    const hinted: string[] = []
    let ingestBusy = false
    let lastErr: Error | undefined
    for (let attempts = 0; attempts < 12 && Date.now() - start < this.deadlineMs;) {
      const table = this.tables.get(req.streamId)
      const choice = chooseSource({
        ingest: req.ingest,
        self: this.self,
        holders: [...(table?.holders(req.seq, req.rendition.name) ?? []), ...hinted],
        failed,
        ingestBusy,
        elapsedMs: Date.now() - start
      }, { fallbackMs: this.fallbackMs, random: this.init.random })
      if (choice.kind === 'wait') {
        await this.waitForHolder(choice.ms)
        continue
      }
      attempts++
      const toIngest = choice.peer === req.ingest
      const res = await this.attempt(req, choice.peer, choice.acceptBusy, toIngest ? 20_000 : Math.max(2000, this.fallbackMs + 2000))
      if (res.kind === 'ok') {
        this.metrics.sources.inc({ source: !toIngest ? 'edge' : choice.acceptBusy ? 'ingest' : 'ingest_fallback' })
        return res.data
      }
      if (res.kind === 'busy') {
        if (toIngest) ingestBusy = true
        else failed.add(choice.peer)
        for (const h of res.holders) if (!hinted.includes(h)) hinted.push(h)
        continue
      }
      lastErr = res.err
      this.log.debug({ peer: choice.peer, key: `${req.streamId}/${req.rendition.name}/${req.seq}`, err: res.err.message }, 'fetch attempt failed')
      if (toIngest && !choice.acceptBusy) {
        // the ingest itself failed: retry it after a pause, like before swarming
        await new Promise(resolve => setTimeout(resolve, 200 * attempts))
      } else {
        failed.add(choice.peer)
        table?.remove(req.seq, req.rendition.name, choice.peer)
      }
    }
    throw lastErr ?? new Error(`fetch ${req.rendition.name}/${req.seq}: no source within ${this.deadlineMs} ms`)
  }

  private async waitForHolder (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.waiters.add(done)
    })
  }

  private async attempt (req: SwarmFetch, peer: string, acceptBusy: boolean, timeoutMs: number): Promise<Attempt> {
    const r = req.rendition
    const what = `${r.name}/${req.seq} from ${peer.slice(-8)}`
    try {
      const ch = messageChannel(this.init, await this.init.protocols.dial(peer, PROTOCOL_FETCH, { signal: AbortSignal.timeout(5000) }), 'fetch')
      const signal = AbortSignal.timeout(timeoutMs)
      try {
        await ch.write(codecs.fetchRequest, { kind: FetchRequest.Kind.SEGMENT, streamId: req.streamId, rendition: r.name, seq: req.seq, acceptBusy: acceptBusy ? true : undefined }, { signal })
        const res = await ch.read(codecs.fetchResponse, { signal })
        if (res.status === FetchResponse.Status.BUSY) {
          await ch.close().catch(() => {})
          return { kind: 'busy', holders: res.busy?.holders ?? [] }
        }
        if (res.status !== FetchResponse.Status.OK) throw new Error(`fetch ${what}: ${res.error}`)
        if (res.stream != null) throw new Error(`fetch ${what}: an INDEX answer to a SEGMENT request`)
        if (res.size !== r.size) throw new Error(`fetch ${what}: size ${res.size}, announced ${r.size}`)
        const data = await ch.readBytes(res.size, { signal })
        if (!createHash('sha256').update(data).digest().equals(r.sha256)) throw new Error(`fetch ${what}: hash mismatch`)
        await ch.close().catch(() => {})
        return { kind: 'ok', data }
      } catch (err: any) {
        ch.abort(err)
        throw err
      }
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
      const pending = data == null ? this.inflight.get(`${req.streamId}/${req.rendition}/${req.seq}`) : undefined
      if (pending != null) data = await raceTimeout(pending, 10_000)
      if (data == null) return { status: 'not_found', error: 'not held here' }
      const bytes = data
      return {
        status: 'segment',
        data: bytes,
        sha256: createHash('sha256').update(bytes).digest(),
        onSent: () => {
          this.metrics.served.inc()
          this.metrics.servedBytes.inc(bytes.byteLength)
        }
      }
    })
  }
}

async function raceTimeout<T> (p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p.catch(() => undefined), new Promise<undefined>(resolve => { timer = setTimeout(() => { resolve(undefined) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}
