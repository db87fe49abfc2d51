import { TopicValidatorResult } from '@libp2p/gossipsub'
import { systemClock } from '@diststream/util'
import { GOSSIP_MAX_RATE_KEYS, GOSSIP_PRESENCE_BUCKET, GOSSIP_TOPIC_BUCKET } from './constants.js'
import { KeyedBuckets } from './rate-limit.js'
import { TOPIC_PRESENCE } from '@diststream/protocol'
import type { Penalties } from './penalties.js'
import type { P2PNode } from './node.js'
import type { Clock } from '@diststream/util'
import type { Message } from '@libp2p/gossipsub'
import type { MessageCodec } from '@diststream/protocol'

export interface GossipLogger {
  debug: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

/** `from`: the message's author (its signer); `source`: the peer that delivered it to us (absent for our own messages). */
export type GossipHandler<T> = (msg: T, from: string, source?: string) => void

/**
 * A topic's own admission check, run in gossipsub's validator after decoding and the rate limits:
 * a refusal reason (counted; the message is dropped unforwarded, nobody's score changes) or undefined.
 */
export type GossipAdmission<T> = (msg: T, from: string, source: string) => string | undefined

export interface GossipInit {
  /** Refusals blamed on peers (gossipsub's appSpecificScore); a penalised author's messages are dropped. */
  penalties?: Penalties
  clock?: Clock
}

/** Called for every message a peer sent that fails to decode or validate. */
export type ProtocolErrorHook = (reason: string, where: string) => void

interface TopicState {
  codec: Pick<MessageCodec<unknown>, 'name' | 'decode'>
  handlers: Set<GossipHandler<unknown>>
  admit?: GossipAdmission<unknown>
}

/**
 * Typed gossip topics. Every message passes gossipsub's topic validator
 * before it is forwarded or handled: its author must not be penalised
 * (ignored), must be within its per-topic rate (ignored, `rate_limited`),
 * the message must decode (size-checked, then validated; else rejected: on our
 * scored topics the peer that sent it loses score, P4) and pass the topic's own
 * admission check (ignored). Only what every honest node running this code
 * would also refuse is rejected: gossipsub scores a Reject against every peer
 * that forwards the message. Refusals a handler makes synchronously are blamed
 * on the message's author ({@link Penalties}).
 */

export class Gossip {
  private readonly topics = new Map<string, TopicState>()
  /** Messages decoded by the topic validator, so delivery does not decode them again. */
  private readonly decoded = new WeakMap<Uint8Array, unknown>()
  /** The peer that delivered each message (gossipsub's propagation source), for the handlers. */
  private readonly sources = new WeakMap<Uint8Array, string>()
  private readonly presenceRate: KeyedBuckets
  private readonly topicRate: KeyedBuckets
  private readonly penalties?: Penalties

  constructor (private readonly libp2p: P2PNode, private readonly log: GossipLogger, private readonly onProtocolError: ProtocolErrorHook = () => {}, init: GossipInit = {}) {
    const clock = init.clock ?? systemClock
    this.penalties = init.penalties
    this.presenceRate = new KeyedBuckets(GOSSIP_PRESENCE_BUCKET, GOSSIP_MAX_RATE_KEYS, clock)
    this.topicRate = new KeyedBuckets(GOSSIP_TOPIC_BUCKET, GOSSIP_MAX_RATE_KEYS, clock)
    libp2p.services.pubsub.addEventListener('message', (evt) => { this.dispatch(evt.detail) })
  }

  /**
   * Subscribes `handler` to `topic`; one topic has one codec (the first subscriber's) and one
   * admission check (the first subscriber's, if it gives one).
   */
  subscribe<T> (topic: string, codec: MessageCodec<T>, handler: GossipHandler<T>, admit?: GossipAdmission<T>): () => void {
    const pubsub = this.libp2p.services.pubsub
    let state = this.topics.get(topic)
    if (state == null) {
      const st: TopicState = { codec, handlers: new Set(), admit: admit as GossipAdmission<unknown> | undefined }
      state = st
      this.topics.set(topic, st)
      pubsub.topicValidators.set(topic, (peer, msg) => this.validate(st, topic, peer.toString(), msg))
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

  /** gossipsub's topic validator for `topic` (see the class comment). */
  private validate (st: TopicState, topic: string, source: string, msg: Message): TopicValidatorResult {
    if (msg.type !== 'signed') return TopicValidatorResult.Reject // StrictSign: never here
    const author = msg.from.toString()
    if (this.penalties?.blocked(author) === true) {
      this.onProtocolError('penalised', `gossip:${st.codec.name}`)
      // Ignore, never Reject: gossipsub counts a Reject (P4) against every peer that delivers the same
      // message, before or after, and our penalty table is ours alone: an honest relay that accepted the
      // author's message and forwarded it would be graylisted with it (hostile-ownership's restart race:
      // A stopped publishing to B). The author pays through the app score (P5), which is its own.
      return TopicValidatorResult.Ignore
    }
    const rate = topic === TOPIC_PRESENCE ? this.presenceRate : this.topicRate
    if (!rate.take(`${topic}\0${author}`)) {
      this.onProtocolError('rate_limited', `gossip:${st.codec.name}`)
      return TopicValidatorResult.Ignore
    }
    let value: unknown
    try {
      value = st.codec.decode(msg.data)
    } catch (err: any) {
      this.onProtocolError(err?.reason ?? 'malformed', `gossip:${st.codec.name}`)
      this.penalties?.add(author)
      return TopicValidatorResult.Reject
    }
    const refusal = st.admit?.(value, author, source)
    if (refusal != null) {
      this.onProtocolError(refusal, `gossip:${st.codec.name}`)
      return TopicValidatorResult.Ignore
    }
    this.decoded.set(msg.data, value)
    this.sources.set(msg.data, source)
    return TopicValidatorResult.Accept
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
    this.deliver(msg.topic, value, msg.from.toString(), this.sources.get(msg.data))
  }

  private deliver (topic: string, value: unknown, from: string, source?: string): void {
    const all = (): void => {
      for (const handler of this.topics.get(topic)?.handlers ?? []) {
        try {
          handler(value, from, source)
        } catch (err) {
          this.log.warn({ err, topic }, 'gossip handler failed')
        }
      }
    }
    // One run for all handlers: a message refused by several roles (edge and worker) is blamed once.
    if (this.penalties == null || source == null) all()
    else this.penalties.run(from, all)
  }
}
