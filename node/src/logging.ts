/**
 * The node's logger. `--log-format json` writes one JSON object per line (what
 * the tests and the cluster helper parse, and what log shippers want);
 * `pretty` writes one readable line per event for a person at a terminal.
 * Default: pretty on a TTY, JSON when stdout is piped.
 */
import { createRequire } from 'node:module'
import { pino } from 'pino'
import type { Logger } from 'pino'
import type PinoPretty from 'pino-pretty'

// pino-pretty (and its colour and date libraries) loads only for a person at a terminal: a
// node whose logs are piped never needs it, and every module loaded is resident memory.
const requireHere = createRequire(import.meta.url)

export const LOG_FORMATS = ['json', 'pretty'] as const
export type LogFormat = typeof LOG_FORMATS[number]

/** The format asked for, or by the terminal: pretty on a TTY, JSON when piped. */
export function logFormatOf (asked: LogFormat | undefined, isTTY: boolean): LogFormat {
  return asked ?? (isTTY ? 'pretty' : 'json')
}

/** A logger at `config.logLevel` in `config.logFormat` (or by the terminal), writing to stdout. */
export function createLogger (config: { logLevel: string, logFormat?: LogFormat }, out: NodeJS.WriteStream = process.stdout): Logger {
  const format = logFormatOf(config.logFormat, out.isTTY === true)
  if (format === 'json') return pino({ level: config.logLevel })
  const pretty = requireHere('pino-pretty') as typeof PinoPretty
  return pino({ level: config.logLevel }, pretty({
    destination: out,
    colorize: out.isTTY === true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}[{component}] {end}{msg}'
  }))
}

/** node-media-server's log levels, as its logger calls `log(message, level)`. */
type NmsLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/**
 * Sends node-media-server's own log lines (its banner, server start and stop,
 * per-session errors) through `logger` instead of raw `console.log` on stdout:
 * at debug, and its errors (a bad client, mostly) at warn. Its logger is a
 * process-wide singleton, reached through the ingest package that depends on
 * it; call before the ingest starts its RTMP server.
 */
export function routeNodeMediaServerLogs (logger: Logger): void {
  const fromIngest = createRequire(import.meta.resolve('@diststream/ingest'))
  const nms = fromIngest('node-media-server/src/core/logger.js') as { log: (message: string, level?: NmsLevel) => void }
  const log = logger.child({ component: 'rtmp-server' })
  nms.log = (message, level = 'info') => {
    if (level === 'error' || level === 'warn') log.warn(message)
    else log.debug(message)
  }
}
