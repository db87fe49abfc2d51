/** No usable ffmpeg binary was found (or FFMPEG_PATH/FFPROBE_PATH points at a missing file). */
export class FfmpegNotFoundError extends Error {
  static readonly NAME = 'FfmpegNotFoundError'
  override name = FfmpegNotFoundError.NAME
}

/** An ffmpeg transcode run failed; `stderrTail` holds its last stderr lines. */
export class TranscodeError extends Error {
  static readonly NAME = 'TranscodeError'
  override name = TranscodeError.NAME
  constructor (
    message: string,
    readonly stderrTail: string[] = [],
    readonly exitCode: number | null = null
  ) {
    super(stderrTail.length > 0 ? `${message}\n${stderrTail.join('\n')}` : message)
  }
}

/** ffprobe (or the ffmpeg fallback) could not read a media file. */
export class ProbeError extends Error {
  static readonly NAME = 'ProbeError'
  override name = ProbeError.NAME
  constructor (
    message: string,
    readonly stderrTail: string[] = []
  ) {
    super(stderrTail.length > 0 ? `${message}\n${stderrTail.join('\n')}` : message)
  }
}

/** A ladder string or rung list is invalid. */
export class LadderError extends Error {
  static readonly NAME = 'LadderError'
  override name = LadderError.NAME
}

/** Input is not a well-formed (fragmented) MP4. */
export class Mp4BoxError extends Error {
  static readonly NAME = 'Mp4BoxError'
  override name = Mp4BoxError.NAME
}
