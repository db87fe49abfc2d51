import { Counter, Gauge, Histogram } from 'prom-client'
import type { IngestMetrics } from './types.js'
import type { Registry } from 'prom-client'

/** The registry's metric of that name if a role already made it, else a new one. */
function getOrCreate<T> (registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

/** The ingest's job-market and segment metrics, once per registry. */
export function createIngestMetrics (registry: Registry): IngestMetrics {
  const registers = [registry]
  const counter = <L extends string = string>(name: string, help: string, labelNames: L[] = []): Counter<L> =>
    getOrCreate(registry, name, () => new Counter<L>({ name, help, labelNames, registers }))
  return {
    announced: counter('diststream_jobs_announced_total', 'Transcode jobs announced by this ingest (counted once, however often a queued job is re-announced)'),
    completed: counter('diststream_jobs_completed_total', 'Jobs whose renditions came back verified'),
    failed: counter('diststream_jobs_failed_total', 'Jobs every bidder failed (the source passed through)'),
    reassigned: counter('diststream_jobs_reassigned_total', 'Job attempts after the first (timeout, error or rejected output)'),
    hedged: counter('diststream_jobs_hedged_total', 'Duplicate attempts started because the first worker was late against its own estimate'),
    shedRungs: counter('diststream_rungs_shed_total', 'Rungs left out of live jobs because the workers could not keep up (one per rung per job; the source always plays)'),
    hedgesDenied: counter('diststream_jobs_hedges_denied_total', 'Late attempts not hedged: no free worker in hand, or hedges already at their share of recent jobs (HEDGE_SHARE)'),
    rebids: counter('diststream_jobs_rebid_total', 'Jobs re-announced because every bid in hand failed'),
    spotChecks: counter('diststream_spot_checks_total', 'Jobs re-run on a second worker and compared against the source, by verdict', ['verdict']),
    publishesRefused: counter('diststream_ingest_publishes_refused_total', 'Publishes, pulls and VODs stopped because a segment passed the segmenter\'s bounds: keyframe_interval (no keyframe for 10 target lengths, 20..50 s) or segment_too_large (48 MiB)', ['why']),
    sourcesRefused: counter('diststream_ingest_sources_refused_total', 'source_url values refused (400): syntax (scheme, form), file (file sources off or outside --allow-file-source), private (non-public host without --allow-private-sources), metadata (a cloud metadata address), resolve (the host does not resolve)', ['why']),
    probationChecks: counter('diststream_probation_checks_total', 'Results of workers on probation compared against the source before being served, by verdict (pass, bad: refused as invalid, error: refused)', ['verdict']),
    passthrough: counter('diststream_jobs_passthrough_total', 'Jobs no worker took within the queue limit, or with no worker on the network (the source passed through)'),
    segmentLatency: getOrCreate(registry, 'diststream_segment_latency_seconds', () => new Histogram({ name: 'diststream_segment_latency_seconds', help: 'Segment closed at the ingest → renditions stored', buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8], registers }))
  }
}

/** The gauge of the most copies of one rendition segment served (read from `maxCopiesServed` at scrape time). */
export function createUploadGauge (registry: Registry, maxCopiesServed: () => number): void {
  getOrCreate(registry, 'diststream_fetch_copies_max', () => new Gauge({ name: 'diststream_fetch_copies_max', help: 'Most copies of one rendition segment this ingest served (recent segments)', registers: [registry], collect () { this.set(maxCopiesServed()) } }))
}

/**
 * Counters of segment bytes served over PROTOCOL_FETCH to other peers (the
 * ingest's upload, or an edge's share of swarming). One set per registry:
 * created by whichever role serves first.
 */
export function fetchServeMetrics (registry: Registry): { copies: Counter, bytes: Counter, busy: Counter } {
  const get = (name: string, help: string): Counter => getOrCreate(registry, name, () => new Counter({ name, help, registers: [registry] }))
  return {
    copies: get('diststream_fetch_served_total', 'Rendition segments served to other peers over /diststream/fetch'),
    bytes: get('diststream_fetch_served_bytes_total', 'Rendition bytes served to other peers over /diststream/fetch'),
    busy: get('diststream_fetch_busy_total', 'Fetch requests answered BUSY (enough copies served; the requester fetches from a holder)')
  }
}

/** Fetch requests the ingest refused past a serve limit, or for a file whose size is not the recorded one (security review H6). */
export function fetchRefusedMetric (registry: Registry): Counter<'why'> {
  const name = 'diststream_fetch_refused_total'
  return getOrCreate(registry, name, () => new Counter<'why'>({ name, help: 'Fetch requests this ingest refused: global_limit / peer_limit (serves in flight; answered BUSY), size_mismatch (the file on disk is not the size recorded)', labelNames: ['why'], registers: [registry] }))
}
