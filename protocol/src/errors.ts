/**
 * Why a peer's input was refused. A small fixed set: it is used as a
 * Prometheus label.
 *
 * - `too_large`: a frame or message over its size limit (checked before decoding)
 * - `malformed`: not valid protobuf / framing (bad varint, truncated field, unknown enum value, frame past the expected size)
 * - `invalid`: valid protobuf that breaks a semantic rule (id pattern, range, count, hash length…)
 * - `unexpected_end`: the stream ended (closed or reset) before the expected message or bytes
 * - `timeout`: the deadline passed while waiting for the peer
 * - `unexpected_message`: a valid message that does not fit the flow (raised by the roles)
 */
export type ProtocolErrorReason = 'too_large' | 'malformed' | 'invalid' | 'unexpected_end' | 'timeout' | 'unexpected_message'

export const PROTOCOL_ERROR_REASONS: readonly ProtocolErrorReason[] = ['too_large', 'malformed', 'invalid', 'unexpected_end', 'timeout', 'unexpected_message']

export class ProtocolError extends Error {
  static readonly NAME = 'ProtocolError'
  override name = 'ProtocolError'
  readonly reason: ProtocolErrorReason

  constructor (reason: ProtocolErrorReason, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

/**
 * True for a ProtocolError from this package (or a structurally identical one
 * from another copy of it). Note `@libp2p/interface` also has an error named
 * 'ProtocolError' without `reason`; this check excludes it.
 */
export function isProtocolError (err: unknown): err is ProtocolError {
  return err instanceof ProtocolError ||
    (err instanceof Error && err.name === 'ProtocolError' && PROTOCOL_ERROR_REASONS.includes((err as any).reason))
}
