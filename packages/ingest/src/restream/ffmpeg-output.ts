import { spawn } from 'node:child_process'
import { trackProcess } from '@diststream/media'
import { outputFormat, redactIn } from './output-url.js'
import type { RelayAttempt } from './relay.js'
import type { Readable } from 'node:stream'

/** Longest stderr kept per attempt (the reason an attempt ended is its last line). */
const MAX_STDERR_CHARS = 4096
/** Read/write timeout of the RTMP(S) connection (µs, ffmpeg's `-rw_timeout`): a receiver that stops reading ends the attempt. */
const RW_TIMEOUT_US = 10_000_000

/** ffmpeg's arguments for one output: the publish as FLV on stdin, copied (no re-encode) to `url`. */
export function outputArgs (url: string): string[] {
  const fmt = outputFormat(url)
  return [
    '-hide_banner', '-loglevel', 'error', '-nostats',
    // Progress on stdout every half second: total_size growing is "media reaches the output".
    '-progress', 'pipe:1', '-stats_period', '0.5',
    '-f', 'flv', '-i', 'pipe:0',
    // Video and audio only: a data track (onTextData, cue points) would hold the muxer's interleaving back.
    '-map', '0:v', '-map', '0:a?', '-c', 'copy',
    ...(fmt === 'flv' ? ['-flvflags', 'no_duration_filesize', '-rw_timeout', String(RW_TIMEOUT_US)] : []),
    '-f', fmt, url
  ]
}

/**
 * One attempt at an output: `ffmpeg -f flv -i pipe:0 -c copy -f flv <url>`
 * fed from `input` (the publish as FLV, read in-process from the RTMP
 * server). `onMedia` runs whenever ffmpeg reports more bytes written.
 * Ends (settling `ended` with ffmpeg's last error line, the URL's key
 * redacted) when ffmpeg exits; `kill` ends it at once.
 */
export function runOutput (ffmpegPath: string, url: string, input: Readable, onMedia: () => void): RelayAttempt {
  const child = trackProcess(spawn(ffmpegPath, outputArgs(url), { stdio: ['pipe', 'pipe', 'pipe'] }))
  let stderr = ''
  let written = 0
  let lineBuf = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => { stderr = (stderr + s).slice(-MAX_STDERR_CHARS) })
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (s: string) => {
    const lines = (lineBuf + s).split('\n')
    lineBuf = (lines.pop() ?? '').slice(-256)
    for (const l of lines) {
      const m = /^total_size=(\d+)/.exec(l)
      if (m != null && Number(m[1]) > written) { written = Number(m[1]); onMedia() }
    }
  })
  // ffmpeg gone (or killed): the pipe breaks; the reader is destroyed below.
  child.stdin.on('error', () => {})
  input.on('error', () => { child.kill('SIGKILL') })
  input.pipe(child.stdin)
  const ended = new Promise<string>((resolve) => {
    child.on('error', (err) => { resolve(err.message) })
    child.on('close', (code, signal) => {
      input.unpipe(child.stdin)
      input.destroy()
      const last = stderr.split('\n').map(l => l.trim()).filter(l => l !== '').at(-1)
      const why = last ?? (signal != null ? `ffmpeg killed (${signal})` : `ffmpeg exited with code ${code ?? '?'}`)
      resolve(redactIn(why, url).slice(0, 300))
    })
  })
  return { ended, kill: () => { child.kill('SIGKILL') } }
}
