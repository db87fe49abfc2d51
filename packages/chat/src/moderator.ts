/**
 * The owner's side of chat moderation (the ingest): applies an action to a
 * stream's moderation state (`ModerationBook`, pure) and publishes the whole
 * state on the stream's chat topic, signed by gossipsub with the ingest's
 * own key, which is the key the stream id commits to. The state is sent
 * again to every peer that subscribes to the topic and repeated every
 * CHAT_MODERATION_REPEAT_MS, so a late or unlucky edge catches up.
 */
import { chatGossipCodec, chatTopic } from '@diststream/protocol'
import { systemClock } from '@diststream/util'
import { CHAT_MODERATION_REPEAT_MS } from './constants.js'
import { createChatMetrics } from './metrics.js'
import { ModerationBook, ModerationError } from './moderation-book.js'
import type { ChatMetrics } from './metrics.js'
import type { ModerationAction } from './moderation-book.js'
import type { ChatGossipApi, ChatLogger } from './types.js'
import type { ChatModeration } from '@diststream/protocol'
import type { Clock } from '@diststream/util'
import type { Registry } from 'prom-client'

export interface ChatModeratorInit {
  gossip: Pick<ChatGossipApi, 'publish' | 'onNewSubscriber'>
  /** Whether this node owns the stream (its ingest made it): only then may it moderate. */
  owns: (stream: string) => Promise<boolean>
  registry: Registry
  logger: ChatLogger
  clock?: Clock
}

export class ChatModerator {
  readonly #init: ChatModeratorInit
  readonly #book: ModerationBook
  readonly #metrics: ChatMetrics
  readonly #watching = new Map<string, () => void>()
  #timer?: ReturnType<typeof setInterval>

  constructor (init: ChatModeratorInit) {
    this.#init = init
    this.#book = new ModerationBook(init.clock ?? systemClock)
    this.#metrics = createChatMetrics(init.registry)
  }

  start (): void {
    this.#timer = setInterval(() => { this.#repeat() }, CHAT_MODERATION_REPEAT_MS)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
    for (const off of this.#watching.values()) off()
    this.#watching.clear()
  }

  state (stream: string): ChatModeration | undefined { return this.#book.get(stream) }

  /** Applies `action` to `stream`'s chat and publishes the new state. Throws ModerationError (404 not ours, 400, 409). */
  async moderate (stream: string, action: ModerationAction): Promise<ChatModeration> {
    if (!await this.#init.owns(stream)) throw new ModerationError('this node does not own that stream', 404)
    const state = this.#book.apply(stream, action)
    if (!this.#watching.has(stream)) {
      // Bounded by this ingest's own streams (owns() above).
      this.#watching.set(stream, this.#init.gossip.onNewSubscriber(chatTopic(stream), () => { this.#publish(stream) }))
    }
    this.#publish(stream)
    return state
  }

  #repeat (): void {
    // Bounded by this ingest's own streams: a state is made only for a stream it owns.
    for (const stream of this.#book.streams()) this.#publish(stream)
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
