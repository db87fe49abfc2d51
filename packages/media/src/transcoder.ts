import type { HwEncoder } from './hwaccel.js'
import { transcodeSegment, type TranscodeOptions, type TranscodeResult } from './transcode.js'

/** The logger a {@link Transcoder} warns on (pino's `warn(obj, msg)` fits). */
export interface TranscoderLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Runs {@link transcodeSegment} on a hardware encoder when one was detected, and falls back to
 * the CPU for good when the hardware fails at run time.
 *
 * A failed hardware run is retried on the CPU at once (the job still succeeds). If the CPU run
 * succeeds, the hardware is to blame: it is disabled for this and every later job and ONE
 * warning is logged. If the CPU run fails too, the segment is to blame: the hardware stays on
 * and the CPU error is thrown.
 */
export class Transcoder {
  #hw: HwEncoder | null
  #fellBack = false

  constructor (
    private readonly init: { ffmpegPath: string; hw?: HwEncoder | null; preset?: string; logger?: TranscoderLogger }
  ) {
    this.#hw = init.hw ?? null
  }

  /** The hardware encoder in use, or null on the CPU. */
  get hw (): HwEncoder | null {
    return this.#hw
  }

  /** The video encoder in use: `libx264` or e.g. `h264_nvenc`. */
  get encoder (): string {
    return this.#hw?.encoder ?? 'libx264'
  }

  /** `cpu` or the hardware kind (`nvenc`, `qsv`, `vaapi`, `videotoolbox`). */
  get hwKind (): string {
    return this.#hw?.kind ?? 'cpu'
  }

  /** True once the hardware failed and this transcoder switched to the CPU. */
  get fellBack (): boolean {
    return this.#fellBack
  }

  async transcode (opts: Omit<TranscodeOptions, 'ffmpegPath' | 'hw' | 'preset'>): Promise<TranscodeResult> {
    const base = { ...opts, ffmpegPath: this.init.ffmpegPath, preset: this.init.preset }
    const hw = this.#hw
    if (!hw) return await transcodeSegment(base)
    let hwError: Error
    try {
      return await transcodeSegment({ ...base, hw })
    } catch (err) {
      opts.signal?.throwIfAborted()
      hwError = err as Error
    }
    const result = await transcodeSegment(base)
    if (this.#hw === hw) {
      this.#hw = null
      this.#fellBack = true
      this.init.logger?.warn(
        { encoder: hw.encoder, err: hwError.message.split('\n').slice(0, 3).join(' | ') },
        `hardware encoder ${hw.encoder} failed at run time; using the CPU (libx264) for this and every later job`
      )
    }
    return result
  }
}
