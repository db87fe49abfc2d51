import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { truncateUtf8, codecs, PROTOCOL_BID, PROTOCOL_TRANSCODE, StreamAnnounce, TOPIC_JOBS, TOPIC_STREAMS, TranscodeResponse } from '@diststream/protocol'
import { transcodeSegment, warmUpFfmpeg } from '@diststream/media'
import { Counter, Gauge, Histogram } from 'prom-client'
import { Estimator } from './estimator.js'
import { BidBook, DEFAULT_JOB_LIMITS, refuseJob, StreamOrigins } from './admission.js'
import type { JobLimits } from './admission.js'
import type { JobAnnounce, Rendition } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import type { PeerComponents } from '@diststream/p2p'
import type { MessageChannel } from '@diststream/protocol'
import type { Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface WorkerInit extends PeerComponents {
  ffmpegPath: string
  maxJobs: number
  /** Scratch space for segments being transcoded. */
  workDir: string
  logger: Logger
  registry: Registry
  gpu?: boolean
  hwKind?: string
  preset?: string
  estimator?: Estimator
  /** What this worker will spend on one job (rung sizes, segment size and length, ladder length). */
  limits?: Partial<JobLimits>
}

/** How long a bid holds a slot: the ingest's bid window plus dispatch, with margin. */
const OFFER_TTL_MS = 500

export class Worker {
  private active = 0
  private readonly log: Logger
  private readonly estimator: Estimator
  private readonly metrics: { bids: Counter, jobs: Counter<'outcome'>, active: Gauge, seconds: Histogram }
  private unsubscribe?: () => void
  private unsubscribeStreams?: () => void
  private readonly shutdown = new AbortController()
  private readonly limits: JobLimits
  /** stream → its ingest (the StreamAnnounce signer): jobs are taken only from a stream's own ingest. */
  private readonly origins = new StreamOrigins()
  /** The jobs we bid on and to whom: transcode requests are taken only for those, from that peer. */
  private readonly bidBook = new BidBook()
  private readonly refused: Counter<'why'>

  constructor (private readonly init: WorkerInit) {
    this.log = init.logger.child({ component: 'worker' })
    this.estimator = init.estimator ?? new Estimator()
    this.limits = { ...DEFAULT_JOB_LIMITS, ...init.limits }
    const registers = [init.registry]
    this.refused = new Counter({ name: 'diststream_worker_jobs_refused_total', help: 'Jobs and transcode requests this worker refused: limits (sizes, lengths), unknown_stream, foreign_job (not from the stream\'s ingest), unsolicited (no bid of ours to that peer)', labelNames: ['why'], registers })
    this.metrics = {
      bids: new Counter({ name: 'diststream_worker_bids_total', help: 'Bids this worker sent', registers }),
      jobs: new Counter({ name: 'diststream_worker_jobs_total', help: 'Transcode jobs this worker ran, by outcome', labelNames: ['outcome'], registers }),
      active: new Gauge({ name: 'diststream_worker_active_jobs', help: 'Transcodes running now', registers, collect: () => {} }),
      seconds: new Histogram({ name: 'diststream_worker_transcode_seconds', help: 'Wall time of one segment transcode', buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8], registers })
    }
  }

  get activeJobs (): number { return this.active }
  get maxJobs (): number { return this.init.maxJobs }

  async start (): Promise<void> {
    await warmUpFfmpeg(this.init.ffmpegPath)
    await this.init.protocols.handle(PROTOCOL_TRANSCODE, (stream, peer) => {
      this.onTranscode(stream, peer).catch(err => {
        this.log.warn({ err, peer }, 'transcode stream failed')
      })
    }, { maxInboundStreams: Math.max(16, this.init.maxJobs * 4) })
    this.unsubscribeStreams = this.init.gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (msg, from) => {
      if (!this.origins.announce(msg.streamId, from, msg.state === StreamAnnounce.State.ENDED)) this.init.onProtocolError?.('invalid', 'streams:foreign-announce')
    })
    this.unsubscribe = this.init.gossip.subscribe(TOPIC_JOBS, codecs.jobAnnounce, (job, from) => {
      this.onJob(job, from).catch(err => { this.log.debug({ err, jobId: job.jobId }, 'bid failed') })
    })
  }

  async stop (): Promise<void> {
    this.shutdown.abort()
    this.unsubscribe?.()
    this.unsubscribeStreams?.()
    await this.init.protocols.unhandle(PROTOCOL_TRANSCODE)
  }

  /**
   * Capacity promised in outstanding bids: jobId → when the promise lapses.
   * Without it a free worker bids on every job in a burst, wins several and
   * has to refuse all but one.
   */
  private readonly offers = new Map<string, number>()

  private committed (): number {
    const now = Date.now()
    for (const [id, until] of this.offers) if (until < now) this.offers.delete(id)
    return this.active + this.offers.size
  }

  private async onJob (job: JobAnnounce, from: string): Promise<void> {
    // Origin rule: work only for a stream's own ingest (the signer of its StreamAnnounce).
    const ingest = this.origins.ingestOf(job.streamId)
    if (ingest !== from) {
      if (ingest != null) this.init.onProtocolError?.('invalid', 'jobs:foreign-job')
      this.refused.inc({ why: ingest == null ? 'unknown_stream' : 'foreign_job' })
      this.log.debug({ jobId: job.jobId, streamId: job.streamId, from, ingest }, ingest == null ? 'no bid: stream not announced yet' : 'no bid: job not from the stream\'s ingest')
      return
    }
    const why = refuseJob(job, this.limits)
    if (why != null) {
      this.refused.inc({ why: 'limits' })
      this.log.info({ jobId: job.jobId, streamId: job.streamId, from, why }, 'no bid: job outside this worker\'s limits')
      return
    }
    if (this.offers.has(job.jobId) || this.committed() >= this.init.maxJobs) return
    if (job.deadlineMs > 0 && job.deadlineMs < Date.now()) return
    this.bidBook.record(job, from)
    this.offers.set(job.jobId, Date.now() + OFFER_TTL_MS)
    const bid = {
      jobId: job.jobId,
      estimateMs: this.estimator.estimate(job.durationMs, job.ladder.length, this.active),
      activeJobs: this.active,
      maxJobs: this.init.maxJobs,
      gpu: this.init.gpu ?? false,
      hwKind: this.init.hwKind ?? 'cpu',
      price: 0
    }
    const signal = AbortSignal.any([AbortSignal.timeout(2000), this.shutdown.signal])
    const stream = await this.init.protocols.dial(from, PROTOCOL_BID, { signal })
    const ch = messageChannel(this.init, stream, 'bid')
    try {
      await ch.write(codecs.bid, bid, { signal })
      const ack = await ch.read(codecs.bidAck, { signal })
      if (!ack.accepted) this.offers.delete(job.jobId)
      this.metrics.bids.inc()
      this.log.debug({ jobId: job.jobId, accepted: ack.accepted, estimateMs: bid.estimateMs }, 'bid sent')
      await ch.close({ signal })
    } catch (err) {
      this.offers.delete(job.jobId)
      ch.abort(err as Error)
      throw err
    }
  }

  private async onTranscode (stream: Stream, peer: string): Promise<void> {
    const ch = messageChannel(this.init, stream, 'transcode')
    // The ingest aborts the stream when it gives up on us (deadline, or a
    // hedged duplicate won): stop ffmpeg at once instead of finishing for nobody.
    const gone = new AbortController()
    stream.addEventListener('close', () => { gone.abort(new Error('the ingest closed the stream')) }, { once: true })
    const signal = AbortSignal.any([AbortSignal.timeout(120_000), this.shutdown.signal, gone.signal])
    let req
    try {
      req = await ch.read(codecs.transcodeRequest, { signal: AbortSignal.any([AbortSignal.timeout(10_000), signal]) })
    } catch (err: any) {
      ch.abort(err)
      return
    }
    const job = req.job
    // Only a job we bid on, from the peer we bid to: anyone else gets a reset (we cannot trust its segment_size).
    const unsolicited = job != null ? this.bidBook.check(job, peer) : undefined
    if (unsolicited != null) {
      this.init.onProtocolError?.('unexpected_message', 'transcode:unsolicited')
      this.refused.inc({ why: 'unsolicited' })
      this.log.warn({ peer, jobId: job?.jobId, why: unsolicited }, 'refused transcode request')
      ch.abort(new Error(unsolicited))
      return
    }
    if (job != null) this.offers.delete(job.jobId)
    const refuse = async (status: TranscodeResponse.Status, error: string): Promise<void> => {
      // Drain the segment first: the ingest reads our answer only after sending it.
      await ch.discardBytes(req.segmentSize, { signal })
      await this.reply(ch, { status, error, renditions: [], elapsedMs: 0, encoder: '' })
      await ch.close({ signal })
    }
    if (job == null) {
      this.init.onProtocolError?.('invalid', 'transcode')
      await refuse(TranscodeResponse.Status.BAD_REQUEST, 'missing job').catch(err => { ch.abort(err) })
      return
    }
    const outside = refuseJob(job, this.limits)
    if (outside != null) {
      this.refused.inc({ why: 'limits' })
      await refuse(TranscodeResponse.Status.BAD_REQUEST, outside).catch(err => { ch.abort(err) })
      return
    }
    if (this.active >= this.init.maxJobs) {
      await refuse(TranscodeResponse.Status.BUSY, 'worker at capacity').catch(err => { ch.abort(err) })
      return
    }
    this.active++
    this.metrics.active.set(this.active)
    const concurrent = this.active
    const started = Date.now()
    const dir = await mkdtemp(join(this.init.workDir, `job-${job.jobId}-`))
    const log = this.log.child({ jobId: job.jobId, streamId: job.streamId, seq: job.seq, peer })
    let answered = false
    try {
      const segment = await ch.readBytes(req.segmentSize, { signal })
      const input = join(dir, 'in.ts')
      await writeFile(input, segment)
      const result = await transcodeSegment({
        ffmpegPath: this.init.ffmpegPath,
        input,
        outDir: dir,
        ladder: job.ladder.map(r => ({ name: r.name, width: r.width, height: r.height, videoKbps: r.videoKbps })),
        fpsMilli: job.fpsMilli,
        durationSec: job.durationMs / 1000,
        preset: this.init.preset,
        signal
      })
      const renditions: Rendition[] = []
      const bodies: Uint8Array[] = []
      for (const r of result.renditions) {
        const bytes = await readFile(r.path)
        bodies.push(bytes)
        const rung = job.ladder.find(l => l.name === r.name)
        renditions.push({
          name: r.name,
          width: r.width,
          height: r.height,
          bandwidth: Math.round((rung?.videoKbps ?? 0) * 1000 * 1.1 + 128_000),
          codecs: '',
          size: bytes.byteLength,
          sha256: createHash('sha256').update(bytes).digest()
        })
      }
      const elapsedMs = Date.now() - started
      answered = true
      await this.reply(ch, { status: TranscodeResponse.Status.OK, error: '', renditions, elapsedMs, encoder: result.encoder })
      for (const body of bodies) await ch.writeBytes(body, { signal })
      await ch.close({ signal })
      this.estimator.observe(job.durationMs, job.ladder.length, elapsedMs, concurrent)
      this.metrics.jobs.inc({ outcome: 'ok' })
      this.metrics.seconds.observe(elapsedMs / 1000)
      log.info({ elapsedMs, renditions: renditions.length }, 'segment transcoded')
    } catch (err: any) {
      this.metrics.jobs.inc({ outcome: 'error' })
      log.warn({ err: err?.message ?? err }, 'transcode failed')
      if (answered) {
        // The OK header is out: the only honest signal left is a reset.
        ch.abort(err instanceof Error ? err : new Error(String(err)))
      } else {
        try {
          await this.reply(ch, { status: TranscodeResponse.Status.FAILED, error: truncateUtf8(String(err?.message ?? err), 200), renditions: [], elapsedMs: Date.now() - started, encoder: '' })
          await ch.close()
        } catch {
          ch.abort(err)
        }
      }
    } finally {
      this.active--
      this.metrics.active.set(this.active)
      await rm(dir, { recursive: true, force: true })
    }
  }

  private async reply (ch: MessageChannel, res: TranscodeResponse): Promise<void> {
    await ch.write(codecs.transcodeResponse, res)
  }
}
