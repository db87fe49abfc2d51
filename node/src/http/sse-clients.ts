/**
 * A bounded set of server-sent-event clients (the hardening of review H7,
 * as the dashboard feed has it): at most `max` streams, `maxPerIp` from one
 * address, and a client that stops reading is dropped once more than
 * `maxQueueBytes` wait for it. Refusals and drops are counted by the caller.
 */
import type { FastifyReply } from 'fastify'

export interface SseLimits { max: number, maxPerIp: number, maxQueueBytes: number, keepAliveMs: number }

export type SseRefusal = 'full' | 'per_ip'

export interface SseClient {
  readonly ip: string
  /** Writes one event (dropping the client if it stopped reading). */
  send: (event: string, data: unknown) => void
}

export class SseClients {
  readonly #clients = new Set<{ reply: FastifyReply, ip: string }>()
  readonly #perIp = new Map<string, number>()

  constructor (private readonly limits: SseLimits, private readonly onDrop: (why: 'stalled') => void) {}

  get size (): number { return this.#clients.size }

  refuse (ip: string): SseRefusal | undefined {
    if (this.#clients.size >= this.limits.max) return 'full'
    if ((this.#perIp.get(ip) ?? 0) >= this.limits.maxPerIp) return 'per_ip'
    return undefined
  }

  /** Starts the event stream on a hijacked reply; `onClose` runs once when it ends. */
  attach (reply: FastifyReply, ip: string, onClose: () => void): SseClient {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    reply.raw.write('retry: 2000\n\n')
    const c = { reply, ip }
    this.#clients.add(c)
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1)
    const write = (frame: string): void => {
      const raw = reply.raw
      if (raw.destroyed) return
      if (raw.writableLength + frame.length > this.limits.maxQueueBytes) {
        this.onDrop('stalled')
        raw.destroy() // its 'close' removes the client
        return
      }
      raw.write(frame)
    }
    const keepAlive = setInterval(() => { write(': ka\n\n') }, this.limits.keepAliveMs)
    const close = (): void => {
      clearInterval(keepAlive)
      if (!this.#clients.delete(c)) return
      const n = (this.#perIp.get(ip) ?? 1) - 1
      if (n > 0) this.#perIp.set(ip, n)
      else this.#perIp.delete(ip)
      onClose()
    }
    reply.raw.on('close', close)
    reply.raw.on('error', close)
    return { ip, send: (event, data) => { write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) } }
  }

  /** Ends every stream (before the server closes: open streams would keep it open). */
  close (): void {
    for (const c of this.#clients) c.reply.raw.end()
  }
}
