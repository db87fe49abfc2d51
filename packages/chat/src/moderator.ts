/**
 * The owner's side of chat (the ingest). It joins a stream's chat topic as
 * soon as any peer (an edge with chat viewers) subscribes to it and the
 * stream is its own, so edges that are not connected to each other still
 * hear each other through the stream's ingest, to which every edge that
 * follows the stream is connected. It applies the owner's actions to the
 * stream's moderation state (`ModerationBook`, pure) and publishes the whole
 * state on the topic, signed by gossipsub with the ingest's own key, which
 * is the key the stream id commits to. The state is sent again when a peer
 * subscribes and every CHAT_MODERATION_REPEAT_MS, so a late edge catches up.
 */
import { chatGossipCodec, chatTopic, ID_PATTERN } from '@diststream/protocol'
import { systemClock } from '@diststream/util'
import { CHAT_MODERATION_REPEAT_MS, MAX_OWNER_CHAT_CHECKS, MAX_OWNER_CHAT_TOPICS } from './constants.js'
import { chatGauge, createChatMetrics } from './metrics.js'
import { ModerationBook, ModerationError } from './moderation-book.js'
import type { ChatMetrics } from './metrics.js'
import type { ModerationAction } from './moderation-book.js'
import type { ChatGossipApi, ChatLogger } from './types.js'
import type { ChatModeration } from '@diststream/protocol'
import type { Clock } from '@diststream/util'
import type { Registry } from 'prom-client'

export interface ChatModeratorInit {
  gossip: Pick<ChatGossipApi, 'publish' | 'subscribe' | 'onAnySubscribe'>
  /** Whether this node owns the stream (its ingest made it and still has it): only then may it moderate or relay. */
  owns: (stream: string) => Promise<boolean>
  registry: Registry
  logger: ChatLogger
  clock?: Clock
}

const CHAT_TOPIC = /^\/diststream\/chat\/([^/]+)\/1\.0\.0$/

export class ChatModerator {
  readonly #init: ChatModeratorInit
  readonly #book: ModerationBook
  readonly #metrics: ChatMetrics
  /** Chat topics of our own streams that we are in, and how to leave each. */
  readonly #joined = new Map<string, () => void>()
  /** Streams whose ownership is being checked (bounded: made-up topics cost a lookup each). */
  readonly #checking = new Set<string>()
  #offSubscribe?: () => void
  #timer?: ReturnType<typeof setInterval>

  constructor (init: ChatModeratorInit) {
    this.#init = init
    this.#book = new ModerationBook(init.clock ?? systemClock)
    this.#metrics = createChatMetrics(init.registry)
    chatGauge(init.registry, 'diststream_chat_owner_topics', 'Chat topics of its own streams this ingest has joined (to relay between edges)', () => this.#joined.size)
  }

  start (): void {
    this.#offSubscribe = this.#init.gossip.onAnySubscribe((_peer, topic) => { this.#onSubscribe(topic) })
    this.#timer = setInterval(() => { this.#repeat() }, CHAT_MODERATION_REPEAT_MS)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#offSubscribe?.()
    for (const leave of this.#joined.values()) leave()
    this.#joined.clear()
  }

  state (stream: string): ChatModeration | undefined { return this.#book.get(stream) }

  /** Applies `action` to `stream`'s chat and publishes the new state. Throws ModerationError (404 not ours, 400, 409). */
  async moderate (stream: string, action: ModerationAction): Promise<ChatModeration> {
    if (!await this.#init.owns(stream)) throw new ModerationError('this node does not own that stream', 404)
    const state = this.#book.apply(stream, action)
    this.#publish(stream)
    return state
  }

  #onSubscribe (topic: string): void {
    const id = CHAT_TOPIC.exec(topic)?.[1]
    if (id == null || !ID_PATTERN.test(id)) return
    if (this.#joined.has(id)) {
      this.#publish(id) // a newcomer: tell it the moderation it missed
      return
    }
    if (this.#checking.has(id) || this.#checking.size >= MAX_OWNER_CHAT_CHECKS || this.#joined.size >= MAX_OWNER_CHAT_TOPICS) return
    this.#checking.add(id)
    this.#init.owns(id).then(yes => {
      if (!yes || this.#joined.has(id) || this.#offSubscribe == null) return
      // Joined to relay between edges; the ingest shows no chat itself (its gossip validator checks every message).
      this.#joined.set(id, this.#init.gossip.subscribe(chatTopic(id), chatGossipCodec, () => {}))
      this.#publish(id)
    }, (err: unknown) => { this.#init.logger.debug({ err, stream: id }, 'chat: ownership check failed') })
      .finally(() => { this.#checking.delete(id) })
  }

  #repeat (): void {
    for (const stream of this.#book.streams()) this.#publish(stream)
    // Streams this ingest no longer has (removed after their retention): leave their chat.
    for (const id of this.#joined.keys()) {
      this.#init.owns(id).then(yes => {
        if (yes) return
        this.#joined.get(id)?.()
        this.#joined.delete(id)
        this.#book.forget(id)
      }, (err: unknown) => { this.#init.logger.debug({ err, stream: id }, 'chat: ownership check failed') })
    }
  }

  #publish (stream: string): void {
    const s = this.#book.get(stream)
    if (s == null) return
    this.#metrics.moderation.inc({ side: 'ingest' })
    this.#init.gossip.publish(chatTopic(stream), chatGossipCodec, { t: 'mod', s }).catch((err: unknown) => {
      this.#init.logger.debug({ err, stream }, 'chat: publishing moderation failed (repeated later)')
    })
  }
}
