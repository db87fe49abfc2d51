import { accessSync, constants, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { FfmpegNotFoundError } from './errors.js'
import { runProcess } from './proc.js'

export interface ResolvedFfmpeg {
  /** Absolute (or env-given) path of the ffmpeg binary. */
  ffmpeg: string;
  /** ffprobe binary, or null when none was found (the bundled ffmpeg ships none). */
  ffprobe: string | null;
  /** Where `ffmpeg` came from: FFMPEG_PATH, the PATH, or the `@ffmpeg-installer/ffmpeg` package. */
  source: 'env' | 'path' | 'bundled';
  /** Where `ffprobe` came from (null when not found). */
  ffprobeSource: 'env' | 'path' | 'sibling' | null;
}

const INSTALL_HINT =
  'Install ffmpeg (e.g. `apt-get install ffmpeg`) or set FFMPEG_PATH (and FFPROBE_PATH) to the binaries.'

function isExecutableFile (p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false
    accessSync(p, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Find `name` on the PATH of `env` (honours PATHEXT on Windows). */
export function whichSync (name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter((d) => d !== '')
  const exts =
    process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').concat(['']) : ['']
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext)
      if (isExecutableFile(candidate)) return candidate
    }
  }
  return null
}

/** Path of the `@ffmpeg-installer/ffmpeg` binary, or null if that package has none for this platform. */
export function bundledFfmpegPath (): string | null {
  try {
    const require = createRequire(import.meta.url)
    // The package throws a plain string when its platform binary is missing.
    const mod = require('@ffmpeg-installer/ffmpeg') as { path?: string }
    return mod.path && isExecutableFile(mod.path) ? mod.path : null
  } catch {
    return null
  }
}

/**
 * Locate ffmpeg and ffprobe.
 *
 * ffmpeg: `FFMPEG_PATH` (a set-but-unusable value is an error naming it, never silently skipped),
 * then `ffmpeg` on `PATH`, then the bundled `@ffmpeg-installer/ffmpeg` binary.
 * ffprobe: `FFPROBE_PATH` (same strictness), then an `ffprobe` next to the chosen ffmpeg, then
 * `ffprobe` on `PATH`, else null (probing then falls back to ffmpeg itself, see {@link probeMedia}).
 *
 * Pass `{ bundled: false }` to refuse the bundled binary.
 *
 * @throws FfmpegNotFoundError when no ffmpeg is usable, with a message on how to fix it.
 */
export function resolveFfmpeg (
  env: NodeJS.ProcessEnv = process.env,
  opts: { /** Allow the `@ffmpeg-installer` fallback (default true). */ bundled?: boolean } = {}
): ResolvedFfmpeg {
  let ffmpeg: string | null = null
  let source: ResolvedFfmpeg['source'] = 'env'
  const envFfmpeg = env.FFMPEG_PATH
  if (envFfmpeg !== undefined && envFfmpeg !== '') {
    if (!isExecutableFile(envFfmpeg)) {
      throw new FfmpegNotFoundError(
        `FFMPEG_PATH is set to "${envFfmpeg}", which is not an executable file. ${INSTALL_HINT}`
      )
    }
    ffmpeg = envFfmpeg
  } else if ((ffmpeg = whichSync('ffmpeg', env)) !== null) {
    source = 'path'
  } else if (opts.bundled !== false && (ffmpeg = bundledFfmpegPath()) !== null) {
    source = 'bundled'
  }
  if (ffmpeg === null) {
    throw new FfmpegNotFoundError(
      `ffmpeg not found: FFMPEG_PATH is unset, no ffmpeg on PATH, and @ffmpeg-installer/ffmpeg has no binary for ${process.platform}-${process.arch}. ${INSTALL_HINT}`
    )
  }

  let ffprobe: string | null = null
  let ffprobeSource: ResolvedFfmpeg['ffprobeSource'] = null
  const envProbe = env.FFPROBE_PATH
  if (envProbe !== undefined && envProbe !== '') {
    if (!isExecutableFile(envProbe)) {
      throw new FfmpegNotFoundError(
        `FFPROBE_PATH is set to "${envProbe}", which is not an executable file. ${INSTALL_HINT}`
      )
    }
    ffprobe = envProbe
    ffprobeSource = 'env'
  } else {
    const ext = path.extname(ffmpeg)
    const sibling = path.join(path.dirname(ffmpeg), 'ffprobe' + ext)
    if (source !== 'bundled' && isExecutableFile(sibling)) {
      ffprobe = sibling
      ffprobeSource = 'sibling'
    } else if ((ffprobe = whichSync('ffprobe', env)) !== null) {
      ffprobeSource = 'path'
    }
  }
  return { ffmpeg, ffprobe, source, ffprobeSource }
}

/** Alias of {@link ResolvedFfmpeg}. */
export type FfmpegPaths = ResolvedFfmpeg

/** A one-line human description of a {@link resolveFfmpeg} result, for startup logs. */
export function describeFfmpeg (r: ResolvedFfmpeg): string {
  const probe =
    r.ffprobe === null
      ? 'ffprobe: none (probing falls back to ffmpeg; install ffprobe or set FFPROBE_PATH for full probes)'
      : `ffprobe: ${r.ffprobe} (${r.ffprobeSource})`
  return `ffmpeg: ${r.ffmpeg} (${r.source}); ${probe}`
}

/** The version string of an ffmpeg (or ffprobe) binary, e.g. `5.1.9-0+deb12u1`. */
export async function ffmpegVersion (
  binPath: string,
  opts: { signal?: AbortSignal } = {}
): Promise<string> {
  let res
  try {
    res = await runProcess(binPath, ['-hide_banner', '-version'], opts)
  } catch (e) {
    if (opts.signal?.aborted) throw e
    throw new FfmpegNotFoundError(`cannot run "${binPath}": ${(e as Error).message}. ${INSTALL_HINT}`)
  }
  const m = /^\S+ version (\S+)/m.exec(res.stdout)
  if (res.code !== 0 || !m?.[1]) {
    throw new FfmpegNotFoundError(`"${binPath} -version" did not report a version (exit ${res.code}).`)
  }
  return m[1]
}
