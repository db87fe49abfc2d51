import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { resolveFfmpeg } from '../src/index.js'

const run = promisify(execFile)

export const ff = resolveFfmpeg()
export const ffprobe = ff.ffprobe ?? 'ffprobe'

export async function tempDir (prefix = 'media-test-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** A small FLV like a publisher sends: testsrc2 + sine AAC, fixed GOP, B-frames on (OBS-like). */
export async function makeSourceFile (
  file: string,
  o: { seconds: number; width?: number; height?: number; fps?: number; gopSeconds?: number; audio?: boolean }
): Promise<void> {
  const fps = o.fps ?? 30
  const gop = Math.round((o.gopSeconds ?? 1) * fps)
  const audio = o.audio ?? true
  await run(ff.ffmpeg, [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.width ?? 320}x${o.height ?? 180}:rate=${fps}`,
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'] : []),
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
    ...(audio ? ['-c:a', 'aac', '-ar', '48000', '-ac', '2'] : []),
    '-f', 'flv', file
  ])
}
