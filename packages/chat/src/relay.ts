/**
 * The edge's side of chat: a room per stream that this edge's viewers have
 * open (and only then a subscription to its chat topic, at most
 * MAX_CHAT_ROOMS), messages POSTed by its viewers checked and relayed,
 * messages from other edges checked and delivered, the owner's moderation
 * taken in. Refusals are counted by reason.
 */
import { ChatRefusal, chatGossipCodec, chatTopic, checkChatMessage, isProtocolError } from '@diststream/protocol'
import { systemClock } from '@diststream/util'
import { MAX_CHAT_ROOMS } from './constants.js'
import { chatGauge, createChatMetrics } from './metrics.js'
import { ChatRoom } from './room.js'
import type { ChatMetrics } from './metrics.js'
import type { ChatSource } from './room.js'
import type { ChatGossipApi, ChatLogger } from './types.js'
import type { ChatGossip, ChatMessage, ChatModeration, MessageCodec } from '@diststream/protocol'
import type { Clock } from '@diststream/util'
import type { Registry } from 'prom-client'

export interface ChatRelayInit {
  gossip: Pick<ChatGossipApi, 'subscribe' | 'publish'>
  /** This node's peer id: its own gossip comes back to it and is not taken in twice. */
  selfPeer: string
  /** The peer that owns a stream (its ingest, as the edge's directory bound it), if known. */
  ownerOf: (stream: string) => string | undefined
  registry: Registry
  logger: ChatLogger
  clock?: Clock
  maxRooms?: number
}

/** What a chat viewer is sent. */
export type ChatEvent =
  | { type: 'msg', m: ChatMessage }
  | { type: 'removed', ids: string[] }
  | { type: 'moderation', slowSeconds: number, bans: string[] }

export type ChatListener = (e: ChatEvent) => void

interface Open { room: ChatRoom, listeners: Set<ChatListener>, unsubscribe: () => void }

export interface ChatJoin { recent: ChatMessage[], moderation: ChatModeration, leave: () => void }

export class ChatRelay {
  readonly metrics: ChatMetrics
  readonly #init: ChatRelayInit
  readonly #clock: Clock
  readonly #rooms = new Map<string, Open>()
  readonly #codec: MessageCodec<ChatGossip>

  constructor (init: ChatRelayInit) {
    this.#init = init
    this.#clock = init.clock ?? systemClock
    this.metrics = createChatMetrics(init.registry)
    chatGauge(init.registry, 'diststream_chat_rooms', 'Chat rooms this edge has open (streams with chat viewers here; each a gossip subscription)', () => this.#rooms.size)
    // Refusals in gossipsub's validator (bad signature, malformed, too large) are counted here by their chat reason.
    this.#codec = {
      ...chatGossipCodec,
      decode: (buf) => {
        try {
          return chatGossipCodec.decode(buf)
        } catch (err) {
          this.#refuse(err, 'gossip')
          throw err
        }
      }
    }
  }

