/** Base class of every error thrown by `@diststream/hls`. */
export class HlsError extends Error {
  override name = 'HlsError'
}

/**
 * Thrown by the renderers (and {@link LiveWindow.add}) when the input cannot
 * become a valid playlist: non-contiguous sequence numbers, bad durations,
 * URIs or attribute values that would corrupt the text format, etc.
 */
export class PlaylistValidationError extends HlsError {
  override name = 'PlaylistValidationError'
}

/** Thrown by the parsers when the text is not a (supported) HLS playlist. */
export class PlaylistParseError extends HlsError {
  override name = 'PlaylistParseError'
  /** 1-based line number the problem was found on, when known. */
  readonly line: number | undefined

  constructor (message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`)
    this.line = line
  }
}
