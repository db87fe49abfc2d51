import { randomBytes } from 'node:crypto'
import { Gauge } from 'prom-client'
import { systemClock } from '@diststream/util'
import { MAX_OUTPUTS_PER_STREAM, RESTREAM_BACKOFF, RESTREAM_CONNECT_TIMEOUT_MS, RESTREAM_STALL_MS } from '../constants.js'
import { OutputNotFoundError, TooManyOutputsError } from '../errors.js'
import { runOutput } from './ffmpeg-output.js'
import { initialStatus } from './output-state.js'
import { OutputUrlError, parseOutputUrl, redactOutputUrl } from './output-url.js'
import { checkSourcePolicy, systemPolicyIo } from '../source-policy.js'
import { OutputRelay } from './relay.js'
import type { OutputState, OutputStatus } from './output-state.js'
import type { PolicyIo, SourcePolicy } from '../source-policy.js'
import type { RecordTable } from '@diststream/store'
import type { Clock } from '@diststream/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { Readable } from 'node:stream'

/** A restream output as stored (with its stream, in the store's `outputs` table: stream id → its outputs). */
export interface OutputRecord { id: string, url: string, createdAt: number }

/** An output as the API shows it: the record (URL redacted unless `full`) and its state. */
export interface OutputView extends OutputStatus { id: string, url: string, createdAt: number }

export interface RestreamerInit {
  /** stream id → OutputRecord[] (the store's `outputs` table). */
  table: RecordTable<unknown>
  ffmpegPath: string
  logger: Logger
  registry: Registry
  clock?: Clock
  /** Which hosts an output may reach: the pull sources' policy (no cloud metadata address; loopback and private ones only with `--allow-private-sources`). */
  policy?: SourcePolicy
  policyIo?: PolicyIo
}

const STATES: OutputState[] = ['idle', 'connecting', 'live', 'retrying', 'failed']

/**
 * Restream (multistream) outputs: per stream a bounded list of URLs,
 * persisted; while the stream is live (an RTMP publish) one relay per
 * output copies the publish to it (ffmpeg `-c copy`), with reconnect and
 * backoff; stopped when the stream ends, started again when it goes live.
 */
export class Restreamer {
  readonly #init: RestreamerInit
  readonly #log: Logger
  /** stream id → output id → relay (only streams with outputs; bounded by MAX_OUTPUTS_PER_STREAM each). */
  readonly #relays = new Map<string, Map<string, OutputRelay>>()
  /** Live streams: how to open a reader of the publish. */
  readonly #live = new Map<string, () => Readable>()
  /** Per stream, the chain of store writes (add/remove never interleave). */
  readonly #writes = new Map<string, Promise<unknown>>()

  constructor (init: RestreamerInit) {
    this.#init = init
    this.#log = init.logger.child({ component: 'restream' })
    const relays = this.#relays
    if (init.registry.getSingleMetric('diststream_restream_outputs') == null) {
      // eslint-disable-next-line no-new
      new Gauge({
        name: 'diststream_restream_outputs',
        help: 'Restream outputs on this ingest by state (idle, connecting, live, retrying, failed)',
        labelNames: ['state'],
        registers: [init.registry],
        collect () {
          const n = new Map<OutputState, number>(STATES.map(s => [s, 0]))
          for (const m of relays.values()) for (const r of m.values()) n.set(r.status.state, (n.get(r.status.state) ?? 0) + 1)
          for (const [state, v] of n) this.set({ state }, v)
        }
      })
    }
  }

