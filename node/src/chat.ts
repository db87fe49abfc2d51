/** Live chat's parts for the roles a node has: the edge's relay, the ingest's moderator (started). */
import { ChatModerator, ChatRelay } from '@diststream/chat'
import type { ChatGossipApi } from '@diststream/chat'
import type { Edge } from '@diststream/edge'
import type { Ingest } from '@diststream/ingest'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface ChatParts { chat?: ChatRelay, moderator?: ChatModerator }

export function createChat (s: { edge?: Edge, ingest?: Ingest, gossip: ChatGossipApi, registry: Registry, logger: Logger, selfPeer: string }): ChatParts {
  const logger = s.logger.child({ component: 'chat' })
  const { edge, ingest } = s
  const chat = edge != null
    ? new ChatRelay({ gossip: s.gossip, selfPeer: s.selfPeer, ownerOf: id => edge.streamOwner(id), registry: s.registry, logger })
    : undefined
  let moderator: ChatModerator | undefined
  if (ingest != null) {
    moderator = new ChatModerator({ gossip: s.gossip, owns: async id => (await ingest.getStream(id)) != null, registry: s.registry, logger })
    moderator.start()
  }
  return { chat, moderator }
}
