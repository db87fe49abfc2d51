import { createHash } from 'node:crypto'
import { linear, retry } from '@diststream/util'
import { ARCHIVE_FALLBACK_MS, MAX_CONCURRENT_FETCHES, MAX_FETCHES_PER_STREAM, UNANNOUNCED_FETCH_ATTEMPTS, UNANNOUNCED_RETRY_STEP_MS } from './constants.js'
import { FetchLimits } from './limiter.js'
import { NotFoundError } from './errors.js'
import type { CachedSegment, SegmentCache } from './cache.js'
import type { FetchClient } from './fetch-client.js'
import type { EdgeMetrics } from './metrics.js'
import type { Swarm } from './swarm.js'
import type { ArchiveRead } from './types.js'
import type { Rendition } from '@diststream/protocol'
import type { Logger } from 'pino'

export interface RenditionFetcherInit {
  client: Pick<FetchClient, 'segment'>
  swarm: Pick<Swarm, 'fetch'>
  cache: Pick<SegmentCache, 'put'>
  metrics: Pick<EdgeMetrics, 'fetches' | 'upstream'>
  logger: Logger
  /** The owner's shutdown: retries stop when it fires. */
  signal: AbortSignal
  /** Fetches at once, node-wide and per stream (default MAX_CONCURRENT_FETCHES, MAX_FETCHES_PER_STREAM). */
  limits?: FetchLimits
  /** The bucket (`--archive`), read when the network could not deliver a segment. */
  archive?: ArchiveRead
}

/** The stream a rendition belongs to, and its ingest (the origin). */
export interface StreamSource { id: string, ingest: string }

/**
 * Verified fetch into the cache: one rendition of one segment, from the
 * swarm when the edge heard its announcement (the announced sha256 is the
 * trust anchor), else from the ingest with the hash it sends, tried again
 * twice. Only verified bytes reach the cache.
 */
export class RenditionFetcher {
  readonly #init: RenditionFetcherInit
  readonly #limits: FetchLimits

  constructor (init: RenditionFetcherInit) {
    this.#init = init
    this.#limits = init.limits ?? new FetchLimits(MAX_CONCURRENT_FETCHES, MAX_FETCHES_PER_STREAM)
  }

  /** Fetches one rendition segment into the cache, within the node's and the stream's fetch limits. */
  async fetch (s: StreamSource, seq: number, name: string, announced?: Rendition): Promise<CachedSegment> {
    return await this.#limits.run(s.id, async () => {
      const network = this.#fetch(s, seq, name, announced)
      if (this.#init.archive == null) return await network
      return await orArchive(network, async () => await this.#fromArchive(s, seq, name, announced), ARCHIVE_FALLBACK_MS)
    }, this.#init.signal)
  }

  /**
   * The segment from the bucket, when no peer (ingest or edge) delivered it:
   * checked against the announced (INDEX or SegmentAnnounce) sha256 when the
   * edge has one; undefined when the bucket has none or its bytes do not match.
   */
  async #fromArchive (s: StreamSource, seq: number, name: string, announced?: Rendition): Promise<CachedSegment | undefined> {
    const { cache, metrics, logger } = this.#init
    if (this.#init.signal.aborted) return undefined
    let data: Uint8Array | undefined
    try {
      data = await this.#init.archive!(s.id, name, seq, this.#init.signal)
    } catch (err: any) {
      logger.warn({ streamId: s.id, seq, rendition: name, err: err?.message }, 'archive read failed')
    }
    if (data == null) { metrics.fetches.inc({ outcome: 'archive_miss' }); return undefined }
    const hash = createHash('sha256').update(data).digest()
    if (announced != null && announced.sha256.byteLength === 32 && !hash.equals(announced.sha256)) {
      metrics.fetches.inc({ outcome: 'archive_mismatch' })
      logger.warn({ streamId: s.id, seq, rendition: name }, 'archived segment does not match its announced sha256: not served')
      return undefined
    }
    metrics.fetches.inc({ outcome: 'archive' })
    return await cache.put(s.id, name, seq, data, hash.toString('hex'))
  }

  async #fetch (s: StreamSource, seq: number, name: string, announced?: Rendition): Promise<CachedSegment> {
    const { cache, metrics } = this.#init
    // Announced (hash known): from any holder, ingest or edge (swarming), verified against that hash.
    if (announced != null && announced.sha256.byteLength === 32) {
      metrics.upstream.inc()
      try {
        const data = await this.#init.swarm.fetch({ streamId: s.id, ingest: s.ingest, seq, rendition: announced })
        const entry = await cache.put(s.id, name, seq, data, Buffer.from(announced.sha256).toString('hex'))
        metrics.fetches.inc({ outcome: 'ok' })
        return entry
      } catch (err) {
        metrics.fetches.inc({ outcome: 'error' })
        throw err
      }
    }
    // Not announced to us (a segment asked for before or beyond what we heard): from the ingest, with its hash.
    return await retry(async () => {
      try {
        metrics.upstream.inc()
        const res = await this.#init.client.segment(s.ingest, { streamId: s.id, rendition: name, seq, ...(announced != null ? { expect: { size: announced.size, sha256: announced.sha256 } } : {}) }, { signal: this.#init.signal })
        if (res.kind === 'busy') throw new Error(`fetch ${name}/${seq}: ${res.error}`)
        const entry = await cache.put(s.id, name, seq, res.data, Buffer.from(res.sha256).toString('hex'))
        metrics.fetches.inc({ outcome: 'ok' })
        return entry
      } catch (err) {
        metrics.fetches.inc({ outcome: 'error' })
        throw err
      }
    }, {
      attempts: UNANNOUNCED_FETCH_ATTEMPTS,
      delayMs: linear(UNANNOUNCED_RETRY_STEP_MS),
      signal: this.#init.signal,
      retryable: err => !(err instanceof NotFoundError),
      onRetry: (err: any, n) => { this.#init.logger.debug({ streamId: s.id, seq, rendition: name, err: err?.message, retry: n }, 'segment fetch from the ingest failed; trying again') }
    })
  }
}

/**
 * The network's copy, or the archive's: the archive is read once the network
 * fails or has not delivered within `afterMs`, and its copy (when it has
 * one) wins; with none, the network's outcome stands. `fromArchive` never
 * throws (undefined: no copy).
 */
export async function orArchive<T> (network: Promise<T>, fromArchive: () => Promise<T | undefined>, afterMs: number): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    let settled = false
    let failure: { err: unknown } | undefined
    let archived: Promise<T | undefined> | undefined
    const finish = (fn: () => void): void => { if (!settled) { settled = true; clearTimeout(timer); fn() } }
    const tryArchive = (): void => {
      archived ??= fromArchive()
      void archived.then((entry) => {
        if (entry != null) finish(() => { resolve(entry) })
        else if (failure != null) finish(() => { reject(failure!.err) })
      })
    }
    const timer = setTimeout(tryArchive, afterMs)
    network.then(
      (entry) => { finish(() => { resolve(entry) }) },
      (err: unknown) => { failure = { err }; tryArchive() }
    )
  })
}
