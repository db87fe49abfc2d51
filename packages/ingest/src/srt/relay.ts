import { createHmac, randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { BoundedMap } from '@diststream/util'
import { MAX_SRT_PUBLISHERS, MAX_SRT_REJECTED_REMEMBERED, SRT_IDLE_MS, SRT_LISTENER_POLL_MS, SRT_LISTENER_WAIT_MS, SRT_REJECTION_MEMORY_MS } from './constants.js'
import { checkKeyMaterial } from './km.js'
import { conclusionExtensions, HS_CONCLUSION, HS_INDUCTION, inductionFor, inductionResponse, parseHandshake, publishKeyOf, rejection, rejectionReason, SRT_REJECT, withCookie } from './handshake.js'
import type { Socket, RemoteInfo } from 'node:dgram'
import type { Logger } from 'pino'

/** Why a caller was refused (the `reason` label of diststream_srt_refused_total). */
export type SrtRefusal = 'bad_streamid' | 'unknown_key' | 'bad_passphrase' | 'unencrypted' | 'encrypted' | 'too_many' | 'version' | 'listener_failed'

/** A publish the ingest took: the loopback port its ffmpeg listener waits on, and how to end it. */
export interface SrtAdmitted {
  port: number
  end: () => void
}

export interface SrtRelayInit {
  port: number
  host: string
  /** Every publish must encrypt with this passphrase (none: every publish must not encrypt). */
  passphrase?: string
  logger: Logger
  /** Whether a key may publish (checked before anything starts). */
  knows: (key: string) => boolean
  /** Starts the publish of `key` (an ffmpeg listener on a loopback port); undefined refuses it. */
  admit: (key: string, caller: string) => Promise<SrtAdmitted | undefined>
  onRefused: (reason: SrtRefusal) => void
  maxPublishers?: number
}

interface Caller {
  state: 'connecting' | 'relaying'
  up?: Socket
  ffmpegPort?: number
  ffmpegCookie?: number
  lastSeen: number
  admitted?: SrtAdmitted
  timer?: NodeJS.Timeout
}

/**
 * SRT in on one UDP port for every stream. ffmpeg 5.1's libsrt listener accepts the first
 * caller whatever its stream id and passphrase (it sets no listen callback, and it serves one
 * caller per process), so the ingest answers the handshake itself: the induction with a
 * stateless cookie, then the caller's conclusion is read (stream id `publish:<key>`, key
 * material) and refused at once with an SRT rejection its libsrt reports (unknown key 1403,
 * wrong passphrase SRT_REJ_BADSECRET, ...), counted. A known key gets an ffmpeg listener on a
 * loopback port (the publish's segmenter); the relay replays the handshake to it and from then
 * on passes datagrams both ways unchanged, so the media path is libsrt's own (ARQ, TSBPD,
 * decryption). Publishers at once are bounded; an idle caller is dropped.
 */
export class SrtRelay {
  readonly #init: SrtRelayInit
  readonly #callers = new Map<string, Caller>()
  /** Callers refused a moment ago: their retransmitted conclusions get the same answer, not counted again. */
  readonly #rejected = new BoundedMap<string, { reason: number, until: number }>(MAX_SRT_REJECTED_REMEMBERED)
  readonly #secret = randomBytes(32)
  #socket?: Socket
  #sweep?: NodeJS.Timeout

  constructor (init: SrtRelayInit) {
    this.#init = init
  }

  /** The bound UDP port (the configured one, or the one picked for 0). */
  get port (): number { return this.#socket?.address().port ?? this.#init.port }

  async start (): Promise<void> {
    const socket = createSocket(this.#init.host.includes(':') ? 'udp6' : 'udp4')
    socket.on('message', (msg, rinfo) => { this.#onCaller(msg, rinfo) })
    socket.on('error', (err) => { this.#init.logger.warn({ err }, 'SRT socket error') })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.#init.port, this.#init.host, () => { socket.off('error', reject); resolve() })
    })
    this.#socket = socket
    this.#sweep = setInterval(() => { this.#dropIdle() }, SRT_IDLE_MS / 4)
    this.#sweep.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.#sweep)
    for (const addr of [...this.#callers.keys()]) this.drop(addr)
    const s = this.#socket
    this.#socket = undefined
    if (s != null) await new Promise<void>(resolve => { s.close(() => { resolve() }) })
  }

  /** Forgets a caller (its publish ended): closes its relay socket, ends its publish. */
  drop (addr: string): void {
    const c = this.#callers.get(addr)
    if (c == null) return
    this.#callers.delete(addr)
    clearInterval(c.timer)
    try { c.up?.close() } catch (err) { this.#init.logger.debug({ err, caller: addr }, 'relay socket already closed') }
    c.admitted?.end()
  }

  #onCaller (msg: Buffer, rinfo: RemoteInfo): void {
    const addr = `${rinfo.address}:${rinfo.port}`
    const c = this.#callers.get(addr)
    if (c != null) {
      c.lastSeen = Date.now()
      if (c.state !== 'relaying' || c.up == null) return // the caller retransmits its conclusion meanwhile
      const hs = parseHandshake(msg)
      const out = hs?.type === HS_CONCLUSION ? withCookie(msg, c.ffmpegCookie!) : msg
      c.up.send(out, c.ffmpegPort!, '127.0.0.1')
      return
    }
    const hs = parseHandshake(msg)
    if (hs == null) return // data for a caller we do not know (dropped or never admitted)
    if (hs.type === HS_INDUCTION) { this.#send(inductionResponse(msg, this.#cookie(addr, 0)), rinfo); return }
    if (hs.type !== HS_CONCLUSION) return
    // A conclusion without our cookie was never answered by us (or is spoofed): ignored, nothing starts.
    if (hs.cookie !== this.#cookie(addr, 0) && hs.cookie !== this.#cookie(addr, -1)) return
    const recent = this.#rejected.get(addr)
    if (recent != null && recent.until > Date.now()) { this.#send(rejection(msg, recent.reason), rinfo); return }
    const verdict = this.#check(msg, hs.version)
    if (typeof verdict !== 'string') { this.#refuse(msg, rinfo, verdict.reason, verdict.why); return }
    this.#connect(addr, verdict, msg, rinfo)
  }

  /** The caller's key, or why it is refused, from its conclusion alone. */
  #check (msg: Buffer, version: number): string | { reason: number, why: SrtRefusal } {
    if (version !== 5) return { reason: SRT_REJECT.version, why: 'version' }
    let ext
    try { ext = conclusionExtensions(msg) } catch { return { reason: SRT_REJECT.badRequest, why: 'bad_streamid' } }
    const key = publishKeyOf(ext.streamId)
    if (key == null) return { reason: SRT_REJECT.badRequest, why: 'bad_streamid' }
    if (!this.#init.knows(key)) return { reason: SRT_REJECT.forbidden, why: 'unknown_key' }
    const pass = this.#init.passphrase
    if (pass != null && ext.kmreq == null) return { reason: SRT_REJECT.unsecure, why: 'unencrypted' }
    if (pass == null && ext.kmreq != null) return { reason: SRT_REJECT.unsecure, why: 'encrypted' }
    if (pass != null && ext.kmreq != null && checkKeyMaterial(ext.kmreq, pass) !== 'ok') return { reason: SRT_REJECT.badSecret, why: 'bad_passphrase' }
    if (this.#callers.size >= (this.#init.maxPublishers ?? MAX_SRT_PUBLISHERS)) return { reason: SRT_REJECT.overload, why: 'too_many' }
    return key
  }

  #refuse (msg: Uint8Array, rinfo: RemoteInfo, reason: number, why: SrtRefusal): void {
    const addr = `${rinfo.address}:${rinfo.port}`
    this.#rejected.set(addr, { reason, until: Date.now() + SRT_REJECTION_MEMORY_MS })
    this.#init.onRefused(why)
    this.#init.logger.warn({ caller: addr, why }, 'refused SRT publish')
    this.#send(rejection(msg, reason), rinfo)
  }

  /** Starts the publish, then replays the caller's handshake to its ffmpeg listener. */
  #connect (addr: string, key: string, conclusion: Buffer, rinfo: RemoteInfo): void {
    const c: Caller = { state: 'connecting', lastSeen: Date.now() }
    this.#callers.set(addr, c)
    const fail = (why: string, err?: unknown): void => {
      this.#init.logger.warn({ err, caller: addr, why }, 'SRT publish could not start')
      if (this.#callers.get(addr) !== c) return
      this.drop(addr)
      this.#refuse(conclusion, rinfo, SRT_REJECT.overload, 'listener_failed')
    }
    this.#init.admit(key, addr).then(admitted => {
      if (admitted == null) { this.#callers.delete(addr); this.#refuse(conclusion, rinfo, SRT_REJECT.forbidden, 'unknown_key'); return }
      if (this.#callers.get(addr) !== c) { admitted.end(); return }
      c.admitted = admitted
      c.ffmpegPort = admitted.port
      const up = c.up = createSocket('udp4')
      up.on('error', (err) => { fail('relay socket error', err) })
      up.on('message', (msg) => { this.#onListener(addr, c, msg, conclusion, rinfo) })
      up.bind(0, '127.0.0.1', () => {
        const induction = inductionFor(conclusion)
        const started = Date.now()
        const poll = (): void => {
          if (c.state !== 'connecting') { clearInterval(c.timer); return }
          if (Date.now() - started > SRT_LISTENER_WAIT_MS) { clearInterval(c.timer); fail('ffmpeg\'s listener did not answer'); return }
          up.send(induction, admitted.port, '127.0.0.1')
        }
        c.timer = setInterval(poll, SRT_LISTENER_POLL_MS)
        poll()
      })
    }, (err: unknown) => { fail('admit failed', err) })
  }

  /** A datagram from a caller's ffmpeg listener. */
  #onListener (addr: string, c: Caller, msg: Buffer, conclusion: Buffer, rinfo: RemoteInfo): void {
    if (this.#callers.get(addr) !== c) return
    const hs = parseHandshake(msg)
    if (c.state === 'connecting') {
      if (hs?.type !== HS_INDUCTION) return
      clearInterval(c.timer)
      c.ffmpegCookie = hs.cookie
      c.state = 'relaying'
      c.up!.send(withCookie(conclusion, hs.cookie), c.ffmpegPort!, '127.0.0.1')
      return
    }
    if (hs != null && rejectionReason(hs) != null) this.#init.logger.warn({ caller: addr, reason: rejectionReason(hs) }, 'ffmpeg\'s SRT listener refused the caller')
    this.#send(msg, rinfo)
  }

  #dropIdle (): void {
    const now = Date.now()
    for (const [addr, c] of this.#callers) {
      if (now - c.lastSeen > SRT_IDLE_MS) {
        this.#init.logger.info({ caller: addr }, 'SRT caller silent; dropping it')
        this.drop(addr)
      }
    }
  }

  #send (pkt: Uint8Array, rinfo: RemoteInfo): void {
    this.#socket?.send(pkt, rinfo.port, rinfo.address)
  }

  /** A SYN cookie for this caller address in this (0) or the previous (-1) minute: no state before a conclusion. */
  #cookie (addr: string, minuteOffset: number): number {
    const minute = Math.floor(Date.now() / 60_000) + minuteOffset
    return createHmac('sha256', this.#secret).update(`${addr}|${minute}`).digest().readUInt32BE(0)
  }
}
