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
interface TopicState {
  codec: Pick<MessageCodec<unknown>, 'name' | 'decode'>
  handlers: Set<GossipHandler<unknown>>
}

export class Gossip {
  private readonly topics = new Map<string, TopicState>()
  /** Messages decoded by the topic validator, so delivery does not decode them again. */
  private readonly decoded = new WeakMap<Uint8Array, unknown>()

  constructor (private readonly libp2p: P2PNode, private readonly log: GossipLogger, private readonly onProtocolError: ProtocolErrorHook = () => {}) {
    libp2p.services.pubsub.addEventListener('message', (evt) => { this.dispatch(evt.detail) })
  }

  /** Subscribes `handler` to `topic`; one topic has one codec (the first subscriber's). */
  subscribe<T> (topic: string, codec: MessageCodec<T>, handler: GossipHandler<T>): () => void {
    const pubsub = this.libp2p.services.pubsub
    let state = this.topics.get(topic)
    if (state == null) {
      const st: TopicState = { codec, handlers: new Set() }
      state = st
      this.topics.set(topic, st)
      pubsub.topicValidators.set(topic, (_peer, msg) => {
        try {
          this.decoded.set(msg.data, st.codec.decode(msg.data))
          return TopicValidatorResult.Accept
        } catch (err: any) {
          this.onProtocolError(err?.reason ?? 'malformed', `gossip:${st.codec.name}`)
          return TopicValidatorResult.Reject
        }
      })
      pubsub.subscribe(topic)
    }
    const handlers = state.handlers
    const h = handler as GossipHandler<unknown>
    handlers.add(h)
    return () => {
      handlers.delete(h)
      if (handlers.size === 0) {
        this.topics.delete(topic)
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
    queueMicrotask(() => { this.deliver(topic, msg, self) })
    const res = await this.libp2p.services.pubsub.publish(topic, data)
    return res.recipients.length
  }

  /**
   * Calls `handler` with the peer id whenever a peer subscribes to `topic`
   * (so a quiet publisher can tell a newcomer what it missed). Returns the
   * unsubscribe.
   */
  onNewSubscriber (topic: string, handler: (peer: string) => void): () => void {
    const pubsub = this.libp2p.services.pubsub
    const listener = (evt: CustomEvent<{ peerId: { toString: () => string }, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
      if (evt.detail.subscriptions.some(s => s.topic === topic && s.subscribe)) handler(evt.detail.peerId.toString())
    }
    pubsub.addEventListener('subscription-change', listener)
    return () => { pubsub.removeEventListener('subscription-change', listener) }
  }

  /**
   * Calls `handler` with the peer id and topic whenever a peer subscribes to
   * any topic (a topic's owner joins it on demand: the chat of its streams).
   * Returns the unsubscribe.
   */
  onAnySubscribe (handler: (peer: string, topic: string) => void): () => void {
    const pubsub = this.libp2p.services.pubsub
    const listener = (evt: CustomEvent<{ peerId: { toString: () => string }, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
      for (const s of evt.detail.subscriptions) if (s.subscribe) handler(evt.detail.peerId.toString(), s.topic)
    }
    pubsub.addEventListener('subscription-change', listener)
    return () => { pubsub.removeEventListener('subscription-change', listener) }
  }

  private dispatch (msg: Message): void {
    if (msg.type !== 'signed') return // StrictSign: unsigned messages never reach here
    const state = this.topics.get(msg.topic)
    if (state == null) return
    let value = this.decoded.get(msg.data)
    if (value === undefined) {
      try {
        value = state.codec.decode(msg.data)
      } catch {
        return // counted by the validator
      }
    }
    this.deliver(msg.topic, value, msg.from.toString())
  }

  private deliver (topic: string, value: unknown, from: string): void {
    for (const handler of this.topics.get(topic)?.handlers ?? []) {
      try {
        handler(value, from)
      } catch (err) {
        this.log.warn({ err, topic }, 'gossip handler failed')
      }
    }
  }
}
