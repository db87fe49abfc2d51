import { chmod, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { StoreVersionError } from './errors.js'
import { SegmentFiles } from './files.js'

/** Bump when the on-disk layout changes incompatibly. */
export const STORE_VERSION = 1

/**
 * `idle`/`live`/`ended`: a live stream (RTMP publish or pulled `sourceUrl`);
 * `failed`: a pulled source or a VOD that could not be read (see `error`);
 * `processing` → `ready`: a VOD being transcoded, then complete.
 */
export type StreamState = 'idle' | 'live' | 'ended' | 'failed' | 'processing' | 'ready'

export interface RenditionRecord {
  name: string
  width: number
  height: number
  bandwidth: number
  codecs: string
  size: number
  sha256: string
  /** fMP4 (CMAF): the file's first `initSize` bytes are the canonical init segment, the rest the media segment. */
  initSize?: number
  /** fMP4: sha256 of the init bytes, hex. */
  initSha256?: string
}

export interface StreamRecord {
  id: string
  /**
   * The salt the id was derived with (hex, 16 bytes): `id = streamIdFor(ingest peer id, salt)`.
   * Absent in records from before self-certifying ids: such streams are not announced (PROTOCOL.md §9).
   */
  salt?: string
  name: string
  /** sha256 of the stream key (`hashStreamKey`); the key itself is never stored (security review M12). */
  keyHash: string
  /** The key in plaintext: only in records from before hashed keys; the ingest replaces it by `keyHash` at start. */
  key?: string
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
  /** A pulled stream: the URL (or file path) the ingest reads. */
  sourceUrl?: string
  /** A video on demand (a file cut and transcoded at once), not a live stream. */
  vod?: boolean
  /** Private: playback needs a token this ingest signs (`POST /api/streams/:id/tokens`); announced so every edge enforces it. */
  private?: boolean
  /** Rendition container (`--container`): fragmented MP4 (`cmaf`) or MPEG-TS (`ts`, also when absent: records from before the option). */
  container?: 'cmaf' | 'ts'
  /** Why the stream failed (state `failed`). */
  error?: string
  /** VOD progress: segments cut so far (final once cutting is over), segments finished. */
  progress?: { segments: number, done: number, cutDone: boolean }
}

export interface SegmentRecord {
  streamId: string
  seq: number
  durationMs: number
  pdtMs: number
  discontinuity: boolean
  renditions: RenditionRecord[]
  /** CMAF: the first video presentation time, 90 kHz (the DASH SegmentTimeline `t`). */
  mediaTime?: number
  /**
   * Cut and its source stored, but not yet transcoded and announced. A node
   * that restarts finishes these; they are never served in an index.
   */
  pending?: boolean
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

/**
 * ClassicLevel's `sync` put option. A sublevel forwards its options to the
 * ClassicLevel it lives in, but its type does not declare them.
 */
const syncIf = (sync: boolean): Record<string, never> => ({ sync } as unknown as Record<string, never>)

const seqKey = (streamId: string, seq: number): string => `${streamId}!${String(seq).padStart(12, '0')}`

/** Segment index: per stream, ordered by sequence number. */
export class SegmentTable {
  constructor (private readonly db: Sub<SegmentRecord>) {}
  /**
   * A final record (not pending) is written with `sync`: it is the commit that
   * says the segment's files (made durable by SegmentFiles) are complete, and
   * it must not be lost behind later writes (security review M7).
   */
  async put (rec: SegmentRecord): Promise<void> { await this.db.put(seqKey(rec.streamId, rec.seq), rec, syncIf(rec.pending !== true)) }
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

/** A JSON record per key (e.g. worker reputation by peer id). The caller validates what it reads back. */
export class RecordTable<V> {
  constructor (private readonly db: Sub<V>) {}
  async get (key: string): Promise<V | undefined> { return await this.db.get(key) as V | undefined }
  async put (key: string, value: V): Promise<void> { await this.db.put(key, value) }
  async delete (key: string): Promise<void> { await this.db.del(key) }
  /** Up to `limit` keys, in key order (e.g. to count records against a bound). */
  async keys (limit = Infinity): Promise<string[]> {
    const out: string[] = []
    for await (const k of this.db.keys({ limit: Number.isFinite(limit) ? limit : -1 })) out.push(k as string)
    return out
  }

  async values (limit = Infinity): Promise<V[]> {
    const out: V[] = []
    for await (const v of this.db.values({ limit: Number.isFinite(limit) ? limit : -1 })) out.push(v as V)
    return out
  }
}

/** A finished job as kept in the history (the scheduler's JobRecord, opaque here). */
export interface JobHistoryEntry { jobId: string, createdAt: number }

const jobKey = (e: JobHistoryEntry): string => `${String(Math.max(0, Math.floor(e.createdAt))).padStart(15, '0')}!${e.jobId}`

/** History of finished jobs, ordered by creation time, pruned to the newest `keep`. */
export class JobHistoryTable<V extends JobHistoryEntry = JobHistoryEntry> {
  private puts = 0
  constructor (private readonly db: Sub<V>, private readonly keep = 5000) {}

  async put (rec: V): Promise<void> {
    await this.db.put(jobKey(rec), rec)
    if (++this.puts % 100 === 0) await this.prune()
  }

  /** The newest `limit`, oldest first. */
  async recent (limit: number): Promise<V[]> {
    const out: V[] = []
    for await (const v of this.db.values({ reverse: true, limit })) out.push(v as V)
    return out.reverse()
  }

  async prune (): Promise<void> {
    let n = 0
    for await (const k of this.db.keys({ reverse: true })) {
      if (++n > this.keep) {
        await this.db.clear({ lte: k })
        break
      }
    }
  }
}

export interface Store {
  dataDir: string
  streams: StreamTable
  segments: SegmentTable
  /** Worker reputation, by peer id (ingest role). */
  workers: RecordTable<unknown>
  /** Finished jobs (ingest role). */
  jobs: JobHistoryTable
  /** Restream outputs by stream id (ingest role): each stream's list of output URLs. */
  outputs: RecordTable<unknown>
  /** Broadcaster accounts, by username (ingest role; node/src/accounts validates what it reads). */
  users: RecordTable<unknown>
  /** Login sessions, by the sha256 of their token (never the token itself). */
  sessions: RecordTable<unknown>
  /** Channels, by name. */
  channels: RecordTable<unknown>
  /** Who owns a stream (user and channel), by stream id. */
  streamOwners: RecordTable<unknown>
  files: SegmentFiles
  /** True while the database is open (for /readyz). */
  isOpen: () => boolean
  close: () => Promise<void>
}

/** The database directory's mode: its records include stream keys, so only the node's user may read them. */
export const DB_DIR_MODE = 0o700

/**
 * Opens (or creates) the store under `dataDir`. Refuses a database written
 * by an unknown format version instead of guessing.
 */
export async function openStore (dataDir: string): Promise<Store> {
  await mkdir(dataDir, { recursive: true })
  // The database holds stream keys (review M12): owner-only, also for a dir made by an older version.
  const dbDir = join(dataDir, 'db')
  await mkdir(dbDir, { recursive: true, mode: DB_DIR_MODE })
  await chmod(dbDir, DB_DIR_MODE)
  const db = new Level<string, unknown>(dbDir, { valueEncoding: 'json' })
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
    workers: new RecordTable(db.sublevel('workers', { valueEncoding: 'json' }) as unknown as Sub<unknown>),
    jobs: new JobHistoryTable(db.sublevel('jobs', { valueEncoding: 'json' }) as unknown as Sub<JobHistoryEntry>),
    outputs: new RecordTable(db.sublevel('outputs', { valueEncoding: 'json' }) as unknown as Sub<unknown>),
    users: new RecordTable(db.sublevel('users', { valueEncoding: 'json' }) as unknown as Sub<unknown>),
    sessions: new RecordTable(db.sublevel('sessions', { valueEncoding: 'json' }) as unknown as Sub<unknown>),
    channels: new RecordTable(db.sublevel('channels', { valueEncoding: 'json' }) as unknown as Sub<unknown>),
    streamOwners: new RecordTable(db.sublevel('stream-owners', { valueEncoding: 'json' }) as unknown as Sub<unknown>),
    files: new SegmentFiles(join(dataDir, 'segments')),
    isOpen: () => db.status === 'open',
    close: async () => { await db.close() }
  }
}
