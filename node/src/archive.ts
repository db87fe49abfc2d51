import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { archivePlaylists, Archiver, parseArchiveUrl, renditionKey, streamKey } from '@diststream/archive'
import { MAX_INDEX_SEGMENTS } from '@diststream/protocol'
import type { StartedParts } from './lifecycle.js'
import type { Store } from '@diststream/store'
import type { WebhookEventData, WebhookEventType } from '@diststream/webhooks'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** What the composition root feeds the archive: the ingest's stream events. */
export interface ArchiveHook {
  archiver: Archiver
  onEvent: <T extends WebhookEventType>(type: T, data: WebhookEventData[T]) => void
  /** An archived rendition segment (the stored `.ts` file's bytes), for the edge. */
  read: (streamId: string, rendition: string, seq: number, signal: AbortSignal) => Promise<Uint8Array | undefined>
}

/**
 * `--archive s3://bucket/prefix`: an {@link Archiver} started with the
 * node; an edge reads segments no peer delivers from it (`read`); an
 * ingest feeds it its events: each finished segment's rendition files
 * (`segment.ready`), and when a stream ends or a VOD is ready its index
 * (`<stream>/index.json`: the stream record and its segment records, sizes
 * and sha256 included, so an edge can check what it reads back) and its HLS
 * VOD playlists (`<stream>/index.m3u8`, `<stream>/<rendition>/index.m3u8`).
 */
export async function startArchive (archive: string, store: Store, logger: Logger, registry: Registry, parts: StartedParts): Promise<ArchiveHook> {
  const archiver = new Archiver({ target: parseArchiveUrl(archive), dataDir: store.dataDir, logger, registry })
  await parts.start('archive', { start: async () => { await archiver.start() }, stop: async () => { await archiver.stop() } })
  const staging = join(store.dataDir, 'archive')
  const writeIndex = async (streamId: string): Promise<void> => {
    const stream = await store.streams.get(streamId)
    if (stream == null) return
    const { key: _key, keyHash: _hash, salt: _salt, ...pub } = stream
    const segments = (await store.segments.recent(streamId, MAX_INDEX_SEGMENTS)).filter(s => s.pending !== true)
    await mkdir(staging, { recursive: true })
    const file = join(staging, `${streamId}-index.json`)
    await writeFile(file, JSON.stringify({ stream: pub, segments }))
    archiver.archiveFile(file, streamKey(archiver.target, streamId, 'index.json'))
    // HLS VOD playlists next to the segments, so the bucket plays by itself (playlists.ts).
    const { master, media } = archivePlaylists(segments)
    const masterFile = join(staging, `${streamId}-index.m3u8`)
    await writeFile(masterFile, master)
    archiver.archiveFile(masterFile, streamKey(archiver.target, streamId, 'index.m3u8'))
    for (const [rendition, text] of media) {
      const f = join(staging, `${streamId}-${rendition}-index.m3u8`)
      await writeFile(f, text)
      archiver.archiveFile(f, renditionKey(archiver.target, streamId, rendition, 'index.m3u8'))
    }
  }
  return {
    archiver,
    read: async (streamId, rendition, seq, signal) => await archiver.getSegment(streamId, rendition, seq, 'ts', signal),
    onEvent: (type, data) => {
      if (type === 'segment.ready') {
        const d = data as WebhookEventData['segment.ready']
        for (const r of d.renditions) archiver.archiveSegment(d.streamId, r.name, d.seq, store.files.path(d.streamId, r.name, d.seq))
      } else if (type === 'stream.ended' || type === 'vod.ready') {
        const id = (data as { streamId: string }).streamId
        writeIndex(id).catch(err => { logger.warn({ err, streamId: id }, 'could not archive the stream index') })
      }
    }
  }
}
