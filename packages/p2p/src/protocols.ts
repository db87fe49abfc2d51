import { peerIdFromString } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { countStream } from './message-counts.js'
import type { CountMessages } from './message-counts.js'
import type { P2PNode } from './node.js'
import type { AbortOptions, Stream, StreamHandlerOptions } from '@libp2p/interface'

export type ProtocolHandler = (stream: Stream, peer: string) => void

export class NoHandlerError extends Error {
  static readonly NAME = 'NoHandlerError'
  override name = NoHandlerError.NAME
}

/**
 * Request/response protocols, including with ourselves. A node may hold
 * several roles (an ingest that is also a worker and an edge): libp2p cannot
 * dial itself, so a dial to our own peer id gets an in-memory stream pair
 * whose other end goes to our own handler. Everything above sees one API.
 */
export class Protocols {
  private readonly handlers = new Map<string, ProtocolHandler>()

  /** `countMessages`: counts the typed messages on every network stream (message-counts.ts). */
  constructor (private readonly libp2p: P2PNode, private readonly countMessages?: CountMessages) {}

  get self (): string { return this.libp2p.peerId.toString() }

  async handle (protocol: string, handler: ProtocolHandler, opts?: StreamHandlerOptions): Promise<void> {
    this.handlers.set(protocol, handler)
    await this.libp2p.handle(protocol, (stream, connection) => {
      countStream(stream, protocol, this.countMessages)
      handler(stream, connection.remotePeer.toString())
    }, opts)
  }

  async unhandle (protocol: string): Promise<void> {
    this.handlers.delete(protocol)
    await this.libp2p.unhandle(protocol)
  }

  async dial (peer: string, protocol: string, opts: AbortOptions = {}): Promise<Stream> {
    if (peer === this.self) {
      const handler = this.handlers.get(protocol)
      if (handler == null) throw new NoHandlerError(`this node does not handle ${protocol}`)
      const [local, remote] = await streamPair()
      queueMicrotask(() => { handler(remote, this.self) })
      return local
    }
    // Optimistic protocol select: the protocol id goes out with the first message instead of a
    // round trip of its own before it (a bid, a transcode request, a fetch all open a stream and
    // write first). A peer that does not speak the protocol fails the first read or write instead
    // of the dial, which every caller handles alike.
    const stream = await this.libp2p.dialProtocol(peerIdFromString(peer), protocol, { negotiateFully: false, ...opts })
    countStream(stream, protocol, this.countMessages)
    return stream
  }
}
