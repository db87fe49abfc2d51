import { createSocket } from 'node:dgram'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { streamEnded, streamStarted } from '../events.js'
import { goLive, toIdle } from '../stream-state.js'
import { SRT_READ_TIMEOUT_MS } from './constants.js'
import { SrtRelay } from './relay.js'
import type { SrtAdmitted, SrtRefusal } from './relay.js'
import type { RtmpPublishesDeps } from '../rtmp-publish.js'
import type { PublishSession } from '../session/session.js'
import type { Counter } from 'prom-client'

export interface SrtPublishesDeps extends Omit<RtmpPublishesDeps, 'rtmpPort' | 'rtmpHost'> {
  port: number
  host: string
  passphrase?: string
  /** The stream a key publishes, if any (the RTMP publishes' key table: one key, both protocols). */
  streamOf: (key: string) => string | undefined
  refused: Counter<'reason'>
}

/**
 * SRT publishes (`srt://<ingest>:<port>?streamid=publish:<key>`): the same session, stream
 * states and events as an RTMP publish; the input is an ffmpeg libsrt listener on a loopback
 * port that only the relay ({@link SrtRelay}) reaches, after it checked the key and passphrase.
 */
export class SrtPublishes {
  readonly #deps: SrtPublishesDeps
  readonly #relay: SrtRelay

  constructor (deps: SrtPublishesDeps) {
    this.#deps = deps
    this.#relay = new SrtRelay({
      port: deps.port,
      host: deps.host,
      ...(deps.passphrase != null ? { passphrase: deps.passphrase } : {}),
      logger: deps.logger,
      knows: (key) => deps.streamOf(key) != null,
      admit: async (key, caller) => await this.#onPublish(key, caller),
      onRefused: (reason: SrtRefusal) => { deps.refused.inc({ reason }) }
    })
  }

  /** The UDP port SRT callers publish to. */
  get port (): number { return this.#relay.port }

  async start (): Promise<void> { await this.#relay.start() }
  async stop (): Promise<void> { await this.#relay.stop() }

  async #onPublish (key: string, caller: string): Promise<SrtAdmitted | undefined> {
    const { store, sessions, logger } = this.#deps
    const id = this.#deps.streamOf(key)
    const rec = id == null ? undefined : await store.streams.get(id)
    if (id == null || rec == null) return undefined
    const port = await freeUdpPort()
    await sessions.get(id)?.stop()
    const live = goLive(rec, Date.now())
    await store.streams.put(live)
    const workDir = join(store.dataDir, 'incoming', id, String(Date.now()))
    await mkdir(workDir, { recursive: true })
    const pass = this.#deps.passphrase
    const session = this.#deps.newSession(live, `srt://127.0.0.1:${port}?mode=listener&transtype=live`, workDir, {
      // The caller's MPEG-TS; one caller per listener, so a failed read is not started again. The
      // passphrase as an option, not in the URL: ffmpeg 5.1 does not percent-decode URL options.
      inputArgs: ['-f', 'mpegts', ...(pass != null ? ['-passphrase', pass] : [])],
      rwTimeoutMs: SRT_READ_TIMEOUT_MS,
      maxRestarts: 0
    })
    sessions.set(id, session)
    session.onInputEnd = () => {
      this.#relay.drop(caller)
      if (sessions.get(id) === session) this.#end(id, session, workDir).catch(err => { logger.error({ err, streamId: id }, 'ending the SRT publish failed') })
    }
    session.start()
    logger.info({ streamId: id, caller }, 'SRT publish started')
    await this.#deps.announcer.announce(live)
    this.#deps.onEvent?.('stream.started', streamStarted(live))
    this.#deps.announcer.provide(live)
    return { port, end: () => { session.stop().catch(err => { logger.warn({ err, streamId: id }, 'stopping an SRT publish failed') }) } }
  }

  async #end (id: string, session: PublishSession, workDir: string): Promise<void> {
    const { store, sessions } = this.#deps
    await session.stop()
    const refused = session.refusal
    if (sessions.get(id) === session) sessions.delete(id)
    await rm(workDir, { recursive: true, force: true })
    if (this.#deps.shutdown().aborted) return
    const rec = await store.streams.get(id)
    if (rec?.state === 'live' && !sessions.has(id)) {
      const idle = toIdle(rec, Date.now(), refused)
      await store.streams.put(idle)
      await this.#deps.announcer.announce(idle)
      this.#deps.onEvent?.('stream.ended', streamEnded(idle, refused != null ? 'refused' : 'unpublished'))
    }
  }
}

/** A UDP port free on loopback now, for an ffmpeg listener (a race with another binder fails that publish, refused). */
async function freeUdpPort (): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(0, '127.0.0.1', () => { resolve() }) })
  const { port } = s.address()
  await new Promise<void>(resolve => { s.close(() => { resolve() }) })
  return port
}
