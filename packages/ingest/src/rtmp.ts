import { createRequire } from 'node:module'
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { flvHeaderFor, isFlvHeader } from './flv-header.js'
import type { Logger } from 'pino'

const require = createRequire(import.meta.url)

/** The part of a node-media-server session we use. */
export interface RtmpSession {
  id: string
  ip: string
  streamPath: string
  close: () => void
  /** The publisher's TCP socket (RTMP sessions have one). */
  socket?: { once: (event: 'close', listener: () => void) => unknown, destroyed?: boolean }
}

/** The publish as FLV bytes (see {@link RtmpServer.openReader}). */
export interface PublishReader extends PassThrough {
  /** Wall clock (ms) when the reader attached. */
  attachedAt: number
  /** True when it attached before the publish's first video: its first frame arrived after `attachedAt`, in real time. */
  fromStart: boolean
}

/** Most bytes of FLV a reader may have waiting for ffmpeg before it is cut off (a stuck segmenter). */
export const MAX_READER_BACKLOG = 64 * 1024 * 1024

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

  /**
   * The publish on `/live/<key>` as an FLV byte stream, read in-process from
   * node-media-server's broadcast (no second RTMP connection, so no handshake
   * to time out on a loaded machine). A reader that attaches mid-stream first
   * gets the FLV header, metadata, the audio and video sequence headers and
   * the cached GOP, so ffmpeg always starts on a keyframe with its codec
   * parameters. The stream ends when the publisher's socket closes (ffmpeg
   * then closes its last segment at once) or when the reader is destroyed.
   * A reader more than {@link MAX_READER_BACKLOG} bytes behind is failed.
   */
  openReader (key: string, publisher?: RtmpSession): PublishReader {
    const Context = require('node-media-server/src/core/context.js')
    const BaseSession = require('node-media-server/src/session/base_session.js')
    const BroadcastServer = require('node-media-server/src/server/broadcast_server.js')
    const streamPath = `/live/${key}`
    const broadcast = Context.broadcasts.get(streamPath) ?? new BroadcastServer(streamPath)
    const out = Object.assign(new PassThrough(), { attachedAt: Date.now(), fromStart: broadcast.flvVideoHeader == null && (broadcast.flvGopCache?.size ?? 0) === 0 })
    Context.broadcasts.set(streamPath, broadcast)
    const sub = new BaseSession()
    sub.protocol = 'flv'
    sub.streamApp = 'live'
    sub.streamName = key
    sub.streamPath = streamPath
    // An empty ip marks an internal session: no prePlay/postPlay events, not counted as a play.
    sub.ip = ''
    let detached = false
    let sentAny = false
    const detach = (): void => {
      if (detached) return
      detached = true
      broadcast.donePlay(sub)
    }
    // The FLV header waits for the next tag: its audio/video flags come from the publisher's metadata (flv-header.ts).
    let header: Buffer | undefined
    sub.sendBuffer = (buf: Buffer) => {
      if (detached || out.destroyed) return
      if (!sentAny && header == null && isFlvHeader(buf)) { header = buf; return }
      if (header != null) { out.write(flvHeaderFor(header, buf)); header = undefined }
      sentAny = true
      if (out.readableLength + out.writableLength > MAX_READER_BACKLOG) {
        this.init.logger.warn({ path: streamPath }, 'RTMP reader fell too far behind; cutting it off')
        detach()
        out.destroy(new Error(`the segmenter fell more than ${MAX_READER_BACKLOG} bytes behind the publish`))
        return
      }
      out.write(buf)
    }
    sub.close = () => { detach(); out.end() }
    out.once('close', detach)
    broadcast.postPlay(sub)
    const socket = publisher?.socket
    if (socket != null) {
      if (socket.destroyed === true) sub.close()
      else socket.once('close', () => { sub.close() })
    }
    return out
  }
}

function keyOf (streamPath: string): string | undefined {
  const m = /^\/live\/([A-Za-z0-9_-]{1,128})$/.exec(streamPath ?? '')
  return m?.[1]
}
