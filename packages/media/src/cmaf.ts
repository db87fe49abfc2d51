import { readFile, rm } from 'node:fs/promises'
import { TranscodeError } from './errors.js'
import { cmafParts, joinCmaf, type CmafParts } from './mp4-boxes.js'
import { splitTracks } from './mp4-tracks.js'
import { TS_MUX_OFFSET_SEC } from './segmenter.js'
import { untrustedInputArgs } from './untrusted.js'
import { runProcess, tailLines } from './proc.js'
import { CMAF_OUTPUT_OPTIONS } from './transcode.js'

/** A rendition file in its stored CMAF form: canonical init, then the media segment. */
export interface StoredCmaf {
  /** The stored bytes (`init` + `media`). */
  bytes: Uint8Array;
  /** Length of the init prefix. */
  initSize: number;
  /** sha256 of the init prefix, hex. */
  initSha256: string;
  /** First fragment's decode time (`tfdt`) of the first track, its timescale (90 kHz for video). */
  firstDecodeTime?: number;
}

/**
 * Turns a self-contained fragmented MP4 (a worker's output, or {@link remuxToCmaf}'s) into its
 * stored form: `mfra` dropped, init canonical ({@link cmafParts}), so renditions of different
 * segments made by different workers share one init. Throws `Mp4BoxError` for anything that is
 * not a fragmented MP4.
 */
export function toStoredCmaf (data: Uint8Array): StoredCmaf {
  const parts: CmafParts = cmafParts(data)
  return {
    bytes: joinCmaf(parts),
    initSize: parts.init.byteLength,
    initSha256: parts.initSha256,
    ...(parts.firstDecodeTime !== undefined ? { firstDecodeTime: parts.firstDecodeTime } : {})
  }
}

/**
 * Remuxes one track of an MPEG-TS segment into the stored CMAF form (stream copy, timestamps
 * kept): the `source` (video) and `audio` renditions of a CMAF stream. ffmpeg writes `scratch` (removed again); the caller stores
 * the returned bytes.
 */
export async function remuxToCmaf (opts: {
  ffmpegPath: string;
  input: string;
  /** The CMAF track to take: the first video or the first audio stream (AAC, `aac_adtstoasc`). */
  track: 'video' | 'audio';
  scratch: string;
  signal?: AbortSignal;
}): Promise<StoredCmaf> {
  const tmp = opts.scratch
  const map = opts.track === 'video' ? ['-map', '0:v:0'] : ['-map', '0:a:0', '-bsf:a', 'aac_adtstoasc']
  const args = [
    // The broadcaster's bytes (as the segmenter cut them): container and protocols pinned, stream copy only.
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-copyts', ...untrustedInputArgs({ format: 'mpegts' }), '-i', opts.input,
    ...map, '-c', 'copy', '-muxdelay', '0', '-muxpreload', '0',
    ...CMAF_OUTPUT_OPTIONS, '-y', tmp
  ]
  try {
    const res = await runProcess(opts.ffmpegPath, args, opts.signal ? { signal: opts.signal } : {})
    if (res.code !== 0) throw new TranscodeError(`ffmpeg could not remux ${opts.input} to fMP4 (exit ${String(res.code)})`, tailLines(res.stderr))
    return toStoredCmaf(await readFile(tmp))
  } finally {
    await rm(tmp, { force: true })
  }
}

/**
 * The stored CMAF tracks of a segment the segmenter also wrote as a multi-track fMP4
 * ({@link SegmenterOptions.fmp4}): the `video` (source) and, if the input has one, the `audio`
 * track, each on the `.ts` segment's timeline. Reads `file` and removes it. Throws
 * `Mp4BoxError` for a file that is not such an fMP4.
 */
export async function storedTracks (file: string): Promise<{ video?: StoredCmaf, audio?: StoredCmaf }> {
  try {
    const tracks = splitTracks(await readFile(file), TS_MUX_OFFSET_SEC)
    const video = tracks.get('video')
    const audio = tracks.get('audio')
    // An audio-only source (radio) has no video track; a file with neither is not a segment.
    if (video == null && audio == null) throw new TranscodeError(`${file} has no video or audio track`, [])
    return { ...(video != null ? { video: toStoredCmaf(video) } : {}), ...(audio != null ? { audio: toStoredCmaf(audio) } : {}) }
  } finally {
    await rm(file, { force: true })
  }
}
