import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'

export interface WhipMetrics {
  refused: Counter<'why'>
  failures: Counter<'stage'>
}

function getOrCreate<T> (registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

/** WHIP's metrics, once per registry; `active` is read at scrape time. */
export function createWhipMetrics (registry: Registry, active: () => number): WhipMetrics {
  const registers = [registry]
  getOrCreate(registry, 'diststream_whip_sessions', () => new Gauge({ name: 'diststream_whip_sessions', help: 'WHIP sessions held now (connecting or publishing)', registers, collect () { this.set(active()) } }))
  return {
    refused: getOrCreate(registry, 'diststream_whip_refused_total', () => new Counter({ name: 'diststream_whip_refused_total', help: 'WHIP offers refused before any ICE: content_type (415), sdp_too_large (413), bad_offer and no_h264 (400), unknown_key (404), too_many_sessions (503)', labelNames: ['why'], registers })),
    failures: getOrCreate(registry, 'diststream_whip_failures_total', () => new Counter({ name: 'diststream_whip_failures_total', help: 'WHIP sessions that ended badly: ice (ICE failed), dtls (DTLS failed after ICE), connect_timeout (not connected in time), media_timeout (no RTP for too long), bridge (the RTP-to-MPEG-TS ffmpeg could not start)', labelNames: ['stage'], registers }))
  }
}
