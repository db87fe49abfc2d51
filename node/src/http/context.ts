/**
 * What the HTTP layer needs from the node, declared here by its consumer (as
 * mediamtx's servers declare their parents): routes import this, never
 * `node.ts`, so the composition root depends on the HTTP layer and not the
 * other way round.
 */
import type { AccountStore } from '../accounts/account-store.js'
import type { NodeConfig } from '../config.js'
import type { ChatModerator, ChatRelay } from '@diststream/chat'
import type { Edge } from '@diststream/edge'
import type { Ingest } from '@diststream/ingest'
import type { FfmpegPaths } from '@diststream/media'
import type { P2PNode, PresenceService } from '@diststream/p2p'
import type { Worker } from '@diststream/worker'
import type { Logger } from 'pino'
import type { ViewerCounter } from './viewers.js'
import type { Registry } from 'prom-client'

export interface HttpContext {
  readonly config: NodeConfig
  readonly logger: Logger
  readonly registry: Registry
  readonly libp2p: P2PNode
  readonly presence: PresenceService
  /** Each role, when this node has it. */
  readonly ingest?: Ingest
  readonly edge?: Edge
  readonly worker?: Worker
  readonly ffmpeg?: FfmpegPaths
  /** Broadcaster accounts, sessions and channels (ingest role). */
  readonly accounts?: AccountStore
  /** Live chat: the edge's relay and the ingest's moderator, with those roles. */
  readonly chat?: ChatRelay
  readonly moderator?: ChatModerator
  /** Signs with the node's libp2p key (playback tokens of private streams); absent in tests that build a context by hand. */
  readonly signPlayback?: (data: Uint8Array) => Uint8Array | Promise<Uint8Array>
  /** This edge's viewers (distinct players in the viewer window); a feed makes its own when absent. */
  readonly viewers?: ViewerCounter
  /** A stream's viewers over the whole network (viewer-gossip.ts); absent: this node's own only. */
  readonly networkViewers?: { count: (streamId: string) => number }
  /** Bearer token the mutating HTTP API requires. */
  readonly apiToken: string
  readonly startedAt: number
  /** This node's software version. */
  readonly version: string
  /** What keeps the node from serving (for /readyz); [] when ready. */
  notReady: () => string[]
  /** The server's base URL once it listens ('' before). */
  httpUrl: () => string
  /** The port the server listens on (the configured one before it listens). */
  httpPort: () => number
}
