import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { RtmpServer } from './rtmp.js'
import { hashStreamKey } from './keys.js'
import { streamEnded, streamStarted } from './events.js'
import { goLive, toIdle } from './stream-state.js'
import type { StreamAnnouncer } from './announcer.js'
import type { Restreamer } from './restream/restreamer.js'
import type { PublishReader, RtmpSession } from './rtmp.js'
import type { PublishSession, SessionOptions } from './session/session.js'
import type { IngestInit } from './types.js'
import type { Store, StreamRecord } from '@diststream/store'
import type { Logger } from 'pino'

export interface RtmpPublishesDeps {
  rtmpPort: number
  rtmpHost: string
  store: Store
  logger: Logger
  announcer: StreamAnnouncer
  onEvent?: IngestInit['onEvent']
  /** The ingest's sessions by stream id (a publish replaces the stream's session). */
  sessions: Map<string, PublishSession>
  /** Restream outputs: started with each publish, stopped when it ends. */
  restream?: Restreamer
  newSession: (rec: StreamRecord, input: string, workDir: string, opts: SessionOptions) => PublishSession
  /** The ingest's shutdown signal: a node that stops leaves its (closing) store alone. */
  shutdown: () => AbortSignal
}

/**
 * RTMP publishes: which stream key may publish (by its hash), and for each
 * publish a session reading it in-process, the stream `live` while it lasts
 * and `idle` (over for players) once the publisher leaves.
 */
export class RtmpPublishes {
  readonly #deps: RtmpPublishesDeps
  /** Hashes of the stream keys that may publish → stream ids (keys are never stored: M12). */
  readonly #byKeyHash = new Map<string, string>()
  readonly #rtmp: RtmpServer
  readonly #log: Logger

  constructor (deps: RtmpPublishesDeps) {
    this.#deps = deps
    this.#log = deps.logger
    this.#rtmp = new RtmpServer({
      port: deps.rtmpPort,
      host: deps.rtmpHost,
      storeDir: join(deps.store.dataDir, 'rtmp'),
      logger: deps.logger,
      authorizePublish: (key) => this.#byKeyHash.has(hashStreamKey(key))
    })
    this.#rtmp.on('publish', (key, rtmpSession) => {
      // Attach the reader at once, before any await: it buffers from the first tag, so the segment cut sees the publish from its start.
      const reader = this.#byKeyHash.has(hashStreamKey(key)) ? this.#rtmp.openReader(key, rtmpSession) : undefined
      this.onPublish(key, rtmpSession, reader).catch(err => { reader?.destroy(); this.#log.error({ err }, 'publish failed') })
    })
  }

  async start (): Promise<void> { await this.#rtmp.start() }
  async stop (): Promise<void> { await this.#rtmp.stop() }

  /** Lets whoever has the key hashed to `keyHash` publish stream `id`. */
  allow (keyHash: string, id: string): void { this.#byKeyHash.set(keyHash, id) }
  /** The stream `key` publishes, if it may publish (SRT publishes share this table). */
  streamOf (key: string): string | undefined { return this.#byKeyHash.get(hashStreamKey(key)) }
  /** That key no longer publishes (a deleted stream, a rotated key). */
  forget (keyHash: string): void { this.#byKeyHash.delete(keyHash) }
  /** The stream the key hashed to `keyHash` publishes, if any (WHIP checks keys here too). */
  streamIdOf (keyHash: string): string | undefined { return this.#byKeyHash.get(keyHash) }

  private async onPublish (key: string, rtmpSession: RtmpSession, firstReader?: PublishReader): Promise<void> {
    const { store, sessions } = this.#deps
    const id = this.#byKeyHash.get(hashStreamKey(key))
    if (id == null) { firstReader?.destroy(); return }
    const rec = await store.streams.get(id)
    if (rec == null) { firstReader?.destroy(); return }
    await sessions.get(id)?.stop()
    const live = goLive(rec, Date.now())
    await store.streams.put(live)
    const workDir = join(store.dataDir, 'incoming', id, String(Date.now()))
    await mkdir(workDir, { recursive: true })
    let reader = firstReader
    const session = this.#deps.newSession(live, 'pipe:0', workDir, {
      // The publish, read in-process from node-media-server; a restarted segmenter gets a new reader (sequence headers + cached GOP).
      openStdin: () => {
        const r = reader ?? this.#rtmp.openReader(key, rtmpSession)
        reader = undefined
        return r
      }
    })
    sessions.set(id, session)
    const onUnpublish = (k: string): void => {
      if (k !== key) return
      this.#rtmp.off('unpublish', onUnpublish)
      if (sessions.get(id) !== session) return
      this.endSession(id, session, workDir, rtmpSession).catch(err => { this.#log.error({ err, streamId: id }, 'ending the publish failed') })
    }
    this.#rtmp.on('unpublish', onUnpublish)
    // The segmenter sees the input end long before node-media-server reports the unpublish (its socket timeout).
    session.onInputEnd = () => {
      this.#rtmp.off('unpublish', onUnpublish)
      if (sessions.get(id) === session) this.endSession(id, session, workDir, rtmpSession).catch(err => { this.#log.error({ err, streamId: id }, 'ending the publish failed') })
    }
    session.start()
    this.#deps.restream?.onLive(id, () => this.#rtmp.openReader(key, rtmpSession))
    this.#log.info({ streamId: id }, 'publish started')
    await this.#deps.announcer.announce(live)
    this.#deps.onEvent?.('stream.started', streamStarted(live))
    this.#deps.announcer.provide(live)
  }

  private async endSession (id: string, session: PublishSession, workDir: string, rtmpSession: RtmpSession): Promise<void> {
    const { store, sessions } = this.#deps
    this.#deps.restream?.onEnded(id)
    await session.stop()
    // A refused publish (review M3) is disconnected: nothing reads it any more.
    const refused = session.refusal
    if (refused != null) { try { rtmpSession.close() } catch (err) { this.#log.debug({ err, streamId: id }, 'closing a refused publisher failed') } }
    if (sessions.get(id) === session) sessions.delete(id)
    await rm(workDir, { recursive: true, force: true })
    // Stopping the node ends every publish; the store may be closing: the next start sorts the records out.
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
