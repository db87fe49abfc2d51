/**
 * @packageDocumentation
 *
 * Archive to object storage (`--archive s3://bucket/prefix`): segments
 * uploaded to S3 or any S3 API as they complete, from a bounded queue with
 * retries and backoff, persisted so a restarted node resumes; archived
 * segments read back for an edge whose peers no longer hold them.
 */
export { Archiver, ARCHIVE_LIMITS, QUEUE_FILE } from './archiver.js'
export type { ArchiverInit } from './archiver.js'
export { UploadQueue } from './backoff-queue.js'
export type { AttemptOutcome, QueueInit, UploadJob } from './backoff-queue.js'
export { ArchiveUrlError, parseArchiveUrl, renditionKey, segmentKey, streamKey } from './target.js'
export type { ArchiveTarget } from './target.js'
export { classifyS3Error, createS3Client, getObject, uploadFile, MAX_GET_BYTES, PART_SIZE } from './s3.js'
export { loadQueue, saveQueue } from './persist.js'
export { archivePlaylists, AUDIO_RENDITION } from './playlists.js'
export type { ArchivedRendition, ArchivedSegment, ArchivePlaylists } from './playlists.js'
