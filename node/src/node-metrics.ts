/**
 * The node's own Prometheus metrics (the roles register theirs): rejected
 * peer messages, webhook deliveries, and gauges read at scrape time (peers,
 * ffmpeg processes, active streams).
 */
import { liveFfmpegProcesses } from '@diststream/media'
import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'
import type { CountMessages } from '@diststream/p2p'

/**
 * `diststream_p2p_messages_total{kind,name,direction}`: the node's own count of the messages it
 * sent and received, per gossip topic and per protocol (packages/p2p/src/message-counts.ts).
 * Made before libp2p, which feeds it from the start.
 */
export function createMessageCounter (registry: Registry): CountMessages {
  const c = new Counter({
    name: 'diststream_p2p_messages_total',
    help: 'Messages on the wire: gossip copies per topic (duplicates included), gossip control entries, typed messages per stream protocol',
    labelNames: ['kind', 'name', 'direction'],
    registers: [registry]
  })
  return (kind, name, direction, n) => { c.inc({ kind, name, direction }, n) }
}

export interface NodeMetrics {
  protocolErrors: Counter<'reason'>
  webhookDeliveries: Counter<'event' | 'outcome'>
}

/** What the scrape-time gauges read. */
export interface GaugeSources {
  peers: () => number
  /** Stream ids live on this node: published (ingest) or followed and not ended (edge); may overlap. */
  activeStreams: () => Iterable<string>
}

export function createNodeMetrics (registry: Registry, sources: GaugeSources): NodeMetrics {
  const registers = [registry]
  // Gauges that read their value when scraped: registered on the registry, nothing else holds them.
  void new Gauge({ name: 'diststream_ffmpeg_processes', help: 'ffmpeg/ffprobe child processes running now', registers, collect () { this.set(liveFfmpegProcesses()) } })
  void new Gauge({ name: 'diststream_peers', help: 'Connected libp2p peers', registers, collect () { this.set(sources.peers()) } })
  void new Gauge({
    name: 'diststream_active_streams',
    help: 'Streams live on this node: being published (ingest) or followed and not ended (edge)',
    registers,
    collect () { this.set(new Set(sources.activeStreams()).size) }
  })
  return {
    protocolErrors: new Counter({ name: 'diststream_protocol_errors_total', help: 'Peer messages rejected: malformed, oversized, invalid or out of protocol', labelNames: ['reason'], registers }),
    webhookDeliveries: new Counter({ name: 'diststream_webhook_deliveries_total', help: 'Webhook deliveries by event type and outcome (delivered, failed after retries, dropped)', labelNames: ['event', 'outcome'], registers })
  }
}
