/**
 * Viewer counts over the network (issue 16): an edge publishes its viewers
 * per stream on TOPIC_VIEWERS when they change (ReportSchedule: rate-bounded,
 * a slow keep-alive, nothing when it has none), and every node with the
 * service sums the latest claim of each edge (NetworkViewers). An idle node
 * sends nothing: the tick only reads a local map.
 */
import { codecs, MAX_VIEWER_COUNT_STREAMS, TOPIC_VIEWERS } from '@diststream/protocol'
import { systemClock } from '@diststream/util'
import { Counter, Gauge } from 'prom-client'
import { NetworkViewers } from './network-viewers.js'
import { ReportSchedule } from './report-schedule.js'
import type { Counts } from './report-schedule.js'
import type { Gossip } from '@diststream/p2p'
import type { ViewerCounts } from '@diststream/protocol'
import type { Clock } from '@diststream/util'
import type { Startable } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** How often an edge reads its own counts to see whether they changed (no message unless they did). */
export const VIEWER_TICK_MS = 1000

/** What the service reads of this edge's own viewers (ViewerCounter). */
export interface LocalViewers {
  /** Streams with viewers now, most watched first. */
  streams: () => Array<{ id: string, viewers: number }>
}

export interface ViewerGossipInit {
  gossip: Pick<Gossip, 'subscribe' | 'publish' | 'onNewSubscriber'>
  /** This edge's viewers; absent on a node without the edge role (it only listens). */
  local?: LocalViewers
  registry: Registry
  logger: Logger
  clock?: Clock
  tickMs?: number
}

function metric<T> (registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

export class ViewerGossip implements Startable {
  readonly network: NetworkViewers
  readonly #init: ViewerGossipInit
  readonly #log: Logger
  readonly #schedule = new ReportSchedule()
  readonly #claims: Counter<'outcome'>
  #timer?: ReturnType<typeof setInterval>
  #off: Array<() => void> = []
  #started = false

  constructor (init: ViewerGossipInit) {
    this.#init = init
    this.#log = init.logger.child({ component: 'viewers' })
    this.network = new NetworkViewers({ clock: init.clock ?? systemClock })
    const registers = [init.registry]
    this.#claims = metric(init.registry, 'diststream_viewer_claims_total', () => new Counter({ name: 'diststream_viewer_claims_total', help: 'ViewerCounts messages received, by outcome (applied, stale, capped: a stream over MAX_VIEWERS_PER_CLAIM, evicted: another edge forgotten for room)', labelNames: ['outcome'], registers }))
    const local = init.local
    if (local != null) {
      metric(init.registry, 'diststream_viewers', () => new Gauge({
        name: 'diststream_viewers',
        help: 'Viewers of this edge per stream: distinct players (address + user agent) that fetched its HLS or DASH within the viewer window',
        labelNames: ['stream'],
        registers,
        collect () {
          this.reset()
          for (const s of local.streams()) this.set({ stream: s.id }, s.viewers)
        }
      }))
    }
  }

  async start (): Promise<void> {
    this.#off.push(this.#init.gossip.subscribe(TOPIC_VIEWERS, codecs.viewerCounts, (msg, from) => { this.#onCounts(msg, from) }))
    if (this.#init.local != null) {
      this.#off.push(this.#init.gossip.onNewSubscriber(TOPIC_VIEWERS, () => { this.#schedule.nudge() }))
      this.#timer = setInterval(() => { this.#tick() }, this.#init.tickMs ?? VIEWER_TICK_MS)
      this.#timer.unref()
    }
    this.#started = true
  }

  isStarted (): boolean { return this.#started }

  async stop (): Promise<void> {
    clearInterval(this.#timer)
    for (const off of this.#off.splice(0)) off()
    this.#started = false
  }

  /** A stream's viewers over the network (every edge's latest claim, this one's included). */
  count (streamId: string): number {
    return this.network.count(streamId)
  }

  #onCounts (msg: ViewerCounts, from: string): void {
    const out = this.network.apply(from, msg.sentAtMs, msg.streams)
    this.#claims.inc({ outcome: out.applied ? 'applied' : 'stale' })
    if (out.capped > 0) this.#claims.inc({ outcome: 'capped' }, out.capped)
    if (out.evicted) this.#claims.inc({ outcome: 'evicted' })
  }

  #tick (): void {
    const counts: Counts = (this.#init.local?.streams() ?? []).slice(0, MAX_VIEWER_COUNT_STREAMS).map(s => ({ streamId: s.id, viewers: s.viewers })).sort((a, b) => a.streamId < b.streamId ? -1 : 1)
    const now = (this.#init.clock ?? systemClock).now()
    if (!this.#schedule.due(counts, now)) return
    this.#init.gossip.publish(TOPIC_VIEWERS, codecs.viewerCounts, { streams: [...counts], sentAtMs: Date.now() }).catch((err: any) => {
      // Delivered to ourselves anyway; peers get the next change or keep-alive.
      this.#log.debug({ err: err?.message }, 'viewer counts not published')
    })
  }
}
