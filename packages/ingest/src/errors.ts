/** No stream with this id on this ingest. */
export class StreamNotFoundError extends Error {
  static readonly NAME = 'StreamNotFoundError'
  override name = StreamNotFoundError.NAME
  readonly statusCode = 404
}

/** The stream has ended for good: it takes no heartbeat. */
export class StreamEndedError extends Error {
  static readonly NAME = 'StreamEndedError'
  override name = StreamEndedError.NAME
  readonly statusCode = 409
}

/** A `source_url` the ingest refuses to pull (the message is fit for an HTTP 400). */
export class SourceUrlError extends Error {
  static readonly NAME = 'SourceUrlError'
  override name = SourceUrlError.NAME
  readonly statusCode = 400
}

/** A stream has {@link MAX_OUTPUTS_PER_STREAM} restream outputs already. */
export class TooManyOutputsError extends Error {
  static readonly NAME = 'TooManyOutputsError'
  override name = TooManyOutputsError.NAME
  readonly statusCode = 409
}

/** No restream output with this id on the stream. */
export class OutputNotFoundError extends Error {
  static readonly NAME = 'OutputNotFoundError'
  override name = OutputNotFoundError.NAME
  readonly statusCode = 404
}
