/**
 * @packageDocumentation
 *
 * The edge role: keeps a directory of the network's streams (from the
 * streams topic), and when a viewer asks for a stream it does not follow
 * yet, subscribes to that stream's topic, pulls the recent index from the
 * ingest, fetches every rendition of every segment over libp2p (checking its
 * hash), caches them (memory with a byte bound, then disk) and renders HLS.
 *
 * @example
 * ```ts
 * const edge = new Edge({ libp2p, gossip, dataDir, logger, registry })
 * await edge.start()
 * const master = await edge.masterPlaylist('abc123')
 * ```
 */
export * from './edge.js'
export * from './errors.js'
export * from './types.js'
export * from './constants.js'
export * from './metrics.js'
export * from './directory.js'
export * from './followed-stream.js'
export * from './dvr.js'
export * from './fetch-client.js'
export * from './rendition-fetcher.js'
export * from './holders.js'
export * from './blocking.js'
export * from './cache.js'
export * from './http.js'
export * from './single-flight.js'
export * from './swarm.js'
export * from './cmaf.js'
export * from './playback-auth.js'
export * from './thumbnail-pick.js'
