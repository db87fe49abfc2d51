import { setMaxListeners } from 'node:events'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError, isProtocolError } from './errors.js'
import { MAX_CHUNK_BYTES, MAX_CONTROL_BYTES, MAX_SEGMENT_BYTES } from './limits.js'
import type { MessageCodec } from './codecs.js'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

/**
 * Default read buffer: yamux lets a peer have up to 16 MiB (its max stream
 * window) in flight, all of which may land while the channel is paused, plus
 * slack for a control frame.
 */
export const DEFAULT_READ_BUFFER_BYTES = 16 * 1024 * 1024 + 2 * MAX_CONTROL_BYTES

export interface MessageChannelOptions {
  /** Largest accepted frame, control or data. Default MAX_CONTROL_BYTES. */
  maxDataLength?: number
  /** Bytes buffered from the peer before the stream is aborted. Default DEFAULT_READ_BUFFER_BYTES. */
  maxBufferSize?: number
  /**
   * Pause the stream while no read is in progress, so the muxer stops granting
   * window to the peer (read backpressure). Default true.
   */
  pauseWhenIdle?: boolean
  /**
   * Called with every ProtocolError a call on this channel throws (the peer
   * sent something malformed, too large, ended early, or missed a deadline),
   * so a node can count them in one place.
   */
  onProtocolError?: (err: ProtocolError) => void
  /** Called once per typed message read (`in`) or written (`out`): the node's message counters. */
  onMessage?: (direction: 'in' | 'out') => void
}

/**
 * An AbortSignal that fires after `ms`, or when `signal` does. Its reason is a
 * DOMException named 'TimeoutError' on timeout, which MessageChannel maps to
 * ProtocolError('timeout').
 */
export function withTimeout (ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms)
  const out = signal == null ? timeout : AbortSignal.any([timeout, signal])
  setMaxListeners(Infinity, out)
  return out
}

/** An error named as lpStream's own, so {@link MessageChannel} maps it the same way. */
function named (name: string, message: string): Error {
  const err = new Error(message)
  err.name = name
  return err
}

/**
 * The frame length decoder. lpStream's default keeps reading an unterminated
 * varint byte by byte for as long as the peer sends continuation bytes (its
 * length-of-length check runs only once a varint completes), so a prefix of
 * 0xff bytes would hold the stream until the deadline. This one refuses a
 * prefix as soon as it is longer than one for `maxDataLength` can be
 * (`too_large`), and a non-minimal one (`malformed`, PROTOCOL.md §2).
 */
export function boundedLengthDecoder (maxDataLength: number): (data: Uint8ArrayList) => number {
  let maxLengthLength = 1
  while (maxDataLength >= 2 ** (7 * maxLengthLength)) maxLengthLength++
  return (data: Uint8ArrayList): number => {
    let value = 0
    for (let i = 0; i < data.byteLength; i++) {
      if (i >= maxLengthLength) throw named('InvalidDataLengthLengthError', `frame length prefix longer than ${maxLengthLength} bytes`)
      const b = data.get(i)
      value += (b & 0x7f) * 2 ** (7 * i)
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw named('InvalidMessageLengthError', 'frame length prefix is not minimally encoded')
        return value
      }
    }
    // Incomplete: lpStream reads one more byte and asks again.
    throw new RangeError('incomplete varint')
  }
}

/**
 * Typed, length-prefixed messages and chunked bytes over one libp2p stream.
 *
 * One read and one write may be in flight at a time (a read concurrently with a
 * write is fine). Every failure caused by the peer or the deadline is a
 * ProtocolError; a local abort rethrows the abort's error unchanged.
 */
export class MessageChannel {
  readonly stream: Stream
  private readonly lp: LengthPrefixedStream<Stream>
  private readonly pauseWhenIdle: boolean
  private reads = 0
  private readonly onProtocolError?: (err: ProtocolError) => void
  private readonly onMessage?: (direction: 'in' | 'out') => void

  constructor (stream: Stream, opts: MessageChannelOptions = {}) {
    this.stream = stream
    this.onProtocolError = opts.onProtocolError
    this.onMessage = opts.onMessage
    const maxBufferSize = opts.maxBufferSize ?? DEFAULT_READ_BUFFER_BYTES
    const maxDataLength = opts.maxDataLength ?? MAX_CONTROL_BYTES
    this.lp = lpStream(stream, { maxDataLength, maxBufferSize, lengthDecoder: boundedLengthDecoder(maxDataLength) })
    this.pauseWhenIdle = opts.pauseWhenIdle ?? true
    if (this.pauseWhenIdle) {
      if (stream.maxReadBufferLength < maxBufferSize) stream.maxReadBufferLength = maxBufferSize
      this.pause()
    }
  }

  /** Reads one frame and decodes it with `codec` (which validates it). */
  async read<T>(codec: MessageCodec<T>, opts?: AbortOptions): Promise<T> {
    return await this.reported(async () => {
      const frame = await this.reading(async () => await this.readFrame(opts), opts)
      this.onMessage?.('in')
      return codec.decode(frame)
    })
  }

  /** Encodes (and validates) `msg` and writes it as one frame; waits for drain. */
  async write<T>(codec: MessageCodec<T>, msg: T, opts?: AbortOptions): Promise<void> {
    const buf = codec.encode(msg)
    await this.reported(async () => {
      try {
        await this.lp.write(buf, opts)
      } catch (err) {
        throw this.map(err, opts)
      }
      this.onMessage?.('out')
    })
  }

