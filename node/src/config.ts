import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { ROLES } from '@diststream/protocol'
import { parseLadder } from '@diststream/media'
import yargs from 'yargs'
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
  gpu: boolean
  segmentSeconds: number
  ladder: RungSpec[]
  maxJobs: number
  playlistWindow: number
  bidWindowMs: number
  maxQueueSeconds: number
  logLevel: string
  /** Find peers on the LAN with mDNS. */
  mdns: boolean
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
    .option('role', { type: 'string', default: 'ingest,worker,edge', describe: `Comma list of roles: ${ROLES.join(', ')}` })
    .option('data-dir', { type: 'string', default: './.diststream', describe: 'Level database, peer key (the peer id survives restarts) and segment store' })
    .option('listen', { type: 'string', array: true, default: ['/ip4/0.0.0.0/tcp/4001'], describe: 'libp2p listen multiaddr (repeatable)' })
    .option('bootstrap', { type: 'string', array: true, default: [] as string[], describe: 'Bootstrap multiaddr ending in /p2p/<peer-id> (repeatable)' })
    .option('http-port', { type: 'number', default: 8080, describe: 'HTTP port for the API, HLS and dashboard (0 picks a free one)' })
    .option('http-host', { type: 'string', default: '0.0.0.0', describe: 'HTTP bind address' })
    .option('rtmp-port', { type: 'number', default: 1935, describe: 'RTMP port broadcasters publish to (ingest role; 0 picks a free one)' })
    .option('gpu', { type: 'boolean', default: false, describe: 'Use a hardware encoder if ffmpeg has one that works; otherwise say so and use the CPU' })
    .option('segment-seconds', { type: 'number', default: 2, describe: 'Target segment length; segments start on keyframes, so a longer GOP gives longer segments' })
    .option('ladder', { type: 'string', default: '720p,480p,360p', describe: 'ABR ladder: any of 1080p, 720p, 480p, 360p, 240p; rungs above the source are skipped' })
    .option('max-jobs', { type: 'number', default: Math.max(1, Math.min(2, availableParallelism())), describe: 'Concurrent transcodes this worker accepts' })
    .option('playlist-window', { type: 'number', default: 6, describe: 'Segments in each live media playlist (edge role)' })
    .option('bid-window-ms', { type: 'number', default: 150, describe: 'How long an ingest collects bids for a job' })
    .option('max-queue-seconds', { type: 'number', default: 20, describe: 'How long an ingest keeps a job queued while every worker is busy before passing its source through' })
    .option('mdns', { type: 'boolean', default: false, describe: 'Find peers on the local network with mDNS (multicast DNS)' })
    .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'], describe: 'Log level' })
    .option('config', { type: 'string', config: true, describe: 'JSON file with any of these options (camelCase or kebab-case keys)' })
    .env('DISTSTREAM')
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

/** Turns parsed options into a checked, typed config. */
export function toConfig (raw: Raw): NodeConfig {
  const roles = list(raw.role)
  const bad = roles.filter(r => !(ROLES as readonly string[]).includes(r))
  if (roles.length === 0 || bad.length > 0) throw new ConfigError(`--role takes a comma list of ${ROLES.join(', ')}; got ${String(raw.role)}`)
  const bootstrap = list(raw.bootstrap)
  for (const b of bootstrap) {
    if (!/\/p2p\/[A-Za-z0-9]+$/.test(b)) throw new ConfigError(`--bootstrap ${b} must end in /p2p/<peer-id>`)
  }
  const seg = Number(raw['segment-seconds'])
  if (!(seg >= 1 && seg <= 10)) throw new ConfigError(`--segment-seconds must be from 1 to 10, got ${String(raw['segment-seconds'])}`)
  let ladder: RungSpec[]
  try {
    ladder = parseLadder(String(raw.ladder))
  } catch (err: any) {
    throw new ConfigError(`--ladder: ${err.message}`)
  }
  return {
    roles: [...new Set(roles)] as Role[],
    dataDir: resolve(String(raw['data-dir'])),
    listen: list(raw.listen),
    bootstrap,
    httpPort: int(raw, 'http-port', 0, 65535),
    httpHost: String(raw['http-host']),
    rtmpPort: int(raw, 'rtmp-port', 0, 65535),
    gpu: raw.gpu === true || raw.gpu === 'true',
    segmentSeconds: seg,
    ladder,
    maxJobs: int(raw, 'max-jobs', 1, 64),
    playlistWindow: int(raw, 'playlist-window', 3, 10_000),
    bidWindowMs: int(raw, 'bid-window-ms', 10, 10_000),
    maxQueueSeconds: int(raw, 'max-queue-seconds', 0, 3600),
    logLevel: String(raw['log-level']),
    mdns: raw.mdns === true || raw.mdns === 'true'
  }
}

/** Parses argv (without node and script) into a config; for tests and embedding. */
export async function parseConfig (argv: string[]): Promise<NodeConfig> {
  const raw = await nodeOptions(yargs(argv)).strict().parse()
  return toConfig(raw as Raw)
}
