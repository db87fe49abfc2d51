import { randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { hashStreamKey } from '../keys.js'
import { streamEnded, streamStarted } from '../events.js'
import { goLive, toIdle } from '../stream-state.js'
import { RtpBridge } from './bridge.js'
import { MAX_WHIP_SESSIONS, MAX_WHIP_SESSIONS_PER_STREAM, WHIP_RESOURCE_ID_BYTES } from './limits.js'
import { createWhipMetrics } from './metrics.js'
import { WhipPeer } from './peer.js'
import { checkOffer, WhipOfferError } from './sdp.js'
import { WhipWatch } from './watch.js'
import type { WhipMetrics } from './metrics.js'
import type { StreamAnnouncer } from '../announcer.js'
import type { PublishSession, SessionOptions } from '../session/session.js'
import type { IngestInit } from '../types.js'
import type { Store, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** How often each session's {@link WhipWatch} is consulted (ms): a quarter of the shortest keyframe interval (0.5 s segments). */
const TICK_MS = 125

/** Why a WHIP request is refused (the `why` of `diststream_whip_refused_total`). */
export type WhipRefusal = 'content_type' | 'sdp_too_large' | 'bad_offer' | 'no_h264' | 'unknown_key' | 'too_many_sessions'

/** A refused WHIP request, with its HTTP status. */
export class WhipRefusedError extends Error {
  static readonly NAME = 'WhipRefusedError'
  override name = WhipRefusedError.NAME
  constructor (readonly why: WhipRefusal | 'unknown_resource', readonly statusCode: number, message: string) { super(message) }
}

export interface WhipPublishesDeps {
  store: Store
  logger: Logger
  registry: Registry
  announcer: StreamAnnouncer
  onEvent?: IngestInit['onEvent']
  ffmpegPath: string
  segmentSeconds: number
  /** The stream a key's hash may publish, if any (the RTMP publishes' table: one key, both protocols). */
  streamIdOf: (keyHash: string) => string | undefined
  sessions: Map<string, PublishSession>
  newSession: (rec: StreamRecord, input: string, workDir: string, opts: SessionOptions) => PublishSession
  shutdown: () => AbortSignal
  /** Extra ICE host addresses (loopback, for a broadcaster on the ingest's own host). */
  hostAddresses?: string[]
}

interface Held {
  resource: string
  keyHash: string
  streamId: string
  audio: boolean
  peer: WhipPeer
  watch: WhipWatch
  timer?: NodeJS.Timeout
  bridge?: RtpBridge
  session?: PublishSession
  workDir?: string
  ending?: Promise<void>
}

/**
 * WHIP publishes (RFC 9725): an offer for a known key gets an answer and a
 * resource; once the peer connects, its RTP goes through an {@link RtpBridge}
 * into a publish session exactly like an RTMP publish's FLV. DELETE, a
 * failed or silent connection, or the end of the input end it.
 */
export class WhipPublishes {
  readonly #deps: WhipPublishesDeps
  readonly #log: Logger
  readonly #metrics: WhipMetrics
  /** Sessions by resource id; never more than {@link MAX_WHIP_SESSIONS}. */
  readonly #held = new Map<string, Held>()

  constructor (deps: WhipPublishesDeps) {
    this.#deps = deps
    this.#log = deps.logger.child({ component: 'whip' })
    this.#metrics = createWhipMetrics(deps.registry, () => this.#held.size)
  }

  /** Counts a refusal made before the offer reaches {@link offer} (content type, body size: the HTTP layer sees those). */
  refused (why: WhipRefusal): void { this.#metrics.refused.inc({ why }) }

  /** Answers `sdp` for stream key `key`: the answer and the resource id for the `Location`. Throws {@link WhipRefusedError}. */
  async offer (key: string, sdp: string): Promise<{ resource: string, answer: string }> {
    const keyHash = hashStreamKey(key)
    const streamId = this.#deps.streamIdOf(keyHash)
    if (streamId == null) throw this.refuse('unknown_key', 404, 'unknown stream key')
    await WhipPeer.load()
    if (this.#held.size >= MAX_WHIP_SESSIONS) throw this.refuse('too_many_sessions', 503, `this ingest holds ${MAX_WHIP_SESSIONS} WHIP sessions already`)
    if ([...this.#held.values()].filter(h => h.streamId === streamId).length >= MAX_WHIP_SESSIONS_PER_STREAM) throw this.refuse('too_many_sessions', 503, `this stream has ${MAX_WHIP_SESSIONS_PER_STREAM} WHIP sessions already (DELETE one, or wait for it to time out)`)
    let audio: boolean
    try {
      audio = checkOffer(sdp).audio
    } catch (err) {
      if (err instanceof WhipOfferError) throw this.refuse(err.why, err.statusCode, err.message)
      throw err
    }
    const resource = randomBytes(WHIP_RESOURCE_ID_BYTES).toString('base64url')
    const held: Held = { resource, keyHash, streamId, audio, watch: new WhipWatch(Date.now(), { segmentSeconds: this.#deps.segmentSeconds }), peer: undefined as unknown as WhipPeer }
    held.peer = WhipPeer.create({
      rtp: (kind, packet) => { held.watch.media(Date.now()); held.bridge?.forward(kind, packet) },
      connected: () => {
        held.watch.connected(Date.now())
        this.begin(held).catch(err => { this.#log.error({ err, streamId }, 'starting the WHIP publish failed'); void this.end(held) })
      },
      failed: (stage) => { this.#metrics.failures.inc({ stage }); this.#log.warn({ streamId, stage }, 'WHIP connection failed'); void this.end(held) }
    }, { ...(this.#deps.hostAddresses != null ? { hostAddresses: this.#deps.hostAddresses } : {}) })
    // Held (and watched: the connect timeout runs from here) before the first await, so concurrent offers count against the bound.
    this.#held.set(resource, held)
    held.timer = setInterval(() => { this.tick(held) }, TICK_MS)
    let answer: string
    try {
      answer = await held.peer.answer(sdp)
    } catch (err) {
      await this.end(held)
      throw this.refuse('bad_offer', 400, `the offer could not be answered: ${(err as Error).message}`.slice(0, 300))
    }
    if (!held.peer.hasVideo()) {
      await this.end(held)
      throw this.refuse('no_h264', 400, 'no H.264 video could be negotiated')
    }
    this.#log.info({ streamId, resource, audio }, 'WHIP offer answered')
    return { resource, answer }
  }

  /** Ends the session at `resource` if it was made with `key` (DELETE). False if there is none. */
  async delete (key: string, resource: string): Promise<boolean> {
    const held = this.#held.get(resource)
    if (held == null || held.keyHash !== hashStreamKey(key)) return false
    await this.end(held)
    return true
  }

  /** Disconnects the WHIP broadcasters of a deleted stream; the caller stops its publish session. */
  drop (streamId: string): void {
    for (const held of this.#held.values()) {
      if (held.streamId !== streamId) continue
      held.session = undefined
      void this.end(held)
    }
  }

  /** Ends every session (the node stops). */
  async stop (): Promise<void> {
    await Promise.allSettled([...this.#held.values()].map(async h => { await this.end(h) }))
  }

  private refuse (why: WhipRefusal, status: number, message: string): WhipRefusedError {
    this.#metrics.refused.inc({ why })
    return new WhipRefusedError(why, status, message)
  }

  private tick (held: Held): void {
    const action = held.watch.tick(Date.now())
    if (action === 'keyframe') held.peer.requestKeyframe()
    else if (action != null) {
      this.#metrics.failures.inc({ stage: action })
      this.#log.warn({ streamId: held.streamId, why: action }, 'WHIP session timed out')
      void this.end(held)
    }
  }

  /** The peer connected: the stream goes live, read through a bridge. */
  private async begin (held: Held): Promise<void> {
    const { store, sessions } = this.#deps
    const id = held.streamId
    const rec = await store.streams.get(id)
    if (rec == null || held.ending != null) { await this.end(held); return }
    // One publish per stream: an older WHIP session of it ends; an RTMP one is replaced below, as a new RTMP publish would be.
    for (const other of this.#held.values()) if (other !== held && other.streamId === id) await this.end(other)
    await sessions.get(id)?.stop()
    const workDir = join(store.dataDir, 'incoming', id, `whip-${Date.now()}`)
    await mkdir(workDir, { recursive: true })
    // Ended (DELETE, a failure) while this was starting: nothing went live.
    if (held.ending != null) { await rm(workDir, { recursive: true, force: true }); return }
    held.workDir = workDir
    const live = goLive(rec, Date.now())
    await store.streams.put(live)
    if (held.ending != null) { await store.streams.put(toIdle(live, Date.now())); await rm(workDir, { recursive: true, force: true }); return }
    const session = this.#deps.newSession(live, 'pipe:0', workDir, { stdinFormat: 'mpegts', openStdin: () => this.openBridge(held, workDir) })
    held.session = session
    sessions.set(id, session)
    session.onInputEnd = () => { void this.end(held) }
    session.start()
    this.#log.info({ streamId: id }, 'WHIP publish started')
    await this.#deps.announcer.announce(live)
    this.#deps.onEvent?.('stream.started', streamStarted(live))
    this.#deps.announcer.provide(live)
  }

  /** A new bridge for the session's segmenter (a restarted segmenter gets a new one, from a new keyframe). */
  private openBridge (held: Held, workDir: string): PassThrough & { attachedAt: number, fromStart: boolean } {
    void held.bridge?.stop()
    held.bridge = undefined
    const out = Object.assign(new PassThrough(), { attachedAt: Date.now(), fromStart: false })
    RtpBridge.start({ ffmpegPath: this.#deps.ffmpegPath, workDir, audio: held.audio }).then((bridge) => {
      if (held.ending != null || out.destroyed) { void bridge.stop(); return }
      held.bridge = bridge
      bridge.output.once('end', () => { if (held.bridge === bridge && held.ending == null) this.#log.warn({ streamId: held.streamId, stderr: bridge.stderrTail() }, 'WHIP RTP bridge ended') })
      bridge.output.pipe(out)
      // A bridge that died without ending its output (a failed spawn) still ends the segmenter's input.
      bridge.output.once('close', () => { if (!out.writableEnded) out.end() })
      held.watch.keyframeNow()
    }, (err) => {
      this.#metrics.failures.inc({ stage: 'bridge' })
      out.destroy(err as Error)
    })
    return out
  }

  private async end (held: Held): Promise<void> {
    held.ending ??= this.teardown(held)
    await held.ending
  }

  private async teardown (held: Held): Promise<void> {
    const { store, sessions } = this.#deps
    clearInterval(held.timer)
    this.#held.delete(held.resource)
    await held.peer.close()
    // The bridge first: its output ends, so the segmenter closes its last segment on its own before it is stopped.
    await held.bridge?.stop()
    const { session, workDir, streamId: id } = held
    if (session == null) return
    await session.stop()
    const refused = session.refusal
    if (sessions.get(id) === session) sessions.delete(id)
    if (workDir != null) await rm(workDir, { recursive: true, force: true })
    if (this.#deps.shutdown().aborted) return
    const rec = await store.streams.get(id)
    if (rec?.state === 'live' && !sessions.has(id)) {
      const idle = toIdle(rec, Date.now(), refused)
      await store.streams.put(idle)
      await this.#deps.announcer.announce(idle)
      this.#deps.onEvent?.('stream.ended', streamEnded(idle, refused != null ? 'refused' : 'unpublished'))
    }
    this.#log.info({ streamId: id, resource: held.resource }, 'WHIP publish ended')
  }
}
