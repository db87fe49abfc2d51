/**
 * A scripted hostile libp2p peer's tools: raw frames, how a node ended a
 * stream, the node's protocol-error counters, and handlers for an "ingest"
 * that answers bids and fetches of its own stream in hostile ways.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { codecs, FetchRequest, FetchResponse, MessageChannel } from '@diststream/protocol'
import assert from 'node:assert/strict'
import { getText, waitUntil } from './cluster.js'
import type { Stream } from '@libp2p/interface'
import type { JobAnnounce, TranscodeResponse } from '@diststream/protocol'

const run = promisify(execFile)

/** A LEB128 varint, as the frame length prefix. */
export function varint (n: number): Uint8Array {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return new Uint8Array(out)
}

export function frame (payload: Uint8Array): Uint8Array {
  return new Uint8Array([...varint(payload.byteLength), ...payload])
}

/** Reads the stream to its end: 'closed' if the node closed it, 'reset' if it reset it, 'open' if neither within `ms`. */
export async function outcome (stream: Stream, ms = 30_000): Promise<'closed' | 'reset' | 'open'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'open'>(resolve => { timer = setTimeout(() => { resolve('open') }, ms) })
  const drained = (async (): Promise<'closed' | 'reset'> => {
    try {
      for await (const _ of stream) { /* discard */ }
      return 'closed'
    } catch {
      return 'reset'
    }
  })()
  const r = await Promise.race([drained, timeout])
  clearTimeout(timer)
  if (r === 'open') stream.abort(new Error('test: node never closed the stream'))
  return r
}

export type Counts = Record<string, number>

export async function protocolErrors (http: string): Promise<Counts> {
  const text = (await getText(`${http}/metrics`)).text
  const out: Counts = {}
  for (const m of text.matchAll(/^diststream_protocol_errors_total\{reason="([a-z_]+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2])
  return out
}

export function metric (text: string, re: RegExp): number {
  return Number(re.exec(text)?.[1] ?? 0)
}

/** Resident set size of a process, in MiB (Linux /proc). */
export async function rssMiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024
}

export const sum = (c: Counts): number => Object.values(c).reduce((a, b) => a + b, 0)

/** A 1 s 320x180 MPEG-TS segment with audio (the hostile peer's own "honest-looking" job). */
export async function makeTsSegment (ffmpegPath: string, file: string): Promise<Uint8Array> {
  await run(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '1', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '30', '-c:a', 'aac', '-f', 'mpegts', file])
  return new Uint8Array(await readFile(file))
}

/** A node's `diststream_worker_jobs_refused_total{why}`. */
export async function refusedCount (http: string, why: string): Promise<number> {
  return metric((await getText(`${http}/metrics`)).text, new RegExp(`^diststream_worker_jobs_refused_total\\{why="${why}"\\} (\\d+)`, 'm'))
}

/** Sends `job` and its `segment` on a transcode channel; the worker's answer (renditions, if any, follow on `ch`). */
export async function sendJob (ch: MessageChannel, job: JobAnnounce, segment: Uint8Array, signal: AbortSignal): Promise<TranscodeResponse> {
  await ch.write(codecs.transcodeRequest, { job, segmentSize: segment.byteLength }, { signal })
  await ch.writeBytes(segment, { signal })
  return await ch.read(codecs.transcodeResponse, { signal })
}

/** BID handler of a hostile ingest: counts bids by job id; a job id starting "junkack" is answered with an oversized frame. */
export function evilBidHandler (bidsReceived: Map<string, number>): (stream: Stream) => void {
  return (stream) => {
    void (async () => {
      const ch = new MessageChannel(stream)
      try {
        const bid = await ch.read(codecs.bid, { signal: AbortSignal.timeout(5000) })
        bidsReceived.set(bid.jobId, (bidsReceived.get(bid.jobId) ?? 0) + 1)
        if (bid.jobId.startsWith('junkack')) {
          // A hostile ingest answers the worker's bid with an oversized frame.
          stream.send(new Uint8Array([...varint(8 * 1024 * 1024), 1, 2, 3]))
          return
        }
        await ch.write(codecs.bidAck, { accepted: true, reason: '' })
        await ch.close()
      } catch (err: any) {
        ch.abort(err)
      }
    })()
  }
}

/** FETCH handler of a hostile holder: junk for the index, wrong bytes for segment 0 (announced with the right hash), the true bytes for segment 1. */
export function evilFetchHandler (segment: Uint8Array): (stream: Stream) => void {
  return (stream) => {
    void (async () => {
      const ch = new MessageChannel(stream)
      try {
        const req = await ch.read(codecs.fetchRequest, { signal: AbortSignal.timeout(5000) })
        if (req.kind === FetchRequest.Kind.INDEX) {
          stream.send(frame(randomBytes(100)))
          await stream.close()
          return
        }
        await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.OK, error: '', size: segment.byteLength, sha256: createHash('sha256').update(segment).digest(), segments: [] })
        await ch.writeBytes(req.seq === 1 ? segment : randomBytes(segment.byteLength))
        await ch.close()
      } catch (err: any) {
        ch.abort(err)
      }
    })()
  }
}

/** The same abuse on every stream protocol: each with the reason the node should count, where one is certain. */
export function junk (wrongMessage: Uint8Array): Array<[string, Uint8Array, { end?: boolean, reason?: string }]> {
  return [
    ['an oversized frame (2 MiB announced)', new Uint8Array([...varint(2 * 1024 * 1024), ...randomBytes(4096)]), { reason: 'too_large' }],
    ['a length prefix that never ends', new Uint8Array(12).fill(0xff), { reason: 'too_large' }],
    ['a frame of random bytes', frame(randomBytes(300)), { end: true }],
    ['random bytes, unframed', randomBytes(64), { end: true }],
    ['a valid message of the wrong kind', frame(wrongMessage), { end: true }],
    ['a truncated frame', new Uint8Array([...varint(200), ...randomBytes(20)]), { end: true, reason: 'unexpected_end' }],
    ['nothing at all', new Uint8Array(0), { end: true, reason: 'unexpected_end' }]
  ]
}

/**
 * Opens a stream (`open`), sends `bytes` (then half-closes if `end`), expects the node to end the
 * stream and count a protocol error (as `reason`, when given) on its /metrics at `http`.
 */
export async function abuseProtocol (open: () => Promise<Stream>, http: string, label: string, bytes: Uint8Array, opts: { end?: boolean, reason?: string } = {}): Promise<void> {
  const before = await protocolErrors(http)
  const stream = await open()
  if (bytes.byteLength > 0) stream.send(bytes)
  if (opts.end === true) await stream.close().catch(() => { /* the node may reset first: that is what is tested */ })
  const how = await outcome(stream)
  assert.notEqual(how, 'open', `${label}: the node must end the stream`)
  const afterCounts = await waitUntil(async () => {
    const c = await protocolErrors(http)
    return sum(c) > sum(before) ? c : undefined
  }, 10_000, `${label}: a protocol error to be counted`)
  if (opts.reason != null) {
    assert.ok((afterCounts[opts.reason] ?? 0) > (before[opts.reason] ?? 0), `${label}: counted as ${opts.reason}: ${JSON.stringify(before)} → ${JSON.stringify(afterCounts)}`)
  }
}
