import { codecs, FetchRequest, FetchResponse } from '@diststream/protocol'
import type { SegmentAnnounce, StreamAnnounce } from '@diststream/protocol'
import type { Stream } from '@libp2p/interface'
import { messageChannel } from './components.js'
import type { PeerComponents } from './components.js'

/**
 * How long one FETCH exchange may take on the server side, request read to
 * last byte written (ms): a 16 MiB segment to a slow edge fits, a peer that
 * stops reading does not hold the stream (and its buffers) longer.
 */
export const FETCH_SERVE_TIMEOUT_MS = 30_000

/** What a FETCH handler answers; {@link serveFetch} writes it on the wire. */
export type FetchReply =
  | { status: 'index', stream: StreamAnnounce, segments: SegmentAnnounce[] }
  /** A segment: header with size and hash, then the bytes. `onSent` runs once the last byte is written. */
  | { status: 'segment', data: Uint8Array, sha256: Uint8Array, onSent?: () => void }
  /** Swarming: enough copies are out; the requester should fetch from these holders. */
  | { status: 'busy', holders: string[], error: string }
  | { status: 'not_found', error: string }

/** Answers one FETCH request; `signal` fires when the exchange times out. */
export type FetchHandler = (req: FetchRequest, signal: AbortSignal) => Promise<FetchReply>

const EMPTY = new Uint8Array(0)

/** The wire header of a reply (the bytes of a segment follow it). */
export function fetchResponseOf (reply: FetchReply): FetchResponse {
  switch (reply.status) {
    case 'index': return { status: FetchResponse.Status.OK, error: '', size: 0, sha256: EMPTY, stream: reply.stream, segments: reply.segments }
    case 'segment': return { status: FetchResponse.Status.OK, error: '', size: reply.data.byteLength, sha256: reply.sha256 as Uint8Array<ArrayBuffer>, segments: [] }
    case 'busy': return { status: FetchResponse.Status.BUSY, error: reply.error, size: 0, sha256: EMPTY, segments: [], busy: { holders: reply.holders } }
    case 'not_found': return { status: FetchResponse.Status.NOT_FOUND, error: reply.error, size: 0, sha256: EMPTY, segments: [] }
  }
}

/**
 * The server half of `/diststream/fetch` (PROTOCOL.md §5.4), shared by the
 * ingest (the origin) and every edge (swarming): read one bounded request,
 * let `handler` decide, write the answer (and the segment's bytes), close.
 * Malformed or late input is counted through the components' hook and the
 * stream aborted; a handler that throws aborts the stream with its error.
 */
export async function serveFetch (components: Pick<PeerComponents, 'onProtocolError'>, stream: Stream, handler: FetchHandler, opts: { timeoutMs?: number } = {}): Promise<void> {
  const ch = messageChannel(components, stream, 'fetch')
  const signal = AbortSignal.timeout(opts.timeoutMs ?? FETCH_SERVE_TIMEOUT_MS)
  try {
    const req = await ch.read(codecs.fetchRequest, { signal })
    const reply = await handler(req, signal)
    await ch.write(codecs.fetchResponse, fetchResponseOf(reply), { signal })
    if (reply.status === 'segment') {
      await ch.writeBytes(reply.data, { signal })
      reply.onSent?.()
    }
    await ch.close({ signal })
  } catch (err: any) {
    ch.abort(err)
  }
}
