/**
 * @packageDocumentation
 *
 * The ingest role: accepts RTMP from broadcasters (node-media-server), cuts
 * each live stream into keyframe-aligned segments, announces every segment
 * as a job on gossipsub, collects bids for a short window, streams the
 * segment to the best bidder over libp2p, verifies the renditions it gets
 * back, stores them and announces the segment to edges. With no worker at
 * all the source still passes through as its own rendition.
 *
 * @example
 * ```ts
 * const ingest = new Ingest({ libp2p, gossip, presence, store, ffmpeg, ladder, segmentSeconds: 2, rtmpPort: 1935, logger, registry })
 * await ingest.start()
 * const stream = await ingest.createStream('my show')
 * ```
 */
export { Ingest } from './ingest.js'
export type { IngestInit, IngestContext, IngestMetrics } from './types.js'
export * from './errors.js'
export * from './constants.js'
export { fetchServeMetrics, createIngestMetrics } from './metrics.js'
export { isEndedForPlayers, lifecycleRecord, acceptsPublish, onRestart, goLive, toIdle, afterDelete, pullEnded, vodEnded, wireState, shouldReannounce, shouldReprovide, afterSegment } from './stream-state.js'
export * from './rtmp.js'
export * from './keys.js'
export { MAX_SOURCE_URL_LENGTH, SOURCE_SCHEMES, parseSourceUrl, checkPullSource, redactSourceUrl, redactSourceText } from './sources.js'
export type { PullSource } from './sources.js'
export { checkSourcePolicy, classifyAddress, protocolWhitelist, SourceRefusedError, SOURCE_RESOLVE_TIMEOUT_MS } from './source-policy.js'
export type { SourcePolicy, SourceRefusalWhy } from './source-policy.js'
export type { SessionEnd, SessionOptions } from './session/session.js'
export { SOURCE_TS, AUDIO_RENDITION, toWire } from './session/renditions.js'
export * from './upload-limit.js'
export { MAX_SRT_PUBLISHERS, SRT_IDLE_MS } from './srt/constants.js'
export { publishKeyOf, conclusionExtensions, parseHandshake, SRT_REJECT } from './srt/handshake.js'
export { checkKeyMaterial } from './srt/km.js'
export type { SrtRefusal } from './srt/relay.js'
export * from './whip/index.js'
export { Restreamer } from './restream/restreamer.js'
export type { OutputRecord, OutputView } from './restream/restreamer.js'
export { OutputRelay } from './restream/relay.js'
export type { RelayAttempt, RelayInit } from './restream/relay.js'
export * as outputState from './restream/output-state.js'
export type { OutputState, OutputStatus, BackoffPolicy } from './restream/output-state.js'
export { OUTPUT_SCHEMES, MAX_OUTPUT_URL_LENGTH, OutputUrlError, parseOutputUrl, redactOutputUrl, redactIn } from './restream/output-url.js'
