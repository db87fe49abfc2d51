/**
 * @packageDocumentation
 *
 * Persistent state of a DistStream node under its `--data-dir`: a versioned
 * level database (stream registry, segment index), the node's private key
 * (so its peer id survives restarts), and the on-disk segment store.
 *
 * @example
 * ```ts
 * import { openStore } from '@diststream/store'
 * const store = await openStore('./.diststream')
 * await store.streams.put({ id: 'abc', name: 'demo', key: 'k', createdAt: Date.now(), state: 'idle' })
 * await store.close()
 * ```
 */
export * from './errors.js'
export * from './keys.js'
export * from './db.js'
export * from './files.js'
