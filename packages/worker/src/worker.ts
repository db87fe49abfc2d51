import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { containerOf, truncateUtf8, codecs, PROTOCOL_BID, PROTOCOL_TRANSCODE, TOPIC_JOBS, TOPIC_STREAMS, TranscodeResponse } from '@diststream/protocol'
import { DEFAULT_PRESET, Transcoder, warmUpFfmpeg } from '@diststream/media'
import { loadOrCalibrate } from './calibrate.js'
import { Estimator } from './estimator.js'
import { BidBook, DEFAULT_JOB_LIMITS, refuseJob, StreamOrigins } from './admission.js'
import type { JobLimits } from './admission.js'
import { BidSlots } from './slots.js'
import { receiveDeadlineMs, receiveSegment } from './transfer.js'
import { createWorkerMetrics } from './metrics.js'
import { checkSegmentInput, InputMismatchError } from './input-check.js'
import type { WorkerMetrics } from './metrics.js'
import type { Calibration } from './calibrate.js'
import type { RungSpec } from '@diststream/media'
import type { JobAnnounce, Rendition, TranscodeRequest } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import type { PeerComponents } from '@diststream/p2p'
import type { MessageChannel } from '@diststream/protocol'
import type { Startable, Stream } from '@libp2p/interface'
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
/** Sending one bid and reading its ack: a bid is only useful within the ingest's bid window. */
export const BID_TIMEOUT_MS = 2000
/** Reading a transcode request: the ingest sends it as soon as it opens the stream. */
export const REQUEST_TIMEOUT_MS = 10_000
/** One whole transcode exchange (segment in, every rung made, renditions out); the ingest gives up well before. */
export const TRANSCODE_TIMEOUT_MS = 120_000
/** A job we bid on and were sent: the request and the announce it carries. */
interface Admitted { req: TranscodeRequest, job: JobAnnounce }

/** What one transcode made, ready to send. */
interface Made { renditions: Rendition[], bodies: Uint8Array[], encoder: string }

export class Worker implements Startable {
  private readonly slots: BidSlots
  private readonly log: Logger
  readonly estimator: Estimator
  readonly transcoder: Transcoder
  private calibrating?: Promise<void>
  #calibration?: Calibration
  private readonly metrics: WorkerMetrics
  private unsubscribe?: () => void
  private unsubscribeStreams?: () => void
  readonly #shutdown = new AbortController()
  #started = false
  /** Bids and transcodes running now: stop() waits for them. */
  readonly #inFlight = new Set<Promise<void>>()
  private readonly limits: JobLimits
  /** stream → its ingest (the StreamAnnounce signer): jobs are taken only from a stream's own ingest. */
  private readonly origins = new StreamOrigins()
  /** The jobs we bid on and to whom: transcode requests are taken only for those, from that peer. */
  private readonly bidBook = new BidBook()
  private fallbackHandled = false

