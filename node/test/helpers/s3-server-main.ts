/**
 * A real S3-API server on loopback for the archive test (s3rver, as a child
 * process so a test can kill it mid-upload and start it again on the same
 * port and directory). Args: <port> <directory> <bucket>. Prints
 * `ready <port>` once it listens. Its one key pair is S3RVER/S3RVER.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const S3rver = require('s3rver')
const [port, directory, bucket] = process.argv.slice(2)
const server = new S3rver({ address: '127.0.0.1', port: Number(port ?? 0), directory, silent: true, configureBuckets: [{ name: bucket ?? 'archive' }] })
const { port: bound } = await server.run()
process.stdout.write(`ready ${bound as number}\n`)
process.on('SIGTERM', () => { void server.close().then(() => process.exit(0)) })
