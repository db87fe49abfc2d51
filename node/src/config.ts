import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { ROLES } from '@diststream/protocol'
import { parseLadder } from '@diststream/media'
import { WEBHOOK_EVENTS } from '@diststream/webhooks'
import { parseArchiveUrl } from '@diststream/archive/target'
import yargs from 'yargs'
import { API_TOKEN_PATTERN } from './http/auth.js'
import { MAX_SESSION_TTL_SECONDS } from './accounts/constants.js'
import { NODE_DEFAULTS } from './defaults.js'
import { LOG_FORMATS } from './logging.js'
import type { LogFormat } from './logging.js'
import type { Role } from '@diststream/protocol'
import type { RungSpec } from '@diststream/media'
import type { Argv } from 'yargs'

export interface NodeConfig {
  roles: Role[]
  dataDir: string
  listen: string[]
  bootstrap: string[]
  httpPort: number
  httpHost: string
  rtmpPort: number
  /** UDP port of SRT publishes (ingest role; 0 picks a free one). */
  srtPort: number
  /** SRT publishes must encrypt with it; undefined: they must not. */
  srtPassphrase?: string
  gpu: boolean
  segmentSeconds: number
  ladder: RungSpec[]
  maxJobs: number
  /** --max-jobs was given (otherwise a worker with a working GPU takes more). */
  maxJobsSet: boolean
  /** Asking price in this worker's bids (0 = free). */
  price: number
  /** Calibrate the worker at start (cached in the data dir). */
  calibrate: boolean
  playlistWindow: number
  bidWindowMs: number
  maxQueueSeconds: number
  spotCheckRate: number
  /** Verified jobs before a worker's output is served unchecked (0: no probation). */
  probationJobs: number
  logLevel: string
  /** Log lines as JSON or pretty; undefined: pretty on a TTY, JSON when piped (logging.ts). */
  logFormat?: LogFormat
  /** Where to write the ready file once the node serves (ready-file.ts); undefined: none. */
  readyFile?: string
  /** Token for the mutating HTTP API; undefined: the one stored in the data dir (generated on first start). */
  apiToken?: string
  /** Largest rendition a worker makes (rungs are also capped at the source size). */
  maxRungSize: { width: number, height: number }
  /** How long an ended stream stays as VOD (DVR) before it is removed (s). */
  dvrRetentionSeconds: number
  /** A stream with no segment and no heartbeat for this long is ended (s). */
  staleStreamSeconds: number
  /** A player counts as a viewer of an edge for this long after its last request (s). */
  viewerWindowSeconds: number
  /** The edge's in-memory segment cache (MiB). */
  edgeCacheMb: number
  /** Webhook receivers (URLs). */
  webhooks: string[]
  /** HMAC-SHA256 key for webhook signatures ('' = unsigned). */
  webhookSecret: string
  /** Webhook event types to send. */
  webhookEvents: string[]
  /** Largest body `POST /api/uploads` takes, in MiB. */
  maxUploadMb: number
  /** Directory file sources (source_url) may come from; undefined: file sources refused (review M4). */
  allowFileSource?: string
  /** Pull sources on loopback, private and link-local addresses (a LAN camera); refused by default (review M4). */
  allowPrivateSources: boolean
  /** Archive to object storage: `s3://bucket/prefix` (region, credentials, endpoint from the AWS env and shared config). */
  archive?: string
  /** Find peers on the LAN with mDNS. */
  mdns: boolean
  /** Behind a NAT (a home router): hold a relay reservation on a bootstrap node; DCUtR makes direct connections. */
  behindNat: boolean
  /**
   * Dial loopback/private/link-local addresses and exempt loopback from the per-IP connection cap
   * (a local network). Undefined: decided from the listen and bootstrap addresses (all private →
   * yes; any public or wildcard → no) and mDNS; see packages/p2p/src/gater.ts isLocalNetwork.
   */
  allowPrivateAddrs?: boolean
  /**
   * --low-latency: 1 s segments by default (ingest), and blocking playlist
   * reload (`_HLS_msn`) with `EXT-X-SERVER-CONTROL` on this node's edge.
   */
  lowLatency: boolean
  /** Rendition container of new streams (ingest role): fragmented MP4 for HLS v7 and DASH, or MPEG-TS. */
  container: 'cmaf' | 'ts'
  /** How long a broadcaster's login session lasts (s; ingest role). */
  sessionTtlSeconds: number
}

