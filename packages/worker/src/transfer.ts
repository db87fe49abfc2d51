import type { MessageChannel } from '@diststream/protocol'

/**
 * Receiving the segment (security review H4: an ingest that trickles it would hold the slot
 * for the whole exchange): a fixed allowance for the stream to get going, plus the declared
 * size at {@link MIN_RECEIVE_BYTES_PER_SEC}.
 */
export const RECEIVE_GRACE_MS = 3000
/**
 * The slowest segment transfer a worker waits for: 512 KiB/s (4 Mbit/s) moves a 2 s 1080p
 * source segment (~1.5 MiB) in 3 s; an ingest on a slower uplink cannot feed a live ladder anyway.
 */
export const MIN_RECEIVE_BYTES_PER_SEC = 512 * 1024
/** Longest silence while receiving the segment: an honest ingest writes it in one go. */
export const RECEIVE_IDLE_MS = 5000

/** How long receiving a segment of `size` bytes may take at most. */
export function receiveDeadlineMs (size: number): number {
  return RECEIVE_GRACE_MS + Math.ceil(size * 1000 / MIN_RECEIVE_BYTES_PER_SEC)
}

/**
 * Reads a segment of `size` bytes within {@link receiveDeadlineMs}, with no silence over
 * {@link RECEIVE_IDLE_MS}: a trickling ingest loses the slot. The channel counts it as a
 * protocol `timeout`; `onStall` is told too (the worker's `stalled_transfer` refusals).
 */
export async function receiveSegment (ch: MessageChannel, size: number, signal: AbortSignal, onStall: () => void): Promise<Uint8Array> {
  const idle = new AbortController()
  const stall = (): void => { idle.abort(new DOMException(`no segment bytes for ${RECEIVE_IDLE_MS} ms`, 'TimeoutError')) }
  let timer = setTimeout(stall, RECEIVE_IDLE_MS)
  const progress = (): void => { clearTimeout(timer); timer = setTimeout(stall, RECEIVE_IDLE_MS) }
  ch.stream.addEventListener('message', progress)
  const deadline = AbortSignal.timeout(receiveDeadlineMs(size))
  try {
    return await ch.readBytes(size, { signal: AbortSignal.any([signal, deadline, idle.signal]) })
  } catch (err) {
    if (deadline.aborted || idle.signal.aborted) onStall()
    throw err
  } finally {
    clearTimeout(timer)
    ch.stream.removeEventListener('message', progress)
  }
}
