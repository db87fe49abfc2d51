import { createHash } from 'node:crypto'
import { codecs, FetchRequest, FetchResponse, PROTOCOL_FETCH, verifyStreamOwner } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import { DIAL_TIMEOUT_MS, INDEX_TIMEOUT_MS, SEGMENT_TIMEOUT_MS } from './constants.js'
import { NotFoundError } from './errors.js'
import type { PeerComponents } from '@diststream/p2p'
import type { MessageChannel, SegmentAnnounce, StreamAnnounce } from '@diststream/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { Logger } from 'pino'

/** What the FETCH client needs: the protocols to dial and the protocol-error hook. */
export type FetchClientComponents = Pick<PeerComponents, 'protocols' | 'onProtocolError'>

/** An INDEX answer: the stream's announcement (when the peer is its ingest) and its recent segments. */
export interface IndexAnswer {
  stream?: StreamAnnounce
  segments: SegmentAnnounce[]
}

export interface SegmentQuery {
  streamId: string
  rendition: string
  seq: number
  /** Swarming: the peer may answer BUSY (naming holders) instead of serving. */
  acceptBusy?: boolean
  /** What the bytes must be (the announced size and sha256); without it, the hash the peer sends is checked. */
  expect?: { size: number, sha256: Uint8Array }
}

export type SegmentAnswer =
  | { kind: 'ok', data: Uint8Array, sha256: Uint8Array }
  | { kind: 'busy', holders: string[], error: string }

export interface SegmentOptions extends AbortOptions {
  /** The whole exchange after the dial (ms). Default {@link SEGMENT_TIMEOUT_MS}. */
  timeoutMs?: number
}

/**
 * The only code that dials `/diststream/fetch` (PROTOCOL.md §5.4): INDEX and
 * SEGMENT requests, each with a named timeout, cut short by the owner's
 * shutdown signal and the caller's. One idiom for the channel: a complete
 * exchange closes it, anything else aborts it. Segment bytes are checked
 * against the expected (else the sent) sha256 before they are returned.
 */
export class FetchClient {
  readonly #components: FetchClientComponents
  readonly #shutdown: AbortSignal
  readonly #log: Logger

  constructor (components: FetchClientComponents, opts: { signal: AbortSignal, logger: Logger }) {
    this.#components = components
    this.#shutdown = opts.signal
    this.#log = opts.logger
  }

  /**
   * Asks `peer` for a stream's index. Throws when it does not answer OK, or
   * when the announcement in it is not for `streamId` or not owned by `peer`
   * (its salt does not derive the id from `peer`: counted as
   * `fetch:index-foreign-stream`): a peer can only speak for its own streams.
   */
  async index (peer: string, streamId: string, opts: AbortOptions = {}): Promise<IndexAnswer> {
    return await this.#exchange(peer, INDEX_TIMEOUT_MS, opts, async (ch, signal) => {
      await ch.write(codecs.fetchRequest, { kind: FetchRequest.Kind.INDEX, streamId, rendition: '', seq: 0 }, { signal })
      const res = await ch.read(codecs.fetchResponse, { signal })
      if (res.status !== FetchResponse.Status.OK) throw new Error(`index: ${res.error}`)
      if (res.stream != null && (res.stream.streamId !== streamId || !verifyStreamOwner(streamId, peer, res.stream.salt))) {
        this.#components.onProtocolError?.('invalid', 'fetch:index-foreign-stream')
        throw new Error(`index: ${peer} does not own stream ${streamId}`)
      }
      return { ...(res.stream != null ? { stream: res.stream } : {}), segments: res.segments }
    })
  }

  /**
   * Asks `peer` for one rendition segment: its verified bytes, or BUSY with
   * the holders it names. NOT_FOUND throws {@link NotFoundError}; any other
   * failure (wrong size, wrong bytes, an INDEX answer) throws an Error.
   */
  async segment (peer: string, q: SegmentQuery, opts: SegmentOptions = {}): Promise<SegmentAnswer> {
    const what = `${q.rendition}/${q.seq} from ${peer.slice(-8)}`
    return await this.#exchange(peer, opts.timeoutMs ?? SEGMENT_TIMEOUT_MS, opts, async (ch, signal) => {
      await ch.write(codecs.fetchRequest, { kind: FetchRequest.Kind.SEGMENT, streamId: q.streamId, rendition: q.rendition, seq: q.seq, acceptBusy: q.acceptBusy === true ? true : undefined }, { signal })
      const res = await ch.read(codecs.fetchResponse, { signal })
      if (res.status === FetchResponse.Status.BUSY) return { kind: 'busy', holders: res.busy?.holders ?? [], error: res.error }
      if (res.status === FetchResponse.Status.NOT_FOUND) throw new NotFoundError(`fetch ${what}: ${res.error}`)
      if (res.status !== FetchResponse.Status.OK) throw new Error(`fetch ${what}: ${res.error}`)
      if (res.stream != null) throw new Error(`fetch ${what}: an INDEX answer to a SEGMENT request`)
      if (q.expect != null && res.size !== q.expect.size) throw new Error(`fetch ${what}: size ${res.size}, announced ${q.expect.size}`)
      const expected = Buffer.from(q.expect?.sha256 ?? res.sha256)
      if (expected.byteLength !== 32) throw new Error(`fetch ${what}: no sha256`)
      const data = await ch.readBytes(res.size, { signal })
      if (!createHash('sha256').update(data).digest().equals(expected)) throw new Error(`fetch ${what}: hash mismatch`)
      return { kind: 'ok', data, sha256: expected }
    })
  }

  /** Dials, runs one exchange under `timeoutMs`, then closes (complete) or aborts (anything else). */
  async #exchange<T> (peer: string, timeoutMs: number, opts: AbortOptions, run: (ch: MessageChannel, signal: AbortSignal) => Promise<T>): Promise<T> {
    const outer = opts.signal != null ? [this.#shutdown, opts.signal] : [this.#shutdown]
    const stream = await this.#components.protocols.dial(peer, PROTOCOL_FETCH, { signal: AbortSignal.any([...outer, AbortSignal.timeout(DIAL_TIMEOUT_MS)]) })
    const ch = messageChannel(this.#components, stream, 'fetch')
    const signal = AbortSignal.any([...outer, AbortSignal.timeout(timeoutMs)])
    let result: T
    try {
      result = await run(ch, signal)
    } catch (err: any) {
      ch.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
    // The answer is complete; a failed half-close only means the peer went away meanwhile.
    await ch.close().catch((err: any) => { this.#log.debug({ peer, err: err?.message }, 'fetch channel close failed after a complete answer') })
    return result
  }
}
