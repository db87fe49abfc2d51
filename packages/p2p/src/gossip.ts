import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { P2PNode } from './node.js'
import type { Message } from '@libp2p/gossipsub'
import type { MessageCodec } from '@diststream/protocol'

export interface GossipLogger {
  debug: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

export type GossipHandler<T> = (msg: T, from: string) => void

/** Called for every message a peer sent that fails to decode or validate. */
export type ProtocolErrorHook = (reason: string, where: string) => void

/**
 * Typed gossip topics. Every message is decoded (size-checked, then
 * validated) in gossipsub's topic validator, so invalid messages are rejected
 * (and score their sender down) instead of being forwarded.
 */
export class Gossip {
  private readonly handlers = new Map<string, Set<(data: Uint8Array, from: string) => void>>()

  constructor (private readonly libp2p: P2PNode, private readonly log: GossipLogger, private readonly onProtocolError: ProtocolErrorHook = () => {}) {
    libp2p.services.pubsub.addEventListener('message', (evt) => { this.dispatch(evt.detail) })
  }

  subscribe<T> (topic: string, codec: MessageCodec<T>, handler: GossipHandler<T>): () => void {
    const pubsub = this.libp2p.services.pubsub
    let set = this.handlers.get(topic)
    if (set == null) {
      set = new Set()
      this.handlers.set(topic, set)
      pubsub.topicValidators.set(topic, (_peer, msg) => {
        try {
          codec.decode(msg.data)
          return TopicValidatorResult.Accept
        } catch (err: any) {
          this.onProtocolError(err?.reason ?? 'malformed', `gossip:${codec.name}`)
          return TopicValidatorResult.Reject
        }
      })
      pubsub.subscribe(topic)
    }
    const fn = (data: Uint8Array, from: string): void => {
      let msg: T
      try {
        msg = codec.decode(data)
      } catch {
        return // counted by the validator
      }
      try {
        handler(msg, from)
      } catch (err) {
        this.log.warn({ err, topic }, 'gossip handler failed')
      }
    }
    set.add(fn)
    return () => {
      set.delete(fn)
      if (set.size === 0) {
        this.handlers.delete(topic)
        pubsub.topicValidators.delete(topic)
        pubsub.unsubscribe(topic)
      }
    }
  }

  /**
   * Publishes to the network and delivers to this node's own subscribers too
   * (gossipsub does not echo our own messages), so roles on one node hear
   * each other exactly as they hear remote peers.
   */
  async publish<T> (topic: string, codec: MessageCodec<T>, msg: T): Promise<number> {
    const data = codec.encode(msg)
    const self = this.libp2p.peerId.toString()
    for (const fn of this.handlers.get(topic) ?? []) queueMicrotask(() => { fn(data, self) })
    const res = await this.libp2p.services.pubsub.publish(topic, data)
    return res.recipients.length
  }

  private dispatch (msg: Message): void {
    if (msg.type !== 'signed') return // StrictSign: unsigned messages never reach here
    const set = this.handlers.get(msg.topic)
    if (set == null) return
    const from = msg.from.toString()
    for (const fn of set) fn(msg.data, from)
  }
}