export class ConfigError extends Error {
  static readonly NAME = 'ConfigError'
  override name = ConfigError.NAME
}

/**
 * Every option of `diststream-node`. Each also comes from the environment as
 * `DISTSTREAM_<NAME>` (e.g. `DISTSTREAM_HTTP_PORT=9000`) and from a JSON file
 * given with `--config`; precedence: flag > env > file > default.
 */
export function nodeOptions<T> (y: Argv<T>) {
  return y
    .option('role', { type: 'string', default: NODE_DEFAULTS.role, describe: `Comma list of roles: ${ROLES.join(', ')}` })
    .option('data-dir', { type: 'string', default: NODE_DEFAULTS['data-dir'], describe: 'Level database, peer key (the peer id survives restarts) and segment store' })
    .option('listen', { type: 'string', array: true, default: NODE_DEFAULTS.listen, describe: 'libp2p listen multiaddr (repeatable)' })
    .option('bootstrap', { type: 'string', array: true, default: NODE_DEFAULTS.bootstrap, describe: 'Bootstrap multiaddr ending in /p2p/<peer-id> (repeatable)' })
    .option('http-port', { type: 'number', default: NODE_DEFAULTS['http-port'], describe: 'HTTP port for the API, HLS and dashboard (0 picks a free one)' })
    .option('http-host', { type: 'string', default: NODE_DEFAULTS['http-host'], describe: 'HTTP bind address' })
    .option('rtmp-port', { type: 'number', default: NODE_DEFAULTS['rtmp-port'], describe: 'RTMP port broadcasters publish to (ingest role; 0 picks a free one)' })
    .option('srt-port', { type: 'number', default: NODE_DEFAULTS['srt-port'], describe: 'UDP port of SRT publishes, srt://host:port?streamid=publish:<key> (ingest role; 0 picks a free one)' })
    .option('srt-passphrase', { type: 'string', describe: 'SRT publishes must encrypt with this passphrase (10-79 characters); without it they must not encrypt. Prefer DISTSTREAM_SRT_PASSPHRASE' })
    .option('gpu', { type: 'boolean', default: NODE_DEFAULTS.gpu, describe: 'Use a hardware encoder if ffmpeg has one that works; otherwise say so and use the CPU' })
    .option('segment-seconds', { type: 'number', describe: 'Target segment length (default 2, 1 with --low-latency); segments start on keyframes, so a longer GOP gives longer segments' })
    .option('low-latency', { type: 'boolean', default: NODE_DEFAULTS['low-latency'], describe: 'Low-latency HLS: 1 s segments (publish with a 1 s keyframe interval), blocking playlist reload (_HLS_msn) and EXT-X-SERVER-CONTROL on the edge' })
    .option('ladder', { type: 'string', default: NODE_DEFAULTS.ladder, describe: 'ABR ladder: any of 1080p, 720p, 480p, 360p, 240p; rungs above the source are skipped' })
    .option('max-jobs', { type: 'number', describe: `Concurrent transcodes this worker accepts; it stops bidding when full (default ${defaultMaxJobs(false)} here, ${defaultMaxJobs(true)} with a working --gpu)` })
    .option('price', { type: 'number', default: NODE_DEFAULTS.price, describe: 'Asking price in this worker\'s bids, an integer in units the network agrees on (0 = free); ingests prefer cheaper bids among similar ones' })
    .option('calibrate', { type: 'boolean', default: NODE_DEFAULTS.calibrate, describe: 'Measure this worker\'s transcode speed at start (cached in the data dir); --no-calibrate bids with a built-in estimate' })
    .option('playlist-window', { type: 'number', default: NODE_DEFAULTS['playlist-window'], describe: 'Segments in each live media playlist (edge role)' })
    .option('bid-window-ms', { type: 'number', default: NODE_DEFAULTS['bid-window-ms'], describe: 'How long an ingest collects bids for a job' })
    .option('max-queue-seconds', { type: 'number', default: NODE_DEFAULTS['max-queue-seconds'], describe: 'How long an ingest keeps a job queued while every worker is busy before passing its source through' })
    .option('spot-check-rate', { type: 'number', default: NODE_DEFAULTS['spot-check-rate'], describe: 'Share of jobs (0-1) an ingest re-runs on a second worker and compares against the source (PSNR) to catch cheating workers' })
    .option('probation-jobs', { type: 'number', default: NODE_DEFAULTS['probation-jobs'], describe: 'Verified jobs a worker must do for an ingest before its output is served without first comparing it with the source (0: no probation)' })
    .option('max-upload-mb', { type: 'number', default: NODE_DEFAULTS['max-upload-mb'], describe: 'Largest video file POST /api/uploads accepts, in MiB (bigger: 413)' })
    .option('api-token', { type: 'string', describe: 'Bearer token the mutating HTTP API (POST/DELETE under /api) requires; default: generated on first start and stored in <data-dir>/api-token' })
    .option('max-rung-size', { type: 'string', default: NODE_DEFAULTS['max-rung-size'], describe: 'Largest rendition this worker makes, WIDTHxHEIGHT; jobs asking for more (or for more than their source) get no bid' })
    .option('dvr-retention-seconds', { type: 'number', default: NODE_DEFAULTS['dvr-retention-seconds'], describe: 'How long an ended stream stays playable as VOD (its playlist has EXT-X-ENDLIST) before the ingest and edges remove it' })
    .option('stale-stream-seconds', { type: 'number', default: NODE_DEFAULTS['stale-stream-seconds'], describe: 'A stream with no segment and no heartbeat (POST /api/streams/:id/heartbeat) for this long is ended' })
    .option('viewer-window-seconds', { type: 'number', default: NODE_DEFAULTS['viewer-window-seconds'], describe: 'A player counts as a viewer of an edge while it fetched the stream\'s HLS or DASH within this many seconds (edge role; the count is shared with the network)' })
    .option('edge-cache-mb', { type: 'number', default: NODE_DEFAULTS['edge-cache-mb'], describe: 'Memory for hot segments on an edge (MiB); the rest stay on disk' })
    .option('webhook', { type: 'string', array: true, default: NODE_DEFAULTS.webhook, describe: 'URL that receives stream events as signed JSON POSTs (repeatable)' })
    .option('webhook-secret', { type: 'string', default: NODE_DEFAULTS['webhook-secret'], describe: 'HMAC-SHA256 key for the X-DistStream-Signature header of webhooks (also DISTSTREAM_WEBHOOK_SECRET)' })
    .option('webhook-events', { type: 'string', default: NODE_DEFAULTS['webhook-events'], describe: 'Comma list of webhook events to send: stream.started, stream.ended, segment.ready (opt-in), vod.ready' })
    .option('allow-file-source', { type: 'string', default: NODE_DEFAULTS['allow-file-source'], describe: 'Directory that file sources (source_url file:///... or /path) may come from (symlinks followed); empty: file sources are refused' })
    .option('allow-private-sources', { type: 'boolean', default: NODE_DEFAULTS['allow-private-sources'], describe: 'Let source_url reach hosts on loopback, private (192.168.x.x, 10.x...) and link-local addresses, e.g. an IP camera on your LAN; cloud metadata addresses stay refused' })
    .option('archive', { type: 'string', describe: 'Archive segments and stream indexes to object storage as they complete: s3://bucket/prefix (region, credentials and endpoint the AWS SDK way: AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_ENDPOINT_URL_S3)' })
    .option('mdns', { type: 'boolean', default: NODE_DEFAULTS.mdns, describe: 'Find peers on the local network with mDNS (multicast DNS)' })
    .option('allow-private-addrs', { type: 'boolean', describe: 'Dial loopback, private and link-local addresses learned from peers, and let many nodes connect from loopback (a local or LAN network). Default: on when every listen and bootstrap address is private (or with --mdns, and for dev), off otherwise' })
    .option('behind-nat', { type: 'boolean', default: NODE_DEFAULTS['behind-nat'], describe: 'This node is behind a NAT (a home router) and cannot take inbound connections: hold a relay reservation on a bootstrap node so peers can reach it; connections are then made direct by hole punching (DCUtR)' })
    .option('container', { type: 'string', default: NODE_DEFAULTS.container, choices: ['cmaf', 'ts'], describe: 'Rendition container of new streams (ingest role): cmaf = fragmented MP4 served as HLS v7 (EXT-X-MAP) and DASH (/live/<id>/manifest.mpd); ts = MPEG-TS HLS for old players (no DASH). Kept per stream across restarts' })
    .option('session-ttl-seconds', { type: 'number', default: NODE_DEFAULTS['session-ttl-seconds'], describe: 'How long a broadcaster\'s login (POST /api/sessions, ingest role) lasts before logging in again' })
    .option('log-level', { type: 'string', default: NODE_DEFAULTS['log-level'], choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'], describe: 'Log level' })
    .option('log-format', { type: 'string', choices: LOG_FORMATS, describe: 'Log lines: json (one object per line, for machines) or pretty (one readable line per event); default pretty on a terminal, json when piped' })
    .option('ready-file', { type: 'string', describe: 'Once the node serves, write its peer id, HTTP URL, RTMP port and multiaddrs to this JSON file (removed at stop)' })
    .option('config', { type: 'string', config: true, describe: 'JSON file with any of these options (camelCase or kebab-case keys)' })
    .env('DISTSTREAM')
}

/** Default --max-jobs: up to 2 transcodes on the CPU (x264 uses every core), 4 on a hardware encoder. */
export function defaultMaxJobs (gpu: boolean): number {
  return gpu ? 4 : Math.max(1, Math.min(2, availableParallelism()))
}

type Raw = Record<string, unknown>

function list (v: unknown): string[] {
  const items = Array.isArray(v) ? v : v == null ? [] : [v]
  return items.flatMap(x => String(x).split(/[\s,]+/)).filter(s => s !== '')
}

function int (raw: Raw, name: string, min: number, max: number): number {
  const v = Number(raw[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`--${name} must be an integer from ${min} to ${max}, got ${String(raw[name])}`)
  return v
}

function rate (raw: Raw, name: string): number {
  const v = Number(raw[name])
  if (!(v >= 0 && v <= 1)) throw new ConfigError(`--${name} must be a number from 0 to 1, got ${String(raw[name])}`)
  return v
}

function size (raw: Raw, name: string): { width: number, height: number } {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(String(raw[name]).trim())
  const width = Number(m?.[1])
  const height = Number(m?.[2])
  if (m == null || width < 16 || height < 16 || width > 8192 || height > 8192) throw new ConfigError(`--${name} takes WIDTHxHEIGHT with sides from 16 to 8192, got ${String(raw[name])}`)
  return { width, height }
}

function apiToken (v: unknown): string | undefined {
  if (v == null || v === '') return undefined
  const s = String(v)
  if (!API_TOKEN_PATTERN.test(s)) throw new ConfigError('--api-token must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -')
  return s
}

function logFormat (v: unknown): LogFormat | undefined {
  if (v == null || v === '') return undefined
  if (!(LOG_FORMATS as readonly unknown[]).includes(v)) throw new ConfigError(`--log-format takes ${LOG_FORMATS.join(' or ')}; got ${String(v)}`)
  return v as LogFormat
}

/** Turns parsed options into a checked, typed config. */
export function toConfig (raw: Raw): NodeConfig {
  const roles = list(raw.role)
  const bad = roles.filter(r => !(ROLES as readonly string[]).includes(r))
  if (roles.length === 0 || bad.length > 0) throw new ConfigError(`--role takes a comma list of ${ROLES.join(', ')}; got ${String(raw.role)}`)
  const bootstrap = list(raw.bootstrap)
  for (const b of bootstrap) {
    if (!/\/p2p\/[A-Za-z0-9]+$/.test(b)) throw new ConfigError(`--bootstrap ${b} must end in /p2p/<peer-id>`)
  }
  const lowLatency = raw['low-latency'] === true || raw['low-latency'] === 'true'
  const seg = Number(raw['segment-seconds'] ?? (lowLatency ? 1 : 2))
  if (!(seg >= 1 && seg <= 10)) throw new ConfigError(`--segment-seconds must be from 1 to 10, got ${String(raw['segment-seconds'])}`)
  let ladder: RungSpec[]
  try {
    ladder = parseLadder(String(raw.ladder))
  } catch (err: any) {
    throw new ConfigError(`--ladder: ${err.message}`)
  }
  if (raw.container != null && raw.container !== 'cmaf' && raw.container !== 'ts') throw new ConfigError(`--container takes cmaf or ts; got ${String(raw.container)}`)
  const webhooks = list(raw.webhook)
  for (const u of webhooks) {
    let url: URL | undefined
    try { url = new URL(u) } catch { /* not a URL: refused just below */ }
    if (url == null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(`--webhook ${u} must be an http(s) URL`)
  }
  const webhookEvents = list(raw['webhook-events'])
  const badEvents = webhookEvents.filter(e => !(WEBHOOK_EVENTS as readonly string[]).includes(e))
  if (badEvents.length > 0) throw new ConfigError(`--webhook-events takes a comma list of ${WEBHOOK_EVENTS.join(', ')}; got ${badEvents.join(', ')}`)
  return {
    roles: [...new Set(roles)] as Role[],
    dataDir: resolve(String(raw['data-dir'])),
    listen: list(raw.listen),
    bootstrap,
    httpPort: int(raw, 'http-port', 0, 65535),
    httpHost: String(raw['http-host']),
    rtmpPort: int(raw, 'rtmp-port', 0, 65535),
    srtPort: int(raw, 'srt-port', 0, 65535),
    ...srtPassphraseOf(raw['srt-passphrase']),
    gpu: raw.gpu === true || raw.gpu === 'true',
    segmentSeconds: seg,
    ladder,
    maxJobs: raw['max-jobs'] == null ? defaultMaxJobs(false) : int(raw, 'max-jobs', 1, 64),
    maxJobsSet: raw['max-jobs'] != null,
    price: int(raw, 'price', 0, Number.MAX_SAFE_INTEGER),
    calibrate: raw.calibrate !== false && raw.calibrate !== 'false',
    playlistWindow: int(raw, 'playlist-window', 3, 10_000),
    bidWindowMs: int(raw, 'bid-window-ms', 10, 10_000),
    maxQueueSeconds: int(raw, 'max-queue-seconds', 0, 3600),
    spotCheckRate: rate(raw, 'spot-check-rate'),
    probationJobs: int(raw, 'probation-jobs', 0, 1_000_000),
    apiToken: apiToken(raw['api-token']),
    maxRungSize: size(raw, 'max-rung-size'),
    logLevel: String(raw['log-level']),
    logFormat: logFormat(raw['log-format']),
    readyFile: raw['ready-file'] == null || raw['ready-file'] === '' ? undefined : resolve(String(raw['ready-file'])),
    dvrRetentionSeconds: int(raw, 'dvr-retention-seconds', 1, 30 * 86_400),
    staleStreamSeconds: int(raw, 'stale-stream-seconds', 1, 30 * 86_400),
    sessionTtlSeconds: int(raw, 'session-ttl-seconds', 1, MAX_SESSION_TTL_SECONDS),
    edgeCacheMb: int(raw, 'edge-cache-mb', 1, 1_048_576),
    viewerWindowSeconds: int(raw, 'viewer-window-seconds', 1, 3600),
    webhooks,
    webhookSecret: String(raw['webhook-secret'] ?? ''),
    webhookEvents,
    maxUploadMb: int(raw, 'max-upload-mb', 1, 1_048_576),
    ...(raw['allow-file-source'] != null && raw['allow-file-source'] !== '' ? { allowFileSource: resolve(String(raw['allow-file-source'])) } : {}),
    allowPrivateSources: raw['allow-private-sources'] === true || raw['allow-private-sources'] === 'true',
    ...(raw.archive != null && raw.archive !== '' ? { archive: archiveUrl(String(raw.archive)) } : {}),
    mdns: raw.mdns === true || raw.mdns === 'true',
    allowPrivateAddrs: raw['allow-private-addrs'] == null ? undefined : raw['allow-private-addrs'] === true || raw['allow-private-addrs'] === 'true',
    behindNat: raw['behind-nat'] === true || raw['behind-nat'] === 'true',
    lowLatency,
    container: raw.container === 'ts' ? 'ts' : 'cmaf'
  }
}

/** Parses argv (without node and script) into a config; for tests and embedding. */
export async function parseConfig (argv: string[]): Promise<NodeConfig> {
  const raw = await nodeOptions(yargs(argv)).strict().parse()
  return toConfig(raw as Raw)
}

/** `--srt-passphrase`: SRT's own bounds (libsrt refuses a passphrase under 10 or over 79 characters). */
function srtPassphraseOf (v: unknown): { srtPassphrase?: string } {
  if (v == null || v === '') return {}
  const s = String(v)
  if (s.length < 10 || s.length > 79) throw new ConfigError('--srt-passphrase must be 10 to 79 characters (SRT\'s bounds)')
  return { srtPassphrase: s }
}

/** `--archive`: an `s3://bucket/prefix` URL, or a ConfigError saying why not. */
function archiveUrl (raw: string): string {
  try { parseArchiveUrl(raw) } catch (err) { throw new ConfigError((err as Error).message) }
  return raw
}
