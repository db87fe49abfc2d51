import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'

export interface ChatMetrics {
  /** Chat inputs refused, by reason (ChatRefusalReason): forged signatures, floods, oversized or malformed messages, banned keys… */
  refused: Counter<'reason'>
  /** Chat messages accepted, by source (local: a viewer of this edge; remote: relayed by another edge). */
  messages: Counter<'source'>
  /** Moderation states taken in (edge) or published (ingest). */
  moderation: Counter<'side'>
}

function counter<L extends string> (registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter<L>({ name, help, labelNames, registers: [registry] })
}

export function createChatMetrics (registry: Registry): ChatMetrics {
  return {
    refused: counter(registry, 'diststream_chat_refused_total', 'Chat messages and moderation states refused, by reason', ['reason']),
    messages: counter(registry, 'diststream_chat_messages_total', 'Chat messages accepted, by source (local viewer, remote edge)', ['source']),
    moderation: counter(registry, 'diststream_chat_moderation_total', 'Chat moderation states applied (edge) or published (ingest)', ['side'])
  }
}

/** A gauge read when scraped (get-or-create: the first caller's `read` wins on a shared registry). */
export function chatGauge (registry: Registry, name: string, help: string, read: () => number): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry], collect () { this.set(read()) } })
}
