import { FetchRequest, MAX_INDEX_SEGMENTS } from '@diststream/protocol'
import { serveFetch } from '@diststream/p2p'
import { isAnnounceable } from '../announcer.js'
import { fetchRefusedMetric, fetchServeMetrics } from '../metrics.js'
import { toWire } from '../session/renditions.js'
import { ServeLimits } from '../upload-limit.js'
import type { UploadLimiter } from '../upload-limit.js'
import type { FetchReply, PeerComponents, Protocols } from '@diststream/p2p'
import type { StreamAnnounce } from '@diststream/protocol'
import type { Store, StreamRecord } from '@diststream/store'
import type { Stream } from '@libp2p/interface'
import type { Registry } from 'prom-client'

export interface FetchServerDeps {
  components: Pick<PeerComponents, 'onProtocolError'>
  protocols: Pick<Protocols, 'self'>
  store: Store
  registry: Registry
  /** Keeps the upload per rendition segment bounded (swarming edges get BUSY past it). */
  uploads: UploadLimiter
  /** Serves in flight, globally and per peer (default: {@link ServeLimits}' named limits). */
  limits?: ServeLimits
  /** Segments in a live stream's INDEX. */
  indexWindow: number
  /** The stream's announce, as in an INDEX answer. */
  streamAnnounce: (s: StreamRecord) => StreamAnnounce
}

/**
 * What one serve reads from disk at a time (review H6): a serve that waits on a slow reader
 * holds about two of these (one queued on the stream, one read ahead), so 64 KiB keeps
 * MAX_CONCURRENT_SERVES stalled readers near 32 MiB; the data frames are smaller than
 * MAX_CHUNK_BYTES allows, at no cost on loopback or a LAN.
 */
export const SERVE_CHUNK_BYTES = 64 * 1024

/**
 * The ingest's side of `/diststream/fetch` (PROTOCOL.md §5.4), on the shared
 * {@link serveFetch}: a stream's INDEX, or one rendition segment, or BUSY
 * with holders once enough copies are out.
 */
export class FetchServer {
  readonly #deps: FetchServerDeps
  readonly #served: ReturnType<typeof fetchServeMetrics>
  readonly #limits: ServeLimits
  readonly #refused: ReturnType<typeof fetchRefusedMetric>

  constructor (deps: FetchServerDeps) {
    this.#deps = deps
    this.#limits = deps.limits ?? new ServeLimits()
    this.#refused = fetchRefusedMetric(deps.registry)
    this.#served = fetchServeMetrics(deps.registry)
  }

  async serve (stream: Stream, peer: string): Promise<void> {
    await serveFetch(this.#deps.components, stream, async (req) => await this.answer(req, peer))
  }

  private async answer (req: FetchRequest, peer: string): Promise<FetchReply> {
    const { store, protocols } = this.#deps
    const rec = await store.streams.get(req.streamId)
    if (rec == null) return { status: 'not_found', error: 'unknown stream' }
    // A stream from before self-certifying ids has no salt: no edge would accept it (PROTOCOL.md §9).
    if (!isAnnounceable(rec)) return { status: 'not_found', error: 'stream not announced (made before self-certifying ids: re-create it)' }
    if (req.kind === FetchRequest.Kind.INDEX) {
      // A VOD's index is every segment (at most MAX_INDEX_SEGMENTS, enforced when it is made).
      const segs = (await store.segments.recent(rec.id, rec.vod === true ? MAX_INDEX_SEGMENTS : Math.min(this.#deps.indexWindow, MAX_INDEX_SEGMENTS))).filter(x => x.pending !== true)
      return {
        status: 'index',
        stream: this.#deps.streamAnnounce(rec),
        segments: segs.map(s => ({ streamId: s.streamId, seq: s.seq, durationMs: s.durationMs, pdtMs: s.pdtMs, discontinuity: s.discontinuity, renditions: s.renditions.map(toWire), ...(s.mediaTime != null ? { mediaTime: s.mediaTime } : {}) }))
      }
    }
    const seg = await store.segments.get(rec.id, req.seq)
    const r = seg?.renditions.find(x => x.name === req.rendition)
    if (r == null) return { status: 'not_found', error: 'no such segment' }
    // Everything that needs no bytes is decided before the file is opened (review H6).
    const key = `${rec.id}/${r.name}/${req.seq}`
    const self = peer === protocols.self
    const full = self ? undefined : this.#limits.acquire(peer)
    if (full != null) {
      this.#refused.inc({ why: full })
      this.#served.busy.inc()
      return { status: 'busy', error: full === 'peer_limit' ? 'too many fetches from you at once' : 'serving at capacity; fetch from a holder', holders: this.#deps.uploads.holders(key) }
    }
    const release = once(() => { if (!self) this.#limits.release(peer) })
    const decision = this.#deps.uploads.decide(key, peer, { acceptBusy: req.acceptBusy === true, self })
    if (!decision.serve) {
      release()
      // Swarming: enough edges have (or are fetching) this one; fetch from them.
      this.#served.busy.inc()
      return { status: 'busy', error: 'served enough copies; fetch from a holder', holders: decision.holders }
    }
    let file
    try {
      file = await store.files.open(rec.id, r.name, req.seq, SERVE_CHUNK_BYTES)
    } catch (err) {
      release()
      throw err
    }
    if (file == null || file.size !== r.size) {
      release()
      await file?.close()
      if (file != null) this.#refused.inc({ why: 'size_mismatch' })
      return { status: 'not_found', error: 'no such segment' }
    }
    const bytes = { size: file.size, chunks: file.chunks, close: async () => { release(); await file.close() } }
    return {
      status: 'segment',
      data: bytes,
      sha256: Buffer.from(r.sha256, 'hex'),
      onSent: () => {
        if (peer === protocols.self) return
        this.#served.copies.inc()
        this.#served.bytes.inc(bytes.size)
      }
    }
  }
}

/** `fn` at most once. */
function once (fn: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    fn()
  }
}
