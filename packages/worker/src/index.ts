/**
 * @packageDocumentation
 *
 * The worker role: listens for job announcements, bids on the ones it has
 * room for (directly to the announcing ingest), and transcodes the segments
 * it wins: the ingest streams the segment in, one ffmpeg run makes every
 * rung, and the renditions stream back on the same libp2p stream.
 *
 * @example
 * ```ts
 * const worker = new Worker({ libp2p, gossip, ffmpeg, maxJobs: 2, workDir, logger, registry })
 * await worker.start()
 * ```
 */
export * from './worker.js'
export * from './estimator.js'
export * from './admission.js'
export * from './calibrate.js'
export * from './slots.js'
export * from './metrics.js'
export * from './input-check.js'
export * from './transfer.js'
