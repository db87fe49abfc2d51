/**
 * The edge's errors, one idiom: `static readonly NAME`, `name`, and the HTTP
 * status that follows from each (`statusCode`); HTTP code picks the status
 * from `statusCode`, never from the name.
 */

/** No such stream, rendition, segment or init (or not yet): HTTP 404. */
export class NotFoundError extends Error {
  static readonly NAME = 'NotFoundError'
  override name = NotFoundError.NAME
  readonly statusCode = 404
}

/** The upstream (ingest) could not deliver a segment the edge knows of: HTTP 502. */
export class UpstreamError extends Error {
  static readonly NAME = 'UpstreamError'
  override name = UpstreamError.NAME
  readonly statusCode = 502
}

/** A malformed delivery directive (`_HLS_msn`, `_HLS_part`, `_HLS_skip`): HTTP 400. */
export class DeliveryDirectiveError extends Error {
  static readonly NAME = 'DeliveryDirectiveError'
  override name = DeliveryDirectiveError.NAME
  readonly statusCode = 400
}

/** A blocking reload that could not be answered in time, or with too many already parked: HTTP 503. */
export class BlockingReloadUnavailableError extends Error {
  static readonly NAME = 'BlockingReloadUnavailableError'
  override name = BlockingReloadUnavailableError.NAME
  readonly statusCode = 503
}

/** A bound on what this edge follows was reached (too many streams, or of one ingest): HTTP 503. */
export class EdgeFullError extends Error {
  static readonly NAME = 'EdgeFullError'
  override name = EdgeFullError.NAME
  readonly statusCode = 503
}

/** A private stream asked for without `?token=`: HTTP 401. */
export class PlaybackTokenMissingError extends Error {
  static readonly NAME = 'PlaybackTokenMissingError'
  override name = PlaybackTokenMissingError.NAME
  readonly statusCode = 401
}

/** A private stream asked for with a token that is expired, forged, tampered with or for another stream: HTTP 403. */
export class PlaybackTokenRefusedError extends Error {
  static readonly NAME = 'PlaybackTokenRefusedError'
  override name = PlaybackTokenRefusedError.NAME
  readonly statusCode = 403
}

/** A stream the edge knows has no picture yet (no video segment held): HTTP 503, retry shortly. */
export class ThumbnailUnavailableError extends Error {
  static readonly NAME = 'ThumbnailUnavailableError'
  override name = ThumbnailUnavailableError.NAME
  readonly statusCode = 503
}
