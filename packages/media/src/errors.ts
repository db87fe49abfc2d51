/** No usable ffmpeg binary was found (or FFMPEG_PATH/FFPROBE_PATH points at a missing file). */
export class FfmpegNotFoundError extends Error {
  override name = 'FfmpegNotFoundError'
}

/** An ffmpeg transcode run failed; `stderrTail` holds its last stderr lines. */
export class TranscodeError extends Error {
  override name = 'TranscodeError'
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
  override name = 'ProbeError'
  constructor (
    message: string,
    readonly stderrTail: string[] = []
  ) {
    super(stderrTail.length > 0 ? `${message}\n${stderrTail.join('\n')}` : message)
  }
}

/** A ladder string or rung list is invalid. */
export class LadderError extends Error {
  override name = 'LadderError'
}
