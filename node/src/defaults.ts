/**
 * The one table of `diststream-node`'s defaults: config.ts gives yargs these
 * values, and where an option maps onto a role's option the value comes from
 * that role's own defaults (`@diststream/edge/defaults`,
 * `@diststream/ingest/defaults`: leaf modules, so reading them loads no role),
 * so the CLI and a role built directly can never disagree again.
 * test/config.test.ts checks that `--help` prints exactly these.
 */
import { EDGE_DEFAULTS } from '@diststream/edge/defaults'
import { INGEST_DEFAULTS } from '@diststream/ingest/defaults'
import { DEFAULT_WEBHOOK_EVENTS } from '@diststream/webhooks'

const MiB = 1024 * 1024

export const NODE_DEFAULTS = {
  role: 'ingest,worker,edge',
  'data-dir': './.diststream',
  listen: ['/ip4/0.0.0.0/tcp/4001'],
  bootstrap: [] as string[],
  'http-port': 8080,
  'http-host': '0.0.0.0',
  'rtmp-port': 1935,
  gpu: false,
  'low-latency': false,
  ladder: '720p,480p,360p',
  price: 0,
  calibrate: true,
  'playlist-window': EDGE_DEFAULTS.playlistWindow,
  'bid-window-ms': INGEST_DEFAULTS.bidWindowMs,
  'max-queue-seconds': INGEST_DEFAULTS.maxQueueMs / 1000,
  'spot-check-rate': INGEST_DEFAULTS.spotCheckRate,
  'probation-jobs': INGEST_DEFAULTS.probationJobs,
  'max-upload-mb': 2048,
  'max-rung-size': '1920x1080',
  'dvr-retention-seconds': EDGE_DEFAULTS.dvrRetentionMs / 1000,
  'stale-stream-seconds': EDGE_DEFAULTS.staleMs / 1000,
  'edge-cache-mb': EDGE_DEFAULTS.maxMemoryBytes / MiB,
  'viewer-window-seconds': 30,
  webhook: [] as string[],
  'webhook-secret': '',
  'webhook-events': DEFAULT_WEBHOOK_EVENTS.join(','),
  mdns: false,
  'behind-nat': false,
  'allow-file-source': '',
  'allow-private-sources': false,
  container: INGEST_DEFAULTS.container as 'cmaf' | 'ts',
  'log-level': 'info'
} as const
