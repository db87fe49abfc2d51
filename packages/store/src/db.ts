import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { StoreVersionError } from './errors.js'
import { SegmentFiles } from './files.js'

/** Bump when the on-disk layout changes incompatibly. */
export const STORE_VERSION = 1

export type StreamState = 'idle' | 'live' | 'ended'

export interface RenditionRecord {
  name: string
  width: number
  height: number
  bandwidth: number
  codecs: string
  size: number
  sha256: string
}

export interface StreamRecord {
  id: string
  name: string
  key: string
  createdAt: number
  state: StreamState
  startedAt?: number
  endedAt?: number
  lastSeq?: number
  /** When the last segment was stored (ms): stale-stream detection. */
  lastSegmentAt?: number
  /** Last `POST /api/streams/:id/heartbeat` (ms): keeps a stream from being ended as stale. */
  heartbeatAt?: number
  /** Renditions the stream offers (without per-segment size/hash). */
  renditions?: RenditionRecord[]
  source?: { width: number, height: number, videoCodec: string, audioCodec: string | null, fpsMilli: number }
}

export interface SegmentRecord {
  streamId: string
  seq: number
  durationMs: number
  pdtMs: number
  discontinuity: boolean
  renditions: RenditionRecord[]
}

type Sub<V> = ReturnType<Level<string, unknown>['sublevel']> & { get: (k: string) => Promise<V | undefined> }

/** Stream registry backed by a level sublevel. */
export class StreamTable {
  constructor (private readonly db: Sub<StreamRecord>) {}
  async get (id: string): Promise<StreamRecord | undefined> { return await this.db.get(id) as StreamRecord | undefined }
  async put (rec: StreamRecord): Promise<void> { await this.db.put(rec.id, rec) }
  async delete (id: string): Promise<void> { await this.db.del(id) }
  async list (): Promise<StreamRecord[]> {
    const out: StreamRecord[] = []
    for await (const v of this.db.values()) out.push(v as StreamRecord)
    return out
  }
}

const seqKey = (streamId: string, seq: number): string => `${streamId}!${String(seq).padStart(12, '0')}`

/** Segment index: per stream, ordered by sequence number. */
export class SegmentTable {
  constructor (private readonly db: Sub<SegmentRecord>) {}
  async put (rec: SegmentRecord): Promise<void> { await this.db.put(seqKey(rec.streamId, rec.seq), rec) }
  async get (streamId: string, seq: number): Promise<SegmentRecord | undefined> {
    return await this.db.get(seqKey(streamId, seq)) as SegmentRecord | undefined
  }

  /** The last `limit` segments of a stream, oldest first. */
  async recent (streamId: string, limit: number): Promise<SegmentRecord[]> {
    const out: SegmentRecord[] = []
    for await (const v of this.db.values({ gt: `${streamId}!`, lt: `${streamId}!~`, reverse: true, limit })) {
      out.push(v as SegmentRecord)
    }
    return out.reverse()
  }

  async deleteStream (streamId: string): Promise<void> {
    await this.db.clear({ gt: `${streamId}!`, lt: `${streamId}!~` })
  }
}

export interface Store {
  dataDir: string
  streams: StreamTable
  segments: SegmentTable
  files: SegmentFiles
  /** True while the database is open (for /readyz). */
  isOpen: () => boolean
  close: () => Promise<void>
}

/**
 * Opens (or creates) the store under `dataDir`. Refuses a database written
 * by an unknown format version instead of guessing.
 */
export async function openStore (dataDir: string): Promise<Store> {
  await mkdir(dataDir, { recursive: true })
  const db = new Level<string, unknown>(join(dataDir, 'db'), { valueEncoding: 'json' })
  await db.open()
  const meta = db.sublevel<string, number>('meta', { valueEncoding: 'json' })
  const version = await meta.get('version')
  if (version === undefined) {
    await meta.put('version', STORE_VERSION)
  } else if (version !== STORE_VERSION) {
    await db.close()
    throw new StoreVersionError(`data dir ${dataDir} has store format version ${version}; this node understands ${STORE_VERSION}. Use another --data-dir or a matching diststream-node version.`)
  }
  const streams = new StreamTable(db.sublevel('streams', { valueEncoding: 'json' }) as unknown as Sub<StreamRecord>)
  const segments = new SegmentTable(db.sublevel('segments', { valueEncoding: 'json' }) as unknown as Sub<SegmentRecord>)
  return {
    dataDir,
    streams,
    segments,
    files: new SegmentFiles(join(dataDir, 'segments')),
    isOpen: () => db.status === 'open',
    close: async () => { await db.close() }
  }
}
