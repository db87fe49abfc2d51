import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'

/** The worker's Prometheus metrics. */
export interface WorkerMetrics {
  bids: Counter
  jobs: Counter<'outcome'>
  active: Gauge
  seconds: Histogram
  refused: Counter<'why'>
}

export function createWorkerMetrics (registry: Registry): WorkerMetrics {
  const registers = [registry]
  return {
    refused: new Counter({ name: 'diststream_worker_jobs_refused_total', help: 'Jobs and transcode requests this worker refused: limits (sizes, lengths), unknown_stream, foreign_job (not from the stream\'s ingest), unsolicited (no bid of ours to that peer), mismatch (the segment\'s bytes are larger or longer than its job declared), stalled_transfer (the segment came too slowly: past its size-scaled deadline or silent too long)', labelNames: ['why'], registers }),
    bids: new Counter({ name: 'diststream_worker_bids_total', help: 'Bids this worker sent', registers }),
    jobs: new Counter({ name: 'diststream_worker_jobs_total', help: 'Transcode jobs this worker ran, by outcome', labelNames: ['outcome'], registers }),
    // Set as jobs start and end (no collect-time work).
    active: new Gauge({ name: 'diststream_worker_active_jobs', help: 'Transcodes running now', registers }),
    seconds: new Histogram({ name: 'diststream_worker_transcode_seconds', help: 'Wall time of one segment transcode', buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8], registers })
  }
}
