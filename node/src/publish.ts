import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { probeMedia, resolveFfmpeg } from '@diststream/media'
import { API_TOKEN_FILE } from './http/auth.js'

/** How long no new segment must appear after a live publish before the stream is ended. */
const LAST_SEGMENT_WAIT_MS = 10_000

export class PublishError extends Error {
  static readonly NAME = 'PublishError'
  override name = PublishError.NAME
}

export interface PublishOptions {
  file: string
  /** The ingest's HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  ingest: string
  apiToken: string
  vod: boolean
  name?: string
  segmentSeconds: number
  /** Where progress goes (a TTY gets one line redrawn; anything else a line per step). */
  out?: NodeJS.WriteStream
  signal?: AbortSignal
}

/** `[#####.....]  42% label`: one progress line, pure. */
export function progressLine (label: string, done: number, total: number | undefined, width = 30): string {
  if (total == null || total <= 0) return `${label} ${done}`
  const f = Math.max(0, Math.min(1, done / total))
  const n = Math.round(f * width)
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${String(Math.floor(f * 100)).padStart(3)}% ${label} ${done}/${total}`
}

/** Draws progress lines: redrawn in place on a TTY, one line per change (at most every 10 %) elsewhere. */
class Progress {
  private last = ''
  private lastPct = -1
  constructor (private readonly out: NodeJS.WriteStream) {}
  update (label: string, done: number, total?: number): void {
    const line = progressLine(label, done, total)
    if (line === this.last) return
    this.last = line
    if (this.out.isTTY === true) {
      this.out.write(`\r${line}\u001b[K`)
      return
    }
    const pct = total != null && total > 0 ? Math.floor(done / total * 10) : done
    if (pct !== this.lastPct) { this.lastPct = pct; this.out.write(line + '\n') }
  }

  end (msg: string): void {
    this.out.write(`${this.out.isTTY === true ? '\r\u001b[K' : ''}${msg}\n`)
    this.last = ''
    this.lastPct = -1
  }
}

/** The token for `--ingest`: `--api-token` / DISTSTREAM_API_TOKEN, else the one in the data dir. */
export async function publishToken (given: unknown, dataDir: string): Promise<string> {
  if (typeof given === 'string' && given !== '') return given
  try {
    return (await readFile(join(dataDir, API_TOKEN_FILE), 'utf8')).trim()
  } catch {
    throw new PublishError(`no API token: pass --api-token (or DISTSTREAM_API_TOKEN), or --data-dir of the ingest (${join(dataDir, API_TOKEN_FILE)} not found)`)
  }
}

async function api (opts: PublishOptions, method: string, path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(new URL(path, opts.ingest), {
    ...init,
    method,
    headers: { authorization: `Bearer ${opts.apiToken}`, ...(init.headers as Record<string, string> ?? {}) },
    signal: opts.signal ?? null,
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {})
  } as RequestInit)
  const text = await res.text()
  let body: any = text
  try { body = JSON.parse(text) } catch { /* not JSON: the error below shows the text */ }
  if (!res.ok) throw new PublishError(`${method} ${path}: ${res.status} ${typeof body === 'object' && body != null ? String(body.error) : text.slice(0, 200)}`)
  return body
}

/**
 * `diststream-node publish <file>`: pushes a local file to an ingest.
 * Live (default): creates a stream and publishes the file over RTMP at its
 * native rate (`ffmpeg -re`; copied when H.264/AAC, else encoded with a
 * GOP of one segment), then ends the stream. `--vod`: uploads the file
 * (`POST /api/uploads`, streamed) and follows its transcoding by the
 * network until it is `ready`. Resolves with the stream's playback URL.
 */
export async function publishFile (opts: PublishOptions): Promise<{ id: string, playbackUrl: string, state: string }> {
  const out = opts.out ?? process.stderr
  const file = resolve(opts.file)
  const st = await stat(file).catch(() => undefined) // missing or unreadable: refused just below
  if (st == null || !st.isFile()) throw new PublishError(`${file} is not a file`)
  const name = opts.name ?? basename(file)
  const progress = new Progress(out)
  if (opts.vod) {
    let sent = 0
    const counter = new Transform({
      transform (chunk: Buffer, _enc, cb) { sent += chunk.byteLength; progress.update('uploading (bytes)', sent, st.size); cb(null, chunk) }
    })
    const body = Readable.toWeb(createReadStream(file).pipe(counter)) as ReadableStream
    const created = await api(opts, 'POST', `/api/uploads?name=${encodeURIComponent(name)}`, {
      body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(st.size) }
    })
    progress.end(`uploaded ${st.size} bytes: stream ${String(created.id)}`)
    for (;;) {
      const s = await api(opts, 'GET', `/api/streams/${String(created.id)}`)
      if (s.state === 'ready') { progress.end(`ready: ${String(s.progress?.done ?? '')} segments transcoded by the network`); return { id: s.id, playbackUrl: s.playbackUrl, state: s.state } }
      if (s.state === 'failed') throw new PublishError(`VOD ${String(s.id)} failed: ${String(s.error)}`)
      const p = s.progress ?? { segments: 0, done: 0 }
      progress.update('segments transcoded', p.done, p.segments)
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  }

  const ffmpeg = resolveFfmpeg()
  const probe = await probeMedia(file, { ffprobePath: ffmpeg.ffprobe, ffmpegPath: ffmpeg.ffmpeg })
  const created = await api(opts, 'POST', '/api/streams', { body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } })
  out.write(`stream ${String(created.id)}: ${String(created.playbackUrl)}\n`)
  const copy = probe.videoCodec === 'h264' && (probe.audioCodec == null || probe.audioCodec === 'aac')
  const gop = String(Math.max(1, Math.round(probe.fpsMilli / 1000 * opts.segmentSeconds)))
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', file,
    ...(copy ? ['-c', 'copy'] : ['-c:v', 'libx264', '-preset', 'veryfast', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-c:a', 'aac']),
    '-f', 'flv', String(created.rtmpUrl)]
  const durationSec = probe.durationSec ?? 0
  const started = Date.now()
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(ffmpeg.ffmpeg, args, { stdio: ['ignore', 'ignore', 'inherit'] })
    const timer = setInterval(() => { progress.update('seconds published', Math.min(Math.round((Date.now() - started) / 1000), Math.ceil(durationSec)), durationSec > 0 ? Math.ceil(durationSec) : undefined) }, 1000)
    const onAbort = (): void => { child.kill('SIGINT') }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    child.on('error', reject)
    child.on('exit', (c) => { clearInterval(timer); opts.signal?.removeEventListener('abort', onAbort); resolve(c) })
  })
  // The file is over. The ingest's segmenter sees the end of an RTMP publish only by a read
  // timeout (a few seconds) and then cuts the last segment: wait until no new segment came for
  // LAST_SEGMENT_WAIT_MS (at most 40 s), then end the stream; the DELETE lets the segments in
  // flight finish, and the playlists get EXT-X-ENDLIST.
  let lastSeq: unknown
  let since = Date.now()
  for (const until = Date.now() + 40_000; Date.now() < until && Date.now() - since < LAST_SEGMENT_WAIT_MS;) {
    const s = await api(opts, 'GET', `/api/streams/${String(created.id)}`)
    if (s.lastSeq !== lastSeq) { lastSeq = s.lastSeq; since = Date.now() }
    progress.update('waiting for the last segment', Math.round((Date.now() - since) / 1000), LAST_SEGMENT_WAIT_MS / 1000)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  const ended = await api(opts, 'DELETE', `/api/streams/${String(created.id)}`)
  progress.end(code === 0 ? `published; stream ${String(created.id)} ended` : `ffmpeg exited with ${String(code)}; stream ${String(created.id)} ended`)
  if (code !== 0) throw new PublishError(`ffmpeg could not publish ${file} (exit ${String(code)})`)
  return { id: ended.id, playbackUrl: ended.playbackUrl, state: ended.state }
}