  /** Writes `data` as frames of at most MAX_CHUNK_BYTES, awaiting drain between frames. */
  async writeBytes (data: Uint8Array | Uint8ArrayList, opts?: AbortOptions): Promise<void> {
    if (data.byteLength > MAX_SEGMENT_BYTES) {
      throw new ProtocolError('too_large', `refusing to send ${data.byteLength} bytes, limit ${MAX_SEGMENT_BYTES}`)
    }
    await this.reported(async () => {
      try {
        for (let offset = 0; offset < data.byteLength; offset += MAX_CHUNK_BYTES) {
          const end = Math.min(offset + MAX_CHUNK_BYTES, data.byteLength)
          const frame = data instanceof Uint8Array ? data.subarray(offset, end) : data.sublist(offset, end)
          await this.lp.write(frame, opts)
        }
      } catch (err) {
        throw this.map(err, opts)
      }
    })
  }

  /**
   * Reads frames until exactly `size` bytes have arrived and returns them.
   * A frame running past `size` is `malformed`, an empty frame too; a frame
   * over MAX_CHUNK_BYTES or a `size` over MAX_SEGMENT_BYTES is `too_large`.
   */
  async readBytes (size: number, opts?: AbortOptions): Promise<Uint8Array> {
    const list = new Uint8ArrayList()
    await this.reported(async () => { await this.consumeBytes(size, frame => { list.append(frame) }, opts) })
    return list.subarray()
  }

  /** Like readBytes but drops the bytes: for a receiver that answers without using a body it must still drain. */
  async discardBytes (size: number, opts?: AbortOptions): Promise<void> {
    await this.reported(async () => { await this.consumeBytes(size, () => {}, opts) })
  }

  /** Closes our writable end once queued data is sent (half-close; the peer may still write). */
  async close (opts?: AbortOptions): Promise<void> {
    try {
      await this.stream.close(opts)
    } catch (err) {
      throw this.map(err, opts)
    }
  }

  /** Resets the stream at once, discarding unsent and unread data. The peer sees StreamResetError. */
  abort (err: Error): void {
    this.stream.abort(err)
  }

  private async consumeBytes (size: number, sink: (frame: Uint8ArrayList) => void, opts?: AbortOptions): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) throw new ProtocolError('invalid', `bad byte count ${size}`)
    if (size > MAX_SEGMENT_BYTES) throw new ProtocolError('too_large', `${size} bytes, limit ${MAX_SEGMENT_BYTES}`)
    if (size === 0) return
    await this.reading(async () => {
      let received = 0
      while (received < size) {
        const frame = await this.readFrame(opts)
        if (frame.byteLength > MAX_CHUNK_BYTES) {
          throw new ProtocolError('too_large', `data frame of ${frame.byteLength} bytes, limit ${MAX_CHUNK_BYTES}`)
        }
        if (frame.byteLength === 0) throw new ProtocolError('malformed', 'empty data frame')
        if (received + frame.byteLength > size) {
          throw new ProtocolError('malformed', `data frame runs past the announced size: ${received} + ${frame.byteLength} > ${size}`)
        }
        received += frame.byteLength
        sink(frame)
      }
    }, opts)
  }

  private async readFrame (opts?: AbortOptions): Promise<Uint8ArrayList> {
    try {
      return await this.lp.read(opts)
    } catch (err) {
      throw this.map(err, opts)
    }
  }

  /** Runs `fn`, passing any ProtocolError it throws to the onProtocolError hook. */
  private async reported<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn()
    } catch (err) {
      if (isProtocolError(err)) this.onProtocolError?.(err)
      throw err
    }
  }

  /** Runs `fn` with the stream resumed; pauses again when the last read ends. */
  private async reading<R>(fn: () => Promise<R>, opts?: AbortOptions): Promise<R> {
    if (opts?.signal?.aborted === true) throw this.map(opts.signal.reason, opts)
    if (this.reads++ === 0) this.resume()
    try {
      return await fn()
    } finally {
      if (--this.reads === 0) this.pause()
    }
  }

  private pause (): void {
    if (this.pauseWhenIdle && this.stream.readStatus === 'readable') this.stream.pause()
  }

  private resume (): void {
    if (this.pauseWhenIdle && this.stream.readStatus === 'paused') this.stream.resume()
  }

  /** Maps stream, lpStream and abort errors to ProtocolError where the peer or the clock is to blame. */
  private map (err: unknown, opts?: AbortOptions): unknown {
    if (isProtocolError(err)) return err
    // p-event rejects with the 'close' Event itself when a stream dies during a drain wait
    if (err instanceof Event) {
      const inner: unknown = (err as Event & { error?: unknown }).error
      if (inner == null) return new ProtocolError('unexpected_end', `stream ${err.type} while writing`)
      err = inner
    }
    const signal = opts?.signal
    const name = err instanceof Error || err instanceof DOMException ? err.name : ''
    if (signal?.aborted === true && (err === signal.reason || name === 'AbortError' || name === 'TimeoutError')) {
      const reason: unknown = signal.reason
      if (reason instanceof Error || reason instanceof DOMException ? reason.name === 'TimeoutError' : false) {
        return new ProtocolError('timeout', 'deadline passed waiting for the peer', { cause: reason })
      }
      return err
    }
    const message = err instanceof Error ? err.message : String(err)
    switch (name) {
      case 'InvalidDataLengthError':
      case 'InvalidDataLengthLengthError':
      case 'StreamBufferError':
        return new ProtocolError('too_large', message, { cause: err })
      case 'InvalidMessageLengthError':
        return new ProtocolError('malformed', message, { cause: err })
      case 'UnexpectedEOFError':
      case 'StreamResetError':
        return new ProtocolError('unexpected_end', message, { cause: err })
      case 'InactivityTimeoutError':
        return new ProtocolError('timeout', message, { cause: err })
      case 'StreamStateError':
        return this.stream.status === 'reset' ? new ProtocolError('unexpected_end', message, { cause: err }) : err
      default:
        return err
    }
  }
}
