import { codecs, FetchRequest, FetchResponse } from '@diststream/protocol'
import type { SegmentAnnounce, StreamAnnounce } from '@diststream/protocol'
import type { MessageChannel } from '@diststream/protocol'
import type { Stream } from '@libp2p/interface'
import { messageChannel } from './components.js'
import type { PeerComponents } from './components.js'

/**
 * How long one FETCH exchange may take on the server side, request read to
 * last byte written (ms): a 16 MiB segment to a slow edge fits, a peer that
 * stops reading does not hold the stream (and its buffers) longer.
 */
export const FETCH_SERVE_TIMEOUT_MS = 30_000
/**
 * Writing a segment (security review H6): a fixed allowance plus the size at
 * {@link MIN_SERVE_BYTES_PER_SEC}, so a peer that stops reading frees the
 * stream long before {@link FETCH_SERVE_TIMEOUT_MS} for small segments.
 */
export const SERVE_WRITE_GRACE_MS = 5000
/** The slowest reader served: 256 KiB/s (2 Mbit/s) still keeps up with a 1080p rung in real time. */
export const MIN_SERVE_BYTES_PER_SEC = 256 * 1024

/** How long writing a segment of `size` bytes may take. */
export function serveWriteDeadlineMs (size: number): number {
  return SERVE_WRITE_GRACE_MS + Math.ceil(size * 1000 / MIN_SERVE_BYTES_PER_SEC)
}

/** A segment read from disk in chunks (the ingest's store), instead of bytes in memory. */
export interface SegmentBody {
  size: number
  chunks: AsyncIterable<Uint8Array>
  close: () => Promise<void>
}

/** What a FETCH handler answers; {@link serveFetch} writes it on the wire. */
export type FetchReply =
  | { status: 'index', stream: StreamAnnounce, segments: SegmentAnnounce[] }
  /** A segment: header with size and hash, then the bytes. `onSent` runs once the last byte is written. */
  | { status: 'segment', data: Uint8Array | SegmentBody, sha256: Uint8Array, onSent?: () => void }
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
    case 'segment': return { status: FetchResponse.Status.OK, error: '', size: sizeOf(reply.data), sha256: reply.sha256 as Uint8Array<ArrayBuffer>, segments: [] }
    case 'busy': return { status: FetchResponse.Status.BUSY, error: reply.error, size: 0, sha256: EMPTY, segments: [], busy: { holders: reply.holders } }
    case 'not_found': return { status: FetchResponse.Status.NOT_FOUND, error: reply.error, size: 0, sha256: EMPTY, segments: [] }
  }
}

function sizeOf (data: Uint8Array | SegmentBody): number {
  return data instanceof Uint8Array ? data.byteLength : data.size
}

/** Writes a segment's bytes, from memory or chunk by chunk from disk (never more than announced). */
async function writeBody (ch: MessageChannel, data: Uint8Array | SegmentBody, signal: AbortSignal): Promise<void> {
  if (data instanceof Uint8Array) {
    await ch.writeBytes(data, { signal })
    return
  }
  let sent = 0
  for await (const chunk of data.chunks) {
    if (sent + chunk.byteLength > data.size) throw new Error(`segment file grew past its ${data.size} bytes`)
    await ch.writeBytes(chunk, { signal })
    sent += chunk.byteLength
  }
  if (sent !== data.size) throw new Error(`segment file ended at ${sent} of ${data.size} bytes`)
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
  let reply: FetchReply | undefined
  try {
    const req = await ch.read(codecs.fetchRequest, { signal })
    reply = await handler(req, signal)
    const write = reply.status === 'segment' ? AbortSignal.any([signal, AbortSignal.timeout(serveWriteDeadlineMs(sizeOf(reply.data)))]) : signal
    await ch.write(codecs.fetchResponse, fetchResponseOf(reply), { signal: write })
    if (reply.status === 'segment') {
      await writeBody(ch, reply.data, write)
      reply.onSent?.()
    }
    await ch.close({ signal: write })
  } catch (err: any) {
    ch.abort(err)
  } finally {
    if (reply?.status === 'segment' && !(reply.data instanceof Uint8Array)) await reply.data.close()
  }
}
