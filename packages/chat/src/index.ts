/**
 * @packageDocumentation
 *
 * Live chat (PROTOCOL.md §10): `ChatRoom` (one stream's chat on one edge:
 * history, dedupe, moderation, rate limits; pure), `ChatRelay` (the edge:
 * rooms for the streams its viewers have open, relayed over gossip),
 * `ChatModerator` (the owning ingest: bans, deletions, slow mode, published
 * as the whole state).
 *
 * @example An edge
 *
 * ```ts
 * const relay = new ChatRelay({ gossip, selfPeer, ownerOf: id => edge.streamOwner(id), registry, logger })
 * const { recent, leave } = relay.join(streamId, e => { sse.send(e) })
 * await relay.post(streamId, body) // throws ChatRefusal (counted) for a forged, flooding or banned message
 * ```
 */
export { ChatRoom } from './room.js'
export type { ChatRoomInit, ChatSource, AdmitResult, ModerationChange } from './room.js'
export { TokenBucket } from './token-bucket.js'
export { ModerationBook, ModerationError } from './moderation-book.js'
export type { ModerationAction } from './moderation-book.js'
export { ChatRelay } from './relay.js'
export type { ChatRelayInit, ChatEvent, ChatListener, ChatJoin } from './relay.js'
export { ChatModerator } from './moderator.js'
export type { ChatModeratorInit } from './moderator.js'
export { createChatMetrics } from './metrics.js'
export type { ChatMetrics } from './metrics.js'
export type { ChatGossipApi, ChatLogger } from './types.js'
export * from './constants.js'