  get rooms (): number { return this.#rooms.size }

  /** Opens `stream`'s chat for one viewer. Throws ChatRefusal: unknown_stream (the edge knows no such stream), no_room (MAX_CHAT_ROOMS open). */
  join (stream: string, listener: ChatListener): ChatJoin {
    let open = this.#rooms.get(stream)
    if (open == null) {
      if (this.#init.ownerOf(stream) == null) throw this.#count(new ChatRefusal('unknown_stream', 'this edge knows no such stream'))
      if (this.#rooms.size >= (this.#init.maxRooms ?? MAX_CHAT_ROOMS)) throw this.#count(new ChatRefusal('no_room', 'this edge has every chat room it can open'))
      const room = new ChatRoom({ stream, clock: this.#clock })
      const unsubscribe = this.#init.gossip.subscribe(chatTopic(stream), this.#codec, (msg, from) => { this.#onGossip(room, msg, from) })
      open = { room, listeners: new Set(), unsubscribe }
      this.#rooms.set(stream, open)
    }
    const o = open
    o.listeners.add(listener)
    return {
      recent: o.room.recent(),
      moderation: o.room.moderation,
      leave: () => {
        o.listeners.delete(listener)
        // The last viewer gone: the topic is left and the room forgotten (bounded rooms, no idle subscriptions).
        if (o.listeners.size === 0 && this.#rooms.get(stream) === o) {
          this.#rooms.delete(stream)
          o.unsubscribe()
        }
      }
    }
  }

  /** A viewer's message (the POST body): checked, taken in, delivered here and relayed. Throws ChatRefusal (counted). */
  async post (stream: string, body: unknown): Promise<ChatMessage> {
    let m: ChatMessage
    try {
      m = checkChatMessage(body)
    } catch (err) {
      throw this.#refuse(err, 'post')
    }
    if (m.stream !== stream) throw this.#count(new ChatRefusal('wrong_stream', 'the message is for another stream'))
    const open = this.#rooms.get(stream)
    if (open == null) throw this.#count(new ChatRefusal('unknown_stream', 'open the chat (its event stream) before posting'))
    this.#take(open, m, { local: true })
    await this.#init.gossip.publish(chatTopic(stream), this.#codec, { t: 'msg', m }).catch((err: unknown) => {
      // Delivered to this edge's viewers already; the others hear it when the mesh has peers.
      this.#init.logger.debug({ err, stream }, 'chat: relaying a message failed')
    })
    return m
  }

  /** Leaves every topic. */
  stop (): void {
    for (const o of this.#rooms.values()) o.unsubscribe()
    this.#rooms.clear()
  }

  #onGossip (room: ChatRoom, msg: ChatGossip, from: string): void {
    const open = this.#rooms.get(room.stream)
    if (open?.room !== room) return
    if (msg.t === 'msg') {
      if (from === this.#init.selfPeer) return // our own, taken in when it was posted
      try {
        this.#take(open, msg.m, { local: false, peer: from })
      } catch (err) {
        this.#init.logger.debug({ err, from, stream: room.stream }, 'chat: refused a relayed message')
      }
      return
    }
    if (msg.s.stream !== room.stream || from !== this.#init.ownerOf(room.stream)) {
      this.#count(new ChatRefusal('not_owner', 'moderation from a peer that does not own the stream'))
      return
    }
    const change = room.moderate(msg.s)
    if (change == null) return // not newer than the state held: a repeat
    this.metrics.moderation.inc({ side: 'edge' })
    if (change.removed.length > 0) this.#emit(open, { type: 'removed', ids: change.removed })
    this.#emit(open, { type: 'moderation', slowSeconds: change.state.slowSeconds, bans: change.state.bans })
  }

  /** Admits a checked message into the room and delivers it, or throws its refusal (counted). */
  #take (open: Open, m: ChatMessage, source: ChatSource): void {
    const r = open.room.admit(m, source)
    if (!r.ok) throw this.#count(new ChatRefusal(r.reason, `refused: ${r.reason}`))
    this.metrics.messages.inc({ source: source.local ? 'local' : 'remote' })
    this.#emit(open, { type: 'msg', m })
  }

  #emit (open: Open, e: ChatEvent): void {
    for (const l of open.listeners) {
      try {
        l(e)
      } catch (err) {
        this.#init.logger.warn({ err }, 'chat: a listener failed')
      }
    }
  }

  #count (err: ChatRefusal): ChatRefusal {
    this.metrics.refused.inc({ reason: err.chatReason })
    return err
  }

  #refuse (err: unknown, where: string): ChatRefusal {
    if (err instanceof ChatRefusal) return this.#count(err)
    const reason = isProtocolError(err) && err.reason === 'too_large' ? 'too_large' : 'malformed'
    this.#init.logger.debug({ err, where }, 'chat: refused input')
    return this.#count(new ChatRefusal(reason, String((err as Error)?.message ?? err)))
  }
}