  async #records (streamId: string): Promise<OutputRecord[]> {
    const v = await this.#init.table.get(streamId)
    return Array.isArray(v) ? (v as OutputRecord[]).slice(0, MAX_OUTPUTS_PER_STREAM) : []
  }

  /** Runs `fn` after the stream's earlier writes. */
  async #serial<T> (streamId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#writes.get(streamId) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    // The caller gets the error from `next`; the chain only orders writes.
    const tail = next.catch(() => undefined)
    this.#writes.set(streamId, tail)
    void tail.then(() => { if (this.#writes.get(streamId) === tail) this.#writes.delete(streamId) })
    return await next
  }

  /** The stream's outputs with their state; `full`: with the URL as given (the API token holder), else redacted. */
  async list (streamId: string, full: boolean): Promise<OutputView[]> {
    return (await this.#records(streamId)).map(r => this.#view(streamId, r, full))
  }

  #view (streamId: string, r: OutputRecord, full: boolean): OutputView {
    const status = this.#relays.get(streamId)?.get(r.id)?.status ?? initialStatus(r.createdAt)
    return { id: r.id, url: full ? r.url : redactOutputUrl(r.url), createdAt: r.createdAt, ...status }
  }

  /** Adds an output (validated: OutputUrlError 400; TooManyOutputsError 409); it starts at once if the stream is live. */
  async add (streamId: string, rawUrl: string): Promise<OutputView> {
    const url = parseOutputUrl(rawUrl)
    // An output is a connection the ingest makes: the same host rules as a pulled source (review M4).
    try {
      await checkSourcePolicy({ input: url, realtime: false }, this.#init.policy ?? {}, this.#init.policyIo ?? systemPolicyIo)
    } catch (err) {
      throw new OutputUrlError((err as Error).message.replace(/^source host/, 'output host'))
    }
    return await this.#serial(streamId, async () => {
      const records = await this.#records(streamId)
      if (records.length >= MAX_OUTPUTS_PER_STREAM) throw new TooManyOutputsError(`a stream has at most ${MAX_OUTPUTS_PER_STREAM} outputs`)
      const rec: OutputRecord = { id: randomBytes(8).toString('hex'), url, createdAt: Date.now() }
      await this.#init.table.put(streamId, [...records, rec])
      if (this.#live.has(streamId)) this.#relayFor(streamId, rec).start()
      this.#log.info({ streamId, outputId: rec.id, url: redactOutputUrl(url) }, 'restream output added')
      return this.#view(streamId, rec, true)
    })
  }

  /** Removes an output (OutputNotFoundError 404), stopping its relay. */
  async remove (streamId: string, outputId: string): Promise<void> {
    await this.#serial(streamId, async () => {
      const records = await this.#records(streamId)
      const rest = records.filter(r => r.id !== outputId)
      if (rest.length === records.length) throw new OutputNotFoundError(`no output ${outputId} on stream ${streamId}`)
      if (rest.length === 0) await this.#init.table.delete(streamId)
      else await this.#init.table.put(streamId, rest)
      const relays = this.#relays.get(streamId)
      relays?.get(outputId)?.stop()
      relays?.delete(outputId)
      if (relays?.size === 0) this.#relays.delete(streamId)
    })
  }

  /** The stream is gone for good: its outputs are stopped and forgotten. */
  async removeAll (streamId: string): Promise<void> {
    this.onEnded(streamId)
    this.#relays.delete(streamId)
    await this.#serial(streamId, async () => { await this.#init.table.delete(streamId) })
  }

  /** The stream went live: `openInput` opens a new reader of the publish (FLV) for each attempt. */
  onLive (streamId: string, openInput: () => Readable): void {
    this.#live.set(streamId, openInput)
    this.#serial(streamId, async () => {
      for (const r of await this.#records(streamId)) {
        if (this.#live.get(streamId) === openInput) this.#relayFor(streamId, r).start()
      }
    }).catch(err => { this.#log.warn({ err, streamId }, 'could not start the restream outputs') })
  }

  /** The stream's publish ended: every output stops (and starts again when it goes live again). */
  onEnded (streamId: string): void {
    this.#live.delete(streamId)
    for (const r of this.#relays.get(streamId)?.values() ?? []) r.stop()
  }

  stop (): void {
    for (const id of [...this.#live.keys()]) this.onEnded(id)
  }

  #relayFor (streamId: string, rec: OutputRecord): OutputRelay {
    let relays = this.#relays.get(streamId)
    if (relays == null) this.#relays.set(streamId, relays = new Map())
    let relay = relays.get(rec.id)
    if (relay != null) return relay
    const log = this.#log.child({ streamId, outputId: rec.id })
    relay = new OutputRelay({
      clock: this.#init.clock ?? systemClock,
      policy: RESTREAM_BACKOFF,
      connectTimeoutMs: RESTREAM_CONNECT_TIMEOUT_MS,
      stallMs: RESTREAM_STALL_MS,
      run: (onMedia) => {
        const open = this.#live.get(streamId)
        if (open == null) return { ended: Promise.resolve('the stream is not live'), kill: () => {} }
        return runOutput(this.#init.ffmpegPath, rec.url, open(), onMedia)
      },
      onChange: (s) => {
        const fields = { state: s.state, failures: s.failures, retryAt: s.retryAt, error: s.lastError }
        if (s.state === 'retrying' || s.state === 'failed') log.warn(fields, 'restream output down')
        else log.info(fields, 'restream output')
      }
    })
    relays.set(rec.id, relay)
    return relay
  }
}