  constructor (private readonly init: WorkerInit) {
    this.log = init.logger.child({ component: 'worker' })
    this.transcoder = init.transcoder ?? new Transcoder({ ffmpegPath: init.ffmpegPath, preset: init.preset, logger: this.log })
    this.estimator = init.estimator ?? new Estimator({ parallelism: this.transcoder.hw != null ? 2 : 1 })
    this.slots = new BidSlots({ maxJobs: init.maxJobs, ttlMs: init.offerTtlMs ?? OFFER_TTL_MS })
    this.limits = { ...DEFAULT_JOB_LIMITS, ...init.limits }
    this.metrics = createWorkerMetrics(init.registry)
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

  /** Started and not stopped (for /readyz). */
  isStarted (): boolean { return this.#started }

  async start (): Promise<void> {
    await mkdir(this.init.workDir, { recursive: true })
    await warmUpFfmpeg(this.init.ffmpegPath)
    await this.init.protocols.handle(PROTOCOL_TRANSCODE, (stream, peer) => {
      this.#track(this.onTranscode(stream, peer).catch(err => {
        this.log.warn({ err, peer }, 'transcode stream failed')
      }))
    }, { maxInboundStreams: Math.max(16, this.init.maxJobs * 4) })
    this.unsubscribeStreams = this.init.gossip.subscribe(TOPIC_STREAMS, codecs.streamAnnounce, (msg, from) => {
      const refused = this.origins.announce(msg, from)
      if (refused != null) this.init.onProtocolError?.('invalid', refused)
    })
    this.unsubscribe = this.init.gossip.subscribe(TOPIC_JOBS, codecs.jobAnnounce, (job, from) => {
      this.#track(this.onJob(job, from).catch(err => { this.log.debug({ err, jobId: job.jobId }, 'bid failed') }))
    })
    this.startCalibration()
    this.#started = true
  }

  async stop (): Promise<void> {
    this.#started = false
    this.#shutdown.abort()
    this.unsubscribe?.()
    this.unsubscribeStreams?.()
    await this.calibrating
    await this.init.protocols.unhandle(PROTOCOL_TRANSCODE)
    // Every bid and transcode sees the shutdown signal; wait until they have let go of ffmpeg and the work dir.
    await Promise.allSettled([...this.#inFlight])
  }

  #track (work: Promise<void>): void {
    this.#inFlight.add(work)
    void work.finally(() => { this.#inFlight.delete(work) })
  }

  /** Calibrates (or loads the cached calibration) in the background, when asked to. */
  private startCalibration (): void {
    const cal = this.init.calibrate
    if (cal != null) {
      const preset = this.init.preset ?? DEFAULT_PRESET
      this.calibrating = loadOrCalibrate({ ...cal, ffmpegPath: this.init.ffmpegPath, transcoder: this.transcoder, preset, workDir: this.init.workDir, signal: this.#shutdown.signal })
        .then(({ calibration: c, cached }) => {
          this.#calibration = c
          this.estimator.setModel(c)
          this.afterFallback()
          this.log.info({ cached, encoder: c.encoder, fixedMs: c.fixedMs, msPerMediaSec: c.msPerMediaSec, source: `${c.source.width}x${c.source.height}`, ladder: c.ladder.map(r => r.name).join(','), runs: c.runs }, cached ? 'calibration loaded from the data dir' : 'calibrated')
        }, (err: any) => {
          if (!this.#shutdown.signal.aborted) this.log.warn({ err: err?.message ?? String(err) }, 'calibration failed; estimating with the built-in model')
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

  private async onJob (job: JobAnnounce, from: string): Promise<void> {
    const heardAt = Date.now()
    // Origin rule: work only for a stream's own ingest (the signer of its StreamAnnounce).
    const ingest = this.origins.ingestOf(job.streamId)
    if (ingest !== from) {
      if (ingest != null) this.init.onProtocolError?.('invalid', 'jobs:foreign-job')
      this.metrics.refused.inc({ why: ingest == null ? 'unknown_stream' : 'foreign_job' })
      this.log.debug({ jobId: job.jobId, streamId: job.streamId, from, ingest }, ingest == null ? 'no bid: stream not announced yet' : 'no bid: job not from the stream\'s ingest')
      return
    }
    const why = refuseJob(job, this.limits)
    if (why != null) {
      this.metrics.refused.inc({ why: 'limits' })
      this.log.info({ jobId: job.jobId, streamId: job.streamId, from, why }, 'no bid: job outside this worker\'s limits')
      return
    }
    // Full (running + promised = --max-jobs), or this ingest holds its share while others wait: no bid.
    this.slots.want(from)
    if (!this.slots.canBid(job.jobId, from)) return
    if (job.deadlineMs > 0 && job.deadlineMs < Date.now()) return
    // In a large network only the few workers elected for this job bid (bid-policy.ts).
    if (this.init.elected?.(job) === false) return
    const estimateMs = this.estimator.estimate(job, { active: this.slots.active, pending: this.slots.pending })
    this.bidBook.record(job, from)
    this.slots.reserve(job.jobId, from)
    const bid = {
      jobId: job.jobId,
      estimateMs,
      activeJobs: this.slots.active,
      maxJobs: this.slots.maxJobs,
      gpu: this.gpu,
      hwKind: this.hwKind,
      price: this.price
    }
    const signal = AbortSignal.any([AbortSignal.timeout(BID_TIMEOUT_MS), this.#shutdown.signal])
    const dialAt = Date.now()
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
      // When the job was heard and the bid's stream dialled: the bench's dispatch breakdown.
      this.log.debug({ jobId: job.jobId, accepted: ack.accepted, estimateMs: bid.estimateMs, heardAt, dialAt }, 'bid sent')
      await ch.close({ signal })
    } catch (err) {
      this.slots.release(job.jobId)
      ch.abort(err as Error)
      throw err
    }
  }

  /** One inbound transcode stream: read the request, admit it (or refuse), run it. */
  private async onTranscode (stream: Stream, peer: string): Promise<void> {
    const ch = messageChannel(this.init, stream, 'transcode')
    // The ingest aborts the stream when it gives up on us (deadline, or a
    // hedged duplicate won): stop ffmpeg at once instead of finishing for nobody.
    const gone = new AbortController()
    stream.addEventListener('close', () => { gone.abort(new Error('the ingest closed the stream')) }, { once: true })
    const signal = AbortSignal.any([AbortSignal.timeout(TRANSCODE_TIMEOUT_MS), this.#shutdown.signal, gone.signal])
    let req: TranscodeRequest
    try {
      req = await ch.read(codecs.transcodeRequest, { signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), signal]) })
    } catch (err: any) {
      ch.abort(err)
      return
    }
    const admitted = await this.admit(ch, req, peer, signal)
    if (admitted != null) await this.runJob(ch, admitted, peer, signal)
  }

  /**
   * Takes a request only for a job we bid on, from the peer we bid to, within
   * our limits and capacity (then holds a running slot); refuses it otherwise.
   */
  private async admit (ch: MessageChannel, req: TranscodeRequest, peer: string, signal: AbortSignal): Promise<Admitted | undefined> {
    const job = req.job
    // Anyone else gets a reset (we cannot trust its segment_size).
    const unsolicited = job != null ? this.bidBook.check(job, peer) : undefined
    if (unsolicited != null) {
      this.init.onProtocolError?.('unexpected_message', 'transcode:unsolicited')
      this.metrics.refused.inc({ why: 'unsolicited' })
      this.log.warn({ peer, jobId: job?.jobId, why: unsolicited }, 'refused transcode request')
      ch.abort(new Error(unsolicited))
      return undefined
    }
    if (job != null) this.slots.release(job.jobId)
    if (job == null) {
      this.init.onProtocolError?.('invalid', 'transcode')
      await this.refuse(ch, req, TranscodeResponse.Status.BAD_REQUEST, 'missing job', signal)
      return undefined
    }
    const outside = refuseJob(job, this.limits)
    if (outside != null) {
      this.metrics.refused.inc({ why: 'limits' })
      await this.refuse(ch, req, TranscodeResponse.Status.BAD_REQUEST, outside, signal)
      return undefined
    }
    if (!this.slots.start(peer)) {
      await this.refuse(ch, req, TranscodeResponse.Status.BUSY, 'worker at capacity', signal)
      return undefined
    }
    return { req, job }
  }

  /** Answers a refusal; the stream is reset if even that fails. */
  private async refuse (ch: MessageChannel, req: TranscodeRequest, status: TranscodeResponse.Status, error: string, signal: AbortSignal): Promise<void> {
    try {
      // Drain the segment first: the ingest reads our answer only after sending it (within the receive deadline).
      await ch.discardBytes(req.segmentSize, { signal: AbortSignal.any([signal, AbortSignal.timeout(receiveDeadlineMs(req.segmentSize))]) })
      await this.reply(ch, { status, error, renditions: [], elapsedMs: 0, encoder: '' })
      await ch.close({ signal })
    } catch (err: any) {
      ch.abort(err)
    }
  }

  /** Runs an admitted job in its own scratch dir and answers: the renditions, or why not. Frees the slot. */
  private async runJob (ch: MessageChannel, { req, job }: Admitted, peer: string, signal: AbortSignal): Promise<void> {
    this.metrics.active.set(this.slots.active)
    const concurrent = this.slots.active
    const started = Date.now()
    const log = this.log.child({ jobId: job.jobId, streamId: job.streamId, seq: job.seq, peer })
    let answered = false
    let dir: string | undefined
    try {
      // Inside the try (review M9): a failed mkdtemp (ENOSPC, EMFILE) answers FAILED and frees the slot.
      dir = await mkdtemp(join(this.init.workDir, `job-${job.jobId}-`))
      const made = await this.transcodeSegment(ch, req, job, dir, signal)
      const elapsedMs = Date.now() - started
      answered = true
      await this.reply(ch, { status: TranscodeResponse.Status.OK, error: '', renditions: made.renditions, elapsedMs, encoder: made.encoder })
      for (const body of made.bodies) await ch.writeBytes(body, { signal })
      await ch.close({ signal })
      this.estimator.observe(job, elapsedMs, concurrent)
      this.afterFallback()
      this.metrics.jobs.inc({ outcome: 'ok' })
      this.metrics.seconds.observe(elapsedMs / 1000)
      log.info({ elapsedMs, renditions: made.renditions.length }, 'segment transcoded')
    } catch (err: any) {
      this.metrics.jobs.inc({ outcome: 'error' })
      if (err instanceof InputMismatchError) this.metrics.refused.inc({ why: 'mismatch' })
      log.warn({ err: err?.message ?? err }, 'transcode failed')
      await this.answerFailure(ch, err, answered, started)
    } finally {
      this.slots.finish(peer)
      this.metrics.active.set(this.slots.active)
      if (dir != null) await rm(dir, { recursive: true, force: true })
    }
  }

  /** Reads the segment into `dir`, transcodes it to every rung of the job, and reads the results back. */
  private async transcodeSegment (ch: MessageChannel, req: TranscodeRequest, job: JobAnnounce, dir: string, signal: AbortSignal): Promise<Made> {
    const segment = await receiveSegment(ch, req.segmentSize, signal, () => { this.metrics.refused.inc({ why: 'stalled_transfer' }) })
    checkSegmentInput(segment, job)
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
      untrusted: { width: job.width, height: job.height },
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
    return { renditions, bodies, encoder: result.encoder }
  }

  /** After a failed job: a FAILED answer with the reason, or a reset once the OK header is out. */
  private async answerFailure (ch: MessageChannel, err: any, answered: boolean, started: number): Promise<void> {
    if (answered) {
      // The OK header is out: the only honest signal left is a reset.
      ch.abort(err instanceof Error ? err : new Error(String(err)))
      return
    }
    try {
      await this.reply(ch, { status: TranscodeResponse.Status.FAILED, error: truncateUtf8(String(err?.message ?? err), 200), renditions: [], elapsedMs: Date.now() - started, encoder: '' })
      await ch.close()
    } catch {
      // The stream broke too: reset it with the job's error, which is what the ingest should learn.
      ch.abort(err)
    }
  }

  private async reply (ch: MessageChannel, res: TranscodeResponse): Promise<void> {
    await ch.write(codecs.transcodeResponse, res)
  }
}
