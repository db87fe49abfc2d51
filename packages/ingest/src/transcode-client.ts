import { createHash } from 'node:crypto'
import { codecs, PROTOCOL_TRANSCODE, TranscodeResponse } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import { verifyRendition } from '@diststream/media'
import type { JobAnnounce } from '@diststream/protocol'
import type { IngestContext } from './context.js'
import type { RenditionRecord } from '@diststream/store'

export class AttemptError extends Error {
  static readonly NAME = 'AttemptError'
  override name = AttemptError.NAME
  constructor (message: string, readonly outcome: 'error' | 'rejected') {
    super(message)
  }
}

export type AttemptContext = Pick<IngestContext, 'protocols' | 'store' | 'ffmpeg' | 'onProtocolError'>

/**
 * One transcode attempt on one worker: stream the segment to it, read the
 * renditions back, check each (hash, decodes, resolution, duration) and
 * store it. Throws AttemptError (`rejected` when the output failed
 * verification) so the dispatcher can move to the next bidder.
 */
export async function transcodeOn (ctx: AttemptContext, worker: string, job: JobAnnounce, segment: Uint8Array, signal: AbortSignal): Promise<RenditionRecord[]> {
  const stream = await ctx.protocols.dial(worker, PROTOCOL_TRANSCODE, { signal })
  const ch = messageChannel(ctx, stream, 'transcode')
  try {
    await ch.write(codecs.transcodeRequest, { job, segmentSize: segment.byteLength }, { signal })
    await ch.writeBytes(segment, { signal })
    const res = await ch.read(codecs.transcodeResponse, { signal })
    if (res.status !== TranscodeResponse.Status.OK) {
      throw new AttemptError(`worker answered ${TranscodeResponse.Status[res.status] ?? res.status}: ${res.error}`, 'error')
    }
    const expected = new Map(job.ladder.map(r => [r.name, r]))
    if (res.renditions.length !== expected.size || res.renditions.some(r => !expected.has(r.name))) {
      throw new AttemptError(`worker returned renditions ${res.renditions.map(r => r.name).join(',')}, asked for ${[...expected.keys()].join(',')}`, 'rejected')
    }
    // Read every rendition off the stream first (the worker sends them in
    // order), then verify them in parallel: one ffprobe each, two cores.
    const received: Array<{ r: typeof res.renditions[number], file: string, sha: Buffer, size: number, bandwidth: number }> = []
    for (const r of res.renditions) {
      const bytes = await ch.readBytes(r.size, { signal })
      const sha = createHash('sha256').update(bytes).digest()
      if (!sha.equals(r.sha256)) throw new AttemptError(`rendition ${r.name}: hash mismatch`, 'rejected')
      // BANDWIDTH must be the peak: never below what this segment really used.
      const bandwidth = Math.max(r.bandwidth, Math.ceil(bytes.byteLength * 8 / Math.max(0.1, job.durationMs / 1000)))
      const file = await ctx.store.files.write(job.streamId, r.name, job.seq, bytes)
      received.push({ r, file, sha, size: bytes.byteLength, bandwidth })
    }
    const out = await Promise.all(received.map(async ({ r, file, sha, size, bandwidth }): Promise<RenditionRecord> => {
      const rung = expected.get(r.name)!
      // Without ffprobe (the bundled static ffmpeg) media probes with ffmpeg itself: never unverified.
      const check = await verifyRendition(file, { width: rung.width, height: rung.height, durationSec: job.durationMs / 1000 }, { ffprobePath: ctx.ffmpeg.ffprobe, ffmpegPath: ctx.ffmpeg.ffmpeg, signal })
      if (!check.ok) throw new AttemptError(`rendition ${r.name} failed verification: ${check.reason}`, 'rejected')
      return { name: r.name, width: rung.width, height: rung.height, bandwidth, codecs: check.probe.codecs, size, sha256: sha.toString('hex') }
    }))
    await ch.close({ signal }).catch(() => {})
    return out
  } catch (err: any) {
    ch.abort(err)
    throw err
  }
}
