import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { containerOf, truncateUtf8, codecs, PROTOCOL_BID, PROTOCOL_TRANSCODE, StreamAnnounce, TOPIC_JOBS, TOPIC_STREAMS, TranscodeResponse } from '@diststream/protocol'
import { DEFAULT_PRESET, Transcoder, warmUpFfmpeg } from '@diststream/media'
import { Counter, Gauge, Histogram } from 'prom-client'
import { loadOrCalibrate } from './calibrate.js'
import { Estimator } from './estimator.js'
import { BidBook, DEFAULT_JOB_LIMITS, refuseJob, StreamOrigins } from './admission.js'
import type { JobLimits } from './admission.js'
import { BidSlots } from './slots.js'
import type { Calibration } from './calibrate.js'
import type { RungSpec } from '@diststream/media'
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
  preset?: string
  /** Runs the transcodes; carries the hardware encoder, if any (default: libx264). */
  transcoder?: Transcoder
  estimator?: Estimator
  /** What this worker will spend on one job (rung sizes, segment size and length, ladder length). */
  limits?: Partial<JobLimits>
  /** Asking price put in every bid (0 = free). */
  price?: number
  /**
   * Calibrate at start (in the background: bids use the built-in model until it is done),
   * cached in `dataDir`. Omitted: no calibration.
   */
  calibrate?: { dataDir: string, ladder: readonly RungSpec[], ffmpegVersion: string }
  /** How long a bid holds a slot (default {@link OFFER_TTL_MS}). */
  offerTtlMs?: number
  /**
   * Bid throttling: whether this worker is among those elected to bid on the
   * job (`shouldBid` in the scheduler's bid policy, over the free workers
   * presence knows). Default: every free worker bids.
   */
  elected?: (job: JobAnnounce) => boolean
  /** Capacity to drop to if the GPU fails and the worker moves to the CPU (default: keep `maxJobs`). */
  cpuMaxJobs?: number
}

/** How long a bid holds a slot: the ingest's bid window plus dispatch, with margin. */
export const OFFER_TTL_MS = 500

export class Worker {
  private readonly slots: BidSlots
  private readonly log: Logger
  readonly estimator: Estimator
  readonly transcoder: Transcoder
  private calibrating?: Promise<void>
  #calibration?: Calibration
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
    this.transcoder = init.transcoder ?? new Transcoder({ ffmpegPath: init.ffmpegPath, preset: init.preset, logger: this.log })
    this.estimator = init.estimator ?? new Estimator({ parallelism: this.transcoder.hw != null ? 2 : 1 })
    this.slots = new BidSlots({ maxJobs: init.maxJobs, ttlMs: init.offerTtlMs ?? OFFER_TTL_MS })
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

