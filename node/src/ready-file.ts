/**
 * `--ready-file <path>`: once the node serves, a JSON file saying where
 * (peer id, HTTP URL, RTMP port, multiaddrs, pid), for scripts and the test
 * cluster, instead of parsing a log line. Written whole (temp file, then
 * rename), removed when the node stops.
 */
import { rename, rm, writeFile } from 'node:fs/promises'

/** What the ready file holds. */
export interface ReadyInfo {
  peerId: string
  /** HTTP base URL. */
  http: string
  /** RTMP port (ingest role only). */
  rtmpPort?: number
  /** SRT port (ingest role only). */
  srtPort?: number
  multiaddrs: string[]
  pid: number
}

export async function writeReadyFile (path: string, info: ReadyInfo): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(info) + '\n', { mode: 0o600 })
  await rename(tmp, path)
}

export async function removeReadyFile (path: string): Promise<void> {
  await rm(path, { force: true })
}
