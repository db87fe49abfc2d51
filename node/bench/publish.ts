/**
 * Publishing a file over RTMP faster than realtime, without losing its start.
 *
 * A plain `ffmpeg -i file -c copy -f flv rtmp://…` of a 60 s file is over in about 0.4 s, before
 * the ingest's segmenter (spawned on postPublish) has even connected as a reader: the ingest
 * then cuts nothing at all (seen on the first run of this bench). So the bench feeds the FLV
 * through ffmpeg's stdin itself: the header and the first `holdMediaMs` of tags go at once
 * (node-media-server's GOP cache hands them to the late reader), the rest is held until `gate`
 * resolves (the ingest logged 'publish started', plus a margin for the segmenter to attach),
 * then written at `speed` × media time (Infinity = as fast as the pipe takes it). ffmpeg reads
 * the pipe with -analyzeduration 0.5 s, or it would wait for 5 s of media before connecting.
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { sleep } from './util.js'

interface Tag { end: number, ms: number }

/** Byte end and timestamp of every tag of an FLV file (after the 9-byte header + PreviousTagSize0). */
export function flvTags (buf: Buffer): { headerEnd: number, tags: Tag[] } {
  if (buf.subarray(0, 3).toString('latin1') !== 'FLV') throw new Error('not an FLV file')
  const headerEnd = buf.readUInt32BE(5) + 4
  const tags: Tag[] = []
  let off = headerEnd
  while (off + 11 <= buf.length) {
    const size = buf.readUIntBE(off + 1, 3)
    const ms = (buf.readUIntBE(off + 4, 3) | (buf[off + 7]! << 24)) >>> 0
    const end = off + 11 + size + 4
    if (end > buf.length) break
    tags.push({ end, ms })
    off = end
  }
  return { headerEnd, tags }
}

export interface PublishOptions {
  ffmpegPath: string
  file: string
  url: string
  /** Media seconds per wall second after the gate; Infinity = no pacing. */
  speed: number
  holdMediaMs: number
  gate: Promise<unknown>
  timeoutMs: number
}

export interface PublishResult { code: number, openedAt: number, releasedAt: number, writtenAt: number, exitedAt: number, stderr: string }

export async function publishFile (o: PublishOptions): Promise<PublishResult> {
  const buf = await readFile(o.file)
  const { headerEnd, tags } = flvTags(buf)
  const child = spawn(o.ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-analyzeduration', '500000', '-f', 'flv', '-i', 'pipe:0', '-c', 'copy', '-f', 'flv', o.url], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000) })
  const exited = new Promise<number>(resolve => {
    child.on('error', (e) => { stderr += e.message; resolve(127) })
    child.on('close', (c) => { resolve(c ?? 137) })
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs)
  let dead = false
  void exited.then(() => { dead = true })
  child.stdin.on('error', () => {})
  const write = async (from: number, to: number): Promise<void> => {
    if (dead || to <= from) return
    if (!child.stdin.write(buf.subarray(from, to))) await Promise.race([once(child.stdin, 'drain'), exited])
  }
  try {
    const openedAt = Date.now()
    let i = tags.findIndex(t => t.ms >= o.holdMediaMs)
    if (i < 0) i = tags.length
    const heldEnd = i > 0 ? tags[i - 1]!.end : headerEnd
    await write(0, heldEnd)
    await Promise.race([o.gate, exited])
    const releasedAt = Date.now()
    let pos = heldEnd
    const base = i < tags.length ? tags[i]!.ms : 0
    while (i < tags.length && !dead) {
      // Everything due up to 20 ms from now goes in one write.
      const dueMs = Number.isFinite(o.speed) ? (Date.now() - releasedAt + 20) * o.speed + base : Infinity
      let j = i
      while (j < tags.length && tags[j]!.ms <= dueMs && (j === i || tags[j]!.end - pos < 1 << 20)) j++
      if (j === i) {
        await sleep(Math.max(1, (tags[i]!.ms - base) / o.speed - (Date.now() - releasedAt)))
        continue
      }
      await write(pos, tags[j - 1]!.end)
      pos = tags[j - 1]!.end
      i = j
    }
    const writtenAt = Date.now()
    child.stdin.end()
    const code = await exited
    clearTimeout(killer)
    return { code, openedAt, releasedAt, writtenAt, exitedAt: Date.now(), stderr }
  } finally {
    clearTimeout(killer)
    if (!dead) child.kill('SIGKILL')
  }
}
