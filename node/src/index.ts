/**
 * @packageDocumentation
 *
 * `diststream-node`: one binary for every role of the DistStream network.
 * {@link createNode} composes the roles asked for on one libp2p node and one
 * HTTP server; `bin.ts` is the command line around it.
 *
 * @example
 * ```ts
 * import { createNode, parseConfig } from 'diststream-node'
 * const node = await createNode(await parseConfig(['--role', 'edge', '--http-port', '0']))
 * console.log(node.httpUrl)
 * await node.stop()
 * ```
 */
export * from './config.js'
export * from './node.js'
