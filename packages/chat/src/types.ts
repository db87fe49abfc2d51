import type { ChatGossip, MessageCodec } from '@diststream/protocol'

/** The gossip a chat part needs (`Gossip` from @diststream/p2p fits). */
export interface ChatGossipApi {
  subscribe: (topic: string, codec: MessageCodec<ChatGossip>, handler: (msg: ChatGossip, from: string) => void) => () => void
  publish: (topic: string, codec: MessageCodec<ChatGossip>, msg: ChatGossip) => Promise<number>
  onAnySubscribe: (handler: (peer: string, topic: string) => void) => () => void
}

export interface ChatLogger {
  debug: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}