  get activeJobs (): number { return this.slots.active }
  get maxJobs (): number { return this.slots.maxJobs }
  /** Video encoder in use: `libx264` or a hardware one (e.g. `h264_nvenc`). */
  get encoder (): string { return this.transcoder.encoder }
  /** `cpu` or the hardware kind in use. */
  get hwKind (): string { return this.transcoder.hwKind }
  get gpu (): boolean { return this.transcoder.hw != null }
  get price (): number { return this.init.price ?? 0 }
  /** The calibration in use, once measured or loaded. */
  get calibration (): Calibration | undefined { return this.#calibration }
  /** Settles when the start-up calibration is done (or failed, or was not asked for). */
  async calibrated (): Promise<void> { await this.calibrating }

  async start (): Promise<void> {
    await mkdir(this.init.workDir, { recursive: true })
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
    this.startCalibration()
  }

  /** Calibrates (or loads the cached calibration) in the background, when asked to. */
  private startCalibration (): void {
    const cal = this.init.calibrate
    if (cal != null) {
      const preset = this.init.preset ?? DEFAULT_PRESET
      this.calibrating = loadOrCalibrate({ ...cal, ffmpegPath: this.init.ffmpegPath, transcoder: this.transcoder, preset, workDir: this.init.workDir, signal: this.shutdown.signal })
        .then(({ calibration: c, cached }) => {
          this.#calibration = c
          this.estimator.setModel(c)
          this.afterFallback()
          this.log.info({ cached, encoder: c.encoder, fixedMs: c.fixedMs, msPerMediaSec: c.msPerMediaSec, source: `${c.source.width}x${c.source.height}`, ladder: c.ladder.map(r => r.name).join(','), runs: c.runs }, cached ? 'calibration loaded from the data dir' : 'calibrated')
        }, (err: any) => {
          if (!this.shutdown.signal.aborted) this.log.warn({ err: err?.message ?? String(err) }, 'calibration failed; estimating with the built-in model')
        })
    }
  }

  /** After the GPU failed and the transcoder moved to the CPU: CPU capacity, and measure the CPU (once). */
  private afterFallback (): void {
    if (!this.transcoder.fellBack || this.fallbackHandled) return
    this.fallbackHandled = true
    this.estimator.parallelism = 1
    if (this.init.cpuMaxJobs != null) this.slots.maxJobs = Math.min(this.slots.maxJobs, this.init.cpuMaxJobs)
    if (this.#calibration == null || this.#calibration.encoder === this.transcoder.encoder) return
    const previous = this.calibrating
    this.calibrating = (async () => {
      await previous
      this.startCalibration()
      await this.calibrating
    })()
  }

  private fallbackHandled = false

  async stop (): Promise<void> {
    this.shutdown.abort()
    this.unsubscribe?.()
    this.unsubscribeStreams?.()
    await this.calibrating
    await this.init.protocols.unhandle(PROTOCOL_TRANSCODE)
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
    // Full (running + promised = --max-jobs): no bid at all.
    if (!this.slots.canBid(job.jobId)) return
    if (job.deadlineMs > 0 && job.deadlineMs < Date.now()) return
    // In a large network only the few workers elected for this job bid (bid-policy.ts).
    if (this.init.elected?.(job) === false) return
    const estimateMs = this.estimator.estimate(job, { active: this.slots.active, pending: this.slots.pending })
    this.bidBook.record(job, from)
    this.slots.reserve(job.jobId)
    const bid = {
      jobId: job.jobId,
      estimateMs,
      activeJobs: this.slots.active,
      maxJobs: this.slots.maxJobs,
      gpu: this.gpu,
      hwKind: this.hwKind,
      price: this.price
    }
    const signal = AbortSignal.any([AbortSignal.timeout(2000), this.shutdown.signal])
    let stream: Stream
    try {
      stream = await this.init.protocols.dial(from, PROTOCOL_BID, { signal })
    } catch (err) {
      this.slots.release(job.jobId)
      throw err
    }
    const ch = messageChannel(this.init, stream, 'bid')
    try {
      await ch.write(codecs.bid, bid, { signal })
      const ack = await ch.read(codecs.bidAck, { signal })
      if (!ack.accepted) this.slots.release(job.jobId)
      this.metrics.bids.inc()
      this.log.debug({ jobId: job.jobId, accepted: ack.accepted, estimateMs: bid.estimateMs }, 'bid sent')
      await ch.close({ signal })
    } catch (err) {
      this.slots.release(job.jobId)
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
    if (job != null) this.slots.release(job.jobId)
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
    if (!this.slots.start()) {
      await refuse(TranscodeResponse.Status.BUSY, 'worker at capacity').catch(err => { ch.abort(err) })
      return
    }
    this.metrics.active.set(this.slots.active)
    const concurrent = this.slots.active
    const started = Date.now()
    const dir = await mkdtemp(join(this.init.workDir, `job-${job.jobId}-`))
    const log = this.log.child({ jobId: job.jobId, streamId: job.streamId, seq: job.seq, peer })
    let answered = false
    try {
      const segment = await ch.readBytes(req.segmentSize, { signal })
      const input = join(dir, 'in.ts')
      await writeFile(input, segment)
      const result = await this.transcoder.transcode({
        input,
        outDir: dir,
        ladder: job.ladder.map(r => ({ name: r.name, width: r.width, height: r.height, videoKbps: r.videoKbps })),
        fpsMilli: job.fpsMilli,
        durationSec: job.durationMs / 1000,
        sourceCodec: job.videoCodec,
        container: containerOf(job),
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
      this.estimator.observe(job, elapsedMs, concurrent)
      this.afterFallback()
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
      this.slots.finish()
      this.metrics.active.set(this.slots.active)
      await rm(dir, { recursive: true, force: true })
    }
  }

  private async reply (ch: MessageChannel, res: TranscodeResponse): Promise<void> {
    await ch.write(codecs.transcodeResponse, res)
  }
}
