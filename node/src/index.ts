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
export { HttpError, httpStatusOf } from './http/errors.js'
export type { HttpContext } from './http/context.js'
export type * from './http/views.js'
export type { ReadyInfo } from './ready-file.js'
export { LOG_FORMATS } from './logging.js'
export type { LogFormat } from './logging.js'
