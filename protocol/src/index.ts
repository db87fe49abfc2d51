/**
 * @packageDocumentation
 *
 * The DistStream wire protocol: protocol ids and gossip topics, the protobuf
 * messages, checked codecs (size limit → protobuf decode with count limits →
 * semantic validation), and `MessageChannel`, a typed length-prefixed channel
 * over a libp2p 3 stream. The normative description is PROTOCOL.md.
 *
 * @example A bid, from the worker's side
 *
 * ```ts
 * import { codecs, MessageChannel, PROTOCOL_BID, withTimeout, isProtocolError } from '@diststream/protocol'
 *
 * const stream = await libp2p.dialProtocol(ingestPeer, PROTOCOL_BID)
 * const ch = new MessageChannel(stream)
 * const signal = withTimeout(2_000)
 * try {
 *   await ch.write(codecs.bid, { jobId, estimateMs: 800, activeJobs: 0, maxJobs: 2, gpu: false, hwKind: 'cpu', price: 0 }, { signal })
 *   const ack = await ch.read(codecs.bidAck, { signal })
 *   await ch.close({ signal })
 * } catch (err) {
 *   if (isProtocolError(err)) metrics.protocolErrors.inc({ reason: err.reason })
 *   ch.abort(err as Error)
 * }
 * ```
 *
 * @example Gossip
 *
 * ```ts
 * import { codecs, TOPIC_JOBS } from '@diststream/protocol'
 *
 * await pubsub.publish(TOPIC_JOBS, codecs.jobAnnounce.encode(job)) // validates, throws ProtocolError('invalid')
 * const job = codecs.jobAnnounce.decode(msg.data)                  // throws ProtocolError: reject the message
 * ```
 */

export * from './constants.js'
export * from './limits.js'
export * from './errors.js'
export * from './codecs.js'
export * from './channel.js'
export * from './stream-id.js'
export { utf8Length, truncateUtf8, CONTAINERS, containerOf } from './validate.js'
export type { RenditionScope, Container } from './validate.js'
export {
  Rung, Rendition, Presence, JobAnnounce, StreamAnnounce, SegmentAnnounce, Bid, BidAck,
  TranscodeRequest, TranscodeResponse, FetchRequest, FetchResponse, Have, ViewerCounts, StreamViewers
} from './pb/messages.js'
export {
  chatTopic, chatSigningBytes, checkChatShape, checkChatMessage, checkChatModeration, verifyChatSignature,
  decodeChatGossip, chatGossipCodec, ChatRefusal, CHAT_DOMAIN
} from './chat.js'
export type { ChatMessage, ChatModeration, ChatGossip, ChatRefusalReason } from './chat.js'
export * from './playback-token.js'
