/**
 * The owner's side of moderation, pure: each of its streams' moderation
 * state, changed by one action at a time. The version is the clock, forced
 * to increase, so edges take the newest state whatever order gossip brings.
 */
import { MAX_CHAT_BANS, MAX_CHAT_DELETED, MAX_CHAT_SLOW_SECONDS, CHAT_ID_PATTERN, CHAT_KEY_PATTERN } from '@diststream/protocol'
import type { ChatModeration } from '@diststream/protocol'
import type { Clock } from '@diststream/util'

/** What the owner asks for (`POST /api/streams/:id/chat/moderation`). */
export type ModerationAction =
  | { action: 'delete', id: string }
  | { action: 'ban', key: string, unban?: boolean }
  | { action: 'slow', seconds: number }

export class ModerationError extends Error {
  static readonly NAME = 'ModerationError'
  override name = ModerationError.NAME
  readonly statusCode: number
  constructor (message: string, statusCode = 400) {
    super(message)
    this.statusCode = statusCode
  }
}

export class ModerationBook {
  readonly #states = new Map<string, ChatModeration>()

  constructor (private readonly clock: Clock) {}

  get (stream: string): ChatModeration | undefined { return this.#states.get(stream) }

  streams (): string[] { return [...this.#states.keys()] }

  /** Forgets a stream (it was removed). */
  forget (stream: string): void { this.#states.delete(stream) }

  /** Applies one action and returns the new state. Throws ModerationError (400 bad action, 409 a bound reached). */
  apply (stream: string, a: ModerationAction): ChatModeration {
    const prev = this.#states.get(stream) ?? { stream, version: 0, slowSeconds: 0, bans: [], deleted: [] }
    const next: ChatModeration = { ...prev, bans: [...prev.bans], deleted: [...prev.deleted], version: Math.max(this.clock.now(), prev.version + 1) }
    if (a.action === 'delete') {
      if (!CHAT_ID_PATTERN.test(a.id)) throw new ModerationError('bad message id')
      if (!next.deleted.includes(a.id)) next.deleted.push(a.id)
      // The oldest deletions go first: those messages have long left every edge's history.
      if (next.deleted.length > MAX_CHAT_DELETED) next.deleted.splice(0, next.deleted.length - MAX_CHAT_DELETED)
    } else if (a.action === 'ban') {
      if (!CHAT_KEY_PATTERN.test(a.key)) throw new ModerationError('bad viewer key')
      const i = next.bans.indexOf(a.key)
      if (a.unban === true) {
        if (i >= 0) next.bans.splice(i, 1)
      } else if (i < 0) {
        // A ban is never dropped silently: past the bound the owner is told.
        if (next.bans.length >= MAX_CHAT_BANS) throw new ModerationError(`at most ${MAX_CHAT_BANS} bans per stream`, 409)
        next.bans.push(a.key)
      }
    } else if (a.action === 'slow') {
      if (!Number.isInteger(a.seconds) || a.seconds < 0 || a.seconds > MAX_CHAT_SLOW_SECONDS) throw new ModerationError(`slow mode is 0..${MAX_CHAT_SLOW_SECONDS} seconds`)
      next.slowSeconds = a.seconds
    } else {
      throw new ModerationError('action is delete, ban or slow')
    }
    this.#states.set(stream, next)
    return next
  }
}
