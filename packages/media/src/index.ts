/**
 * `@diststream/media`: everything DistStream does with ffmpeg (no networking).
 *
 * Locate ffmpeg, cut a live input into MPEG-TS segments, probe them, transcode one segment into
 * a ladder of renditions that join seamlessly with the neighbours' renditions, verify the
 * output and measure the joins.
 *
 * @example
 * ```ts
 * import { resolveFfmpeg, parseLadder, ladderForSource, Segmenter, probeMedia, transcodeSegment } from '@diststream/media';
 *
 * const ff = resolveFfmpeg();
 * const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: 'rtmp://127.0.0.1:1935/live/key', outDir: '/tmp/seg', segmentSeconds: 2 });
 * seg.on('segment', async (s) => {
 *   const p = await probeMedia(s.path, { ffprobePath: ff.ffprobe, ffmpegPath: ff.ffmpeg });
 *   const ladder = ladderForSource(parseLadder('720p,480p,360p'), p.width, p.height);
 *   const { renditions } = await transcodeSegment({
 *     ffmpegPath: ff.ffmpeg, input: s.path, outDir: `/tmp/out/${s.index}`, ladder, fpsMilli: p.fpsMilli, durationSec: s.durationSec,
 *   });
 * });
 * seg.start();
 * ```
 *
 * @packageDocumentation
 */
export { FfmpegNotFoundError, LadderError, ProbeError, TranscodeError } from './errors.js'
export {
  bundledFfmpegPath,
  describeFfmpeg,
  ffmpegVersion,
  resolveFfmpeg,
  whichSync,
  type FfmpegPaths,
  type ResolvedFfmpeg
} from './ffmpeg-path.js'
export { RUNGS, ladderForSource, parseLadder, type RungSpec } from './ladder.js'
export {
  Segmenter,
  parseCsvListLine,
  TS_MUX_OFFSET_SEC,
  type MediaLogger,
  type SegmentInfo,
  type SegmenterEnd,
  type SegmenterEvents,
  type SegmenterOptions
} from './segmenter.js'
export { codecString, probeMedia, type ProbeOptions, type ProbeResult } from './probe.js'
export {
  DEFAULT_PRESET,
  CMAF_OUTPUT_OPTIONS,
  X264_BFRAMES,
  buildTranscodeCommand,
  gopFrames,
  transcodeSegment,
  warmUpFfmpeg,
  type Rendition,
  type TranscodeOptions,
  type TranscodeResult
} from './transcode.js'
export {
  HW_CANDIDATES,
  describeHwDetection,
  detectHwEncoder,
  framesOnDevice,
  hwFilterGraph,
  hwInputOptions,
  hwVideoOptions,
  oneFrameTestArgs,
  parseEncoderList,
  parseHwaccelList,
  type FilterSpec,
  type HwDetection,
  type HwEncoder,
  type HwEncoderSpec,
  type HwKind,
  type HwProbeReport
} from './hwaccel.js'
export { Transcoder, type TranscoderLogger } from './transcoder.js'
export { decodeRendition, verifyRendition, VERIFY_DECODE_RATE, type RenditionExpectation, type VerifyOptions, type VerifyResult } from './verify.js'
export { parseRendition, parseCmafRendition, parseTsRendition, RenditionParseError, type ParsedRendition } from './rendition-parse.js'
export { parseSps, profileName, SpsError, type Sps } from './h264-sps.js'
export * from './untrusted.js'
export { measureJoins, type Join, type JoinReport } from './joins.js'
export {
  hasWorkingDrawtext,
  startTestSource,
  testSourceArgs,
  type TestSource,
  type TestSourceOptions
} from './test-source.js'
export { parseTsVideoTimes, readTsVideoTimes, videoSpanSec, type TsVideoTimes } from './ts-pts.js'
export { comparePictures, measurePsnr, PICTURE_CHECK_HEIGHT, PICTURE_CHECK_WIDTH, type ComparePicturesOptions, type PictureInput, type PictureScore } from './psnr.js'
export { liveFfmpegProcesses, trackProcess } from './proc.js'
export {
  MAX_INIT_BYTES,
  Mp4BoxError,
  canonicalizeInit,
  cmafParts,
  joinCmaf,
  listBoxes,
  splitFragmentedMp4,
  type CmafParts,
  type Mp4Box,
  type Mp4Split
} from './mp4-boxes.js'
export { remuxToCmaf, storedTracks, toStoredCmaf, type StoredCmaf } from './cmaf.js'
export { splitTracks, type TrackKind } from './mp4-tracks.js'
export {
  MAX_MAX_SEGMENT_SECONDS,
  MAX_SEGMENT_DURATION_FACTOR,
  MAX_SOURCE_SEGMENT_BYTES,
  MIN_MAX_SEGMENT_SECONDS,
  OpenSegmentWatch,
  SEGMENT_WATCH_INTERVAL_MS,
  checkSegment,
  segmentLimits,
  type SegmentLimits,
  type SegmentRefusal,
  type SegmentRefusalWhy
} from './segment-limits.js'
export { makeThumbnail, thumbnailArgs, ThumbnailError, THUMBNAIL_WIDTH, MAX_THUMBNAIL_BYTES, THUMBNAIL_TIMEOUT_MS, type ThumbnailOptions } from './thumbnail.js'
