import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

const MAIN = fileURLToPath(new URL('./s3-server-main.js', import.meta.url))

/** The S3 server's one key pair (s3rver's). */
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }

export interface S3Server { port: number, endpoint: string, child: ChildProcess, kill: () => Promise<void> }

/** Starts the S3-API server (s3-server-main.ts) on loopback; `port` 0 picks one. */
export async function startS3Server (directory: string, bucket: string, port = 0): Promise<S3Server> {
  const child = spawn(process.execPath, [MAIN, String(port), directory, bucket], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>(resolve => child.once('close', () => { resolve() }))
  const bound = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the S3 server did not start within 15 s')) }, 15_000)
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (s: string) => {
      out += s
      const m = /ready (\d+)/.exec(out)
      if (m != null) { clearTimeout(timer); resolve(Number(m[1])) }
    })
    child.once('close', (code) => { clearTimeout(timer); reject(new Error(`the S3 server exited (${code ?? '?'}) before it was ready`)) })
  })
  return { port: bound, endpoint: `http://127.0.0.1:${bound}`, child, kill: async () => { child.kill('SIGKILL'); await exited } }
}
