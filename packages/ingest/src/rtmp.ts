import { createRequire } from 'node:module'
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'

const require = createRequire(import.meta.url)

/** The part of a node-media-server session we use. */
export interface RtmpSession {
  id: string
  ip: string
  streamPath: string
  close: () => void
}

export interface RtmpServerInit {
  port: number
  host?: string
  /** node-media-server keeps a small JSON store; it goes here. */
  storeDir: string
  logger: Logger
  /** Return true to accept a publisher on `/live/<key>`; false closes it. */
  authorizePublish: (key: string, session: RtmpSession) => boolean
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/

/**
 * RTMP in, through node-media-server v4. Publishers must use `/live/<key>`
 * with a key the ingest knows; everyone else is disconnected at once. Only
 * loopback readers may play (that is our own segmenter), so the raw stream is
 * never served to the world from here.
 */
export class RtmpServer extends EventEmitter<{ publish: [string, RtmpSession], unpublish: [string, RtmpSession] }> {
  private nms: any
  private readonly refused = new WeakSet<object>()

  constructor (private readonly init: RtmpServerInit) {
    super()
  }

  async start (): Promise<void> {
    const NodeMediaServer = require('node-media-server')
    const nmsLogger = require('node-media-server/src/core/logger.js')
    this.nms = new NodeMediaServer({
      bind: this.init.host ?? '0.0.0.0',
      rtmp: { port: this.init.port, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
      webadmin: { enable: false },
      store: { path: this.init.storeDir },
      record: { auto: false },
      auth: { play: false, publish: false }
    })
    nmsLogger.level = 'error'
    const log = this.init.logger
    this.nms.on('prePublish', (session: RtmpSession) => {
      const key = keyOf(session.streamPath)
      if (key == null || !this.init.authorizePublish(key, session)) {
        log.warn({ ip: session.ip, path: session.streamPath }, 'refused RTMP publish: unknown stream key')
        this.refused.add(session)
        session.close()
      }
    })
    this.nms.on('postPublish', (session: RtmpSession) => {
      // node-media-server fires postPublish even for a session we closed.
      if (this.refused.has(session)) return
      const key = keyOf(session.streamPath)
      if (key != null) this.emit('publish', key, session)
    })
    this.nms.on('donePublish', (session: RtmpSession) => {
      if (this.refused.has(session)) return
      const key = keyOf(session.streamPath)
      if (key != null) this.emit('unpublish', key, session)
    })
    this.nms.on('prePlay', (session: RtmpSession) => {
      if (!LOOPBACK.test(session.ip ?? '')) {
        log.warn({ ip: session.ip, path: session.streamPath }, 'refused RTMP play from a non-loopback address')
        session.close()
      }
    })
    await this.nms.run()
    // node-media-server's store hooks SIGINT/SIGTERM and re-sends the signal
    // to the process, which would turn one Ctrl+C into a forced exit. The
    // node owns shutdown; stop() closes the store properly.
    this.nms.store?._removeExitHooks?.()
  }

  async stop (): Promise<void> {
    await this.nms?.stop()
  }
}

function keyOf (streamPath: string): string | undefined {
  const m = /^\/live\/([A-Za-z0-9_-]{1,128})$/.exec(streamPath ?? '')
  return m?.[1]
}
