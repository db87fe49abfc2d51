import { createHash } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { codecs, containerOf, PROTOCOL_TRANSCODE, TranscodeResponse } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import { toStoredCmaf, verifyRendition } from '@diststream/media'
import { AttemptInvalidError, AttemptRejectedError } from '@diststream/scheduler'
import type { JobAnnounce } from '@diststream/protocol'
import type { AttemptContext } from './types.js'
import type { RenditionRecord } from '@diststream/store'

export type { AttemptContext }

/** A rendition that came back verified, still in its attempt's staging directory. */
export interface StagedRendition {
  record: RenditionRecord
  file: string
}

/** The verified output of one attempt; `discard()` removes its staging directory. */
export interface AttemptOutput {
  worker: string
  renditions: StagedRendition[]
  elapsedMs: number
  discard: () => Promise<void>
}

/**
 * Largest rendition accepted, bytes: what the rung's bitrate allows for the
 * segment, × 4, plus 256 kB of headroom (audio, container, a keyframe-heavy
 * scene). A worker cannot make the ingest store arbitrary amounts.
 */
export function maxRenditionBytes (videoKbps: number, durationMs: number): number {
  return Math.ceil(videoKbps * 1000 / 8 * (durationMs / 1000) * 4) + 256 * 1024
}

/**
 * One transcode attempt on one worker: stream the segment to it, read the
 * renditions back into a staging directory of its own (hedged attempts of the
 * same job run side by side), and check each: the asked-for renditions only,
 * size bounded, hash, and {@link verifyRendition} (parses: H.264, the SPS's
 * resolution, IDR start, container duration; decodes a sample and what it cannot parse). Throws {@link AttemptInvalidError} for bad
 * output, {@link AttemptRejectedError} when the worker declined, and a plain
 * Error for everything else (failed transcode, broken stream).
 */
export async function transcodeOn (ctx: AttemptContext, worker: string, job: JobAnnounce, segment: Uint8Array, signal: AbortSignal, purpose: 'job' | 'spot' = 'job'): Promise<AttemptOutput> {
  const started = Date.now()
  const dir = join(ctx.store.dataDir, 'staging', `${job.jobId}-${purpose}-${createHash('sha256').update(worker).digest('hex').slice(0, 12)}`)
  const discard = async (): Promise<void> => { await rm(dir, { recursive: true, force: true }) }
  await mkdir(dir, { recursive: true })
  const stream = await ctx.protocols.dial(worker, PROTOCOL_TRANSCODE, { signal }).catch(async (err) => { await discard(); throw err })
  const ch = messageChannel(ctx, stream, 'transcode')
  try {
    await ch.write(codecs.transcodeRequest, { job, segmentSize: segment.byteLength }, { signal })
    await ch.writeBytes(segment, { signal })
    const res = await ch.read(codecs.transcodeResponse, { signal })
    if (res.status === TranscodeResponse.Status.BUSY) throw new AttemptRejectedError(`worker busy: ${res.error}`)
    if (res.status !== TranscodeResponse.Status.OK) {
      throw new Error(`worker answered ${TranscodeResponse.Status[res.status] ?? res.status}: ${res.error}`)
    }
    const expected = new Map(job.ladder.map(r => [r.name, r]))
    if (res.renditions.length !== expected.size || res.renditions.some(r => !expected.has(r.name)) || new Set(res.renditions.map(r => r.name)).size !== expected.size) {
      throw new AttemptInvalidError(`worker returned renditions ${res.renditions.map(r => r.name).join(',')}, asked for ${[...expected.keys()].join(',')}`)
    }
    for (const r of res.renditions) {
      const limit = maxRenditionBytes(expected.get(r.name)!.videoKbps, job.durationMs)
      if (r.size > limit) throw new AttemptInvalidError(`rendition ${r.name}: ${r.size} bytes, more than the ${limit} its bitrate allows`)
    }
    // Read every rendition off the stream first (the worker sends them in
    // order), then verify them in parallel.
    const cmaf = containerOf(job) === 'cmaf'
    const received: Array<{ name: string, file: string, sha: Buffer, size: number, bandwidth: number, init?: { size: number, sha256: string } }> = []
    for (const r of res.renditions) {
      let bytes = await ch.readBytes(r.size, { signal })
      let sha = createHash('sha256').update(bytes).digest()
      if (!sha.equals(r.sha256)) throw new AttemptInvalidError(`rendition ${r.name}: hash mismatch`)
      let init: { size: number, sha256: string } | undefined
      if (cmaf) {
        // Stored as canonical init + media (mfra dropped), so every segment's init is shared.
        let stored
        try {
          stored = toStoredCmaf(bytes)
        } catch (err: any) {
          throw new AttemptInvalidError(`rendition ${r.name} is not a fragmented MP4: ${String(err?.message)}`)
        }
        bytes = stored.bytes
        sha = createHash('sha256').update(bytes).digest()
        init = { size: stored.initSize, sha256: stored.initSha256 }
      }
      // BANDWIDTH must be the peak: never below what this segment really used.
      const bandwidth = Math.max(r.bandwidth, Math.ceil(bytes.byteLength * 8 / Math.max(0.1, job.durationMs / 1000)))
      const file = join(dir, `${r.name}.${cmaf ? 'mp4' : 'ts'}`)
      await writeFile(file, bytes)
      received.push({ name: r.name, file, sha, size: bytes.byteLength, bandwidth, ...(init != null ? { init } : {}) })
    }
    // Every rendition is read: a close that fails (the worker hung up first) loses nothing.
    await ch.close({ signal }).catch(() => { /* the worker hung up first: every rendition was already read */ })
    const renditions = await Promise.all(received.map(async ({ name, file, sha, size, bandwidth, init }): Promise<StagedRendition> => {
      const rung = expected.get(name)!
      // Without ffprobe (the bundled static ffmpeg) media probes with ffmpeg itself: never unverified.
      const check = await verifyRendition(file, { width: rung.width, height: rung.height, durationSec: job.durationMs / 1000 }, { ffprobePath: ctx.ffmpeg.ffprobe, ffmpegPath: ctx.ffmpeg.ffmpeg, signal })
      if (!check.ok) throw new AttemptInvalidError(`rendition ${name} failed verification: ${check.reason}`)
      return { file, record: { name, width: rung.width, height: rung.height, bandwidth, codecs: check.probe.codecs, size, sha256: sha.toString('hex'), ...(init != null ? { initSize: init.size, initSha256: init.sha256 } : {}) } }
    }))
    return { worker, renditions, elapsedMs: Date.now() - started, discard }
  } catch (err: any) {
    ch.abort(err)
    await discard()
    throw err
  }
}
