import { Counter } from 'prom-client'
import type { Registry } from 'prom-client'

/** Every counter of the edge role and its swarm, from one registry. */
export interface EdgeMetrics {
  /** Rendition fetches over libp2p, by outcome (ok, error; archive, archive_miss, archive_mismatch). */
  fetches: Counter<'outcome'>
  /** Segment fetches started towards the ingest (each attempt). */
  upstream: Counter
  /** HTTP requests for HLS/DASH, by type and status. */
  requests: Counter<'type' | 'status'>
  /** Segment requests served from the memory cache. */
  hits: Counter
  /** Segment bytes served to viewers. */
  bytes: Counter
  /** DHT lookups of unknown streams, by outcome (found, not_found). */
  lookups: Counter<'outcome'>
  /** Rendition segments fetched, by source (ingest, edge, ingest_fallback). */
  sources: Counter<'source'>
  /** Rendition segments served to other peers (shared with the ingest's FETCH server). */
  served: Counter
  /** Rendition bytes served to other peers (shared with the ingest's FETCH server). */
  servedBytes: Counter
  /** Disk cache failures, by kind (write, read, remove, corrupt): none of them is fatal. */
  cacheErrors: Counter<'kind'>
  /** Requests refused because a bound was reached, by which (followed_streams, followed_per_ingest, cold_fetches, cold_fetches_per_stream). */
  refused: Counter<'bound'>
  /** HTTP requests for a private stream refused, by reason (missing, malformed, signature, stream, expired, …). */
  playbackRefused: Counter<'reason'>
}

/** Get-or-create: two roles (or two edges in one test) on one registry share a metric instead of clashing. */
function counter<L extends string = string> (registry: Registry, name: string, help: string, labelNames: L[] = []): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter<L>({ name, help, labelNames, registers: [registry] })
}

export function createEdgeMetrics (registry: Registry): EdgeMetrics {
  return {
    fetches: counter(registry, 'diststream_edge_fetches_total', 'Rendition fetches over libp2p, by outcome (ok, error; archive: read from the --archive bucket when no peer delivered it, archive_miss, archive_mismatch: its bytes did not match the announced sha256)', ['outcome']),
    upstream: counter(registry, 'diststream_edge_upstream_fetches_total', 'Segment fetches started towards the ingest over libp2p (each attempt; concurrent requests for one segment share one)'),
    requests: counter(registry, 'diststream_edge_requests_total', 'HTTP requests for HLS, by type and status', ['type', 'status']),
    hits: counter(registry, 'diststream_edge_cache_hits_total', 'Segment requests served from the memory cache'),
    bytes: counter(registry, 'diststream_edge_bytes_sent_total', 'Segment bytes served to viewers'),
    lookups: counter(registry, 'diststream_edge_stream_lookups_total', 'DHT lookups of streams this edge had not heard of, by outcome (found, not_found, busy: not started, too many running)', ['outcome']),
    sources: counter(registry, 'diststream_edge_fetch_sources_total', 'Rendition segments fetched, by source: ingest, edge (another holder), or ingest_fallback (holders failed)', ['source']),
    // The help strings must match the ingest's (packages/ingest fetchServeMetrics): whichever role registers first wins.
    served: counter(registry, 'diststream_fetch_served_total', 'Rendition segments served to other peers over /diststream/fetch'),
    servedBytes: counter(registry, 'diststream_fetch_served_bytes_total', 'Rendition bytes served to other peers over /diststream/fetch'),
    cacheErrors: counter(registry, 'diststream_edge_cache_errors_total', 'Disk cache failures (write, read, remove) and files whose bytes no longer match their hash (corrupt); served from memory or fetched again', ['kind']),
    refused: counter(registry, 'diststream_edge_refused_total', 'Stream requests refused because an edge bound was reached, by bound', ['bound']),
    playbackRefused: counter(registry, 'diststream_edge_playback_refused_total', 'HTTP requests for a private stream refused: no token (missing, 401) or a token refused (403) by reason', ['reason'])
  }
}
