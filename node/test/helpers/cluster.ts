import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { acquireClusterLock } from './serial.js'
import type { ChildProcess } from 'node:child_process'

const BIN = fileURLToPath(new URL('../../../bin/diststream-node.js', import.meta.url))
/** The node flags of the installed launcher's shebang (`#!/usr/bin/env -S node <flags>`). */
const NODE_FLAGS = (readFileSync(BIN, 'utf8').split('\n')[0]?.match(/node (.*)$/)?.[1] ?? '').split(' ').filter(Boolean)

export interface NodeInfo {
  peerId: string
  http: string
  rtmpPort?: number
  srtPort?: number
  multiaddrs: string[]
}

/** The file in a node's data dir its `--ready-file` points at. */
const READY_FILE = 'ready.json'

/** The node's ready file, or undefined while there is none (or it is being replaced). */
async function readReady (file: string): Promise<NodeInfo | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return undefined // not written yet
  }
  const j = JSON.parse(text)
  return { peerId: j.peerId, http: j.http, rtmpPort: j.rtmpPort, srtPort: j.srtPort, multiaddrs: j.multiaddrs }
}

/** How often a starting node's ready file is looked for. */
const READY_POLL_MS = 100

/** A `diststream-node` in its own process, on loopback, with its own data dir. */
export class NodeProcess {
  readonly logs: string[] = []
  /** Where the node is, from its `--ready-file` once it serves; rejects if it exits first. */
  readonly info: Promise<NodeInfo>
  private readonly exited: Promise<number | null>

  constructor (readonly name: string, readonly proc: ChildProcess, readonly dataDir: string, readonly args: string[] = [], readonly env: NodeJS.ProcessEnv = {}, readyFile = join(dataDir, READY_FILE)) {
    let exitCode: number | null | undefined
    this.exited = new Promise(resolve => proc.once('exit', (code) => { exitCode = code; resolve(code) }))
    this.info = (async () => {
      for (;;) {
        const info = await readReady(readyFile)
        if (info != null) return info
        if (exitCode !== undefined) throw new Error(`${name} exited with ${exitCode} before starting:\n${this.logs.slice(0, 5).join('\n')}\n...\n${this.tail()}`)
        await new Promise(resolve => setTimeout(resolve, READY_POLL_MS))
      }
    })()
    for (const s of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: s }).on('line', (line) => {
        this.logs.push(line)
        if (this.logs.length > 2000) this.logs.shift()
      })
    }
  }

  /** This node's dialable address for `--bootstrap`. */
  async bootstrapAddr (): Promise<string> {
    const i = await this.info
    const a = i.multiaddrs.find(m => m.startsWith('/ip4/127.0.0.1/tcp/'))
    if (a == null) throw new Error(`${this.name} has no loopback address: ${i.multiaddrs.join(' ')}`)
    return a.includes('/p2p/') ? a : `${a}/p2p/${i.peerId}`
  }

  tail (n = 40): string {
    return this.logs.slice(-n).map(l => `[${this.name}] ${l}`).join('\n')
  }

  async kill (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode != null || this.proc.signalCode != null) return
    this.proc.kill(signal)
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 8000)
    await this.exited
    clearTimeout(timer)
  }
}

/** Starts and owns the processes of one test network; `stop()` ends them all and removes their data. */
export class Cluster {
  readonly nodes: NodeProcess[] = []
  /** The API token every node of this cluster gets (DISTSTREAM_API_TOKEN; a test's env may override it). */
  readonly apiToken = randomBytes(24).toString('base64url')
  private root?: Promise<string>
  private lock?: Promise<() => void>

  /**
   * `exclusive`: this test network never runs at the same time as another
   * exclusive one of this checkout (for the ffmpeg-heavy end-to-end tests,
   * which the test runner would otherwise overlap on a 2-core machine).
   * `logLevel`: the nodes' --log-level (debug by default; info keeps big
   * networks' logging cheap).
   */
  constructor (readonly opts: { exclusive?: boolean, logLevel?: string } = {}) {}

  /** Starts a node; `netns`: inside that network namespace (`ip netns exec`, the NAT test's hosts). */
  async start (name: string, args: string[], env: NodeJS.ProcessEnv = {}, opts: { netns?: string } = {}): Promise<NodeProcess> {
    // An exclusive cluster waits for the other exclusive ones of this checkout (see serial.ts).
    if (this.opts.exclusive === true) await (this.lock ??= acquireClusterLock(BIN))
    // One promise, so nodes started concurrently share one temp dir.
    this.root ??= mkdtemp(join(tmpdir(), 'ds-cluster-'))
    const dataDir = join(await this.root, name)
    return await this.spawn(name, dataDir, args, env, opts.netns)
  }

  /**
   * Starts a node again with the same name, data dir (so the same peer id),
   * arguments and environment, after it exited (e.g. after `kill('SIGKILL')`).
   */
  async restart (node: NodeProcess, extraArgs: string[] = []): Promise<NodeProcess> {
    await node.kill('SIGKILL')
    return await this.spawn(node.name, node.dataDir, [...node.args, ...extraArgs], node.env)
  }

  /**
   * For a suite's `after(() => cluster.close(failed, dir))`: prints every
   * node's last log lines if a test failed, stops the nodes, removes `dirs`.
   */
  async close (failed: boolean, ...dirs: string[]): Promise<void> {
    if (failed) process.stderr.write(this.logs() + '\n')
    await this.stop()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }

  logs (): string {
    return this.nodes.map(n => n.tail(60)).join('\n')
  }

  async stop (): Promise<void> {
    await Promise.allSettled(this.nodes.map(async n => { await n.kill() }))
    if (this.root != null) await rm(await this.root, { recursive: true, force: true })
    if (this.lock != null) (await this.lock)()
    this.lock = undefined
  }

  private async spawn (name: string, dataDir: string, args: string[], env: NodeJS.ProcessEnv, netns?: string): Promise<NodeProcess> {
    // A killed node leaves its ready file behind: the new one must not be taken for ready before it is.
    const readyFile = join(dataDir, READY_FILE)
    await rm(readyFile, { force: true })
    const command = [process.execPath, ...NODE_FLAGS, BIN]
    // `ip netns exec` execs the node in the namespace: the pid, signals and pipes are the node's own.
    if (netns != null) command.unshift('ip', 'netns', 'exec', netns)
    const proc = spawn(command[0]!, [...command.slice(1), '--data-dir', dataDir, '--ready-file', readyFile, '--listen', '/ip4/127.0.0.1/tcp/0', '--http-host', '127.0.0.1', '--http-port', '0', '--rtmp-port', '0', '--srt-port', '0', '--log-level', this.opts.logLevel ?? 'debug', ...args], {
      env: { ...process.env, DISTSTREAM_API_TOKEN: this.apiToken, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const node = new NodeProcess(name, proc, dataDir, args, env, readyFile)
    this.nodes.push(node)
    await node.info
    return node
  }
}

export async function getJson<T = any> (url: string, init?: RequestInit): Promise<{ status: number, body: T }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) })
  const text = await res.text()
  let body: any = text
  try { body = JSON.parse(text) } catch { /* not JSON: the caller sees the text */ }
  return { status: res.status, body }
}

/** Calls the node's mutating API (POST/DELETE under /api) with `token`, sending `body` as JSON. */
export async function callApi<T = any> (url: string, method: 'POST' | 'DELETE' | 'PUT' | 'PATCH', token: string, body?: unknown): Promise<{ status: number, body: T }> {
  return await getJson<T>(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined
  })
}

export async function getText (url: string): Promise<{ status: number, text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) })
  return { status: res.status, text: await res.text() }
}

/** Polls `fn` until it returns a truthy value or `ms` pass; bounded, never hangs a test. */
export async function waitUntil<T> (fn: () => Promise<T | undefined | false | null>, ms: number, what: string, everyMs = 250): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  while (Date.now() < end) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last != null ? `: ${String(last)}` : ''}`)
}

/**
 * Waits until the node at `http` lists at least `want[role]` peers with each
 * role (its presence table, `GET /api/node`), e.g. `{ worker: 2, edge: 1 }`.
 */
export async function waitForRoles (http: string, want: Record<string, number>, ms = 20_000): Promise<void> {
  const what = Object.entries(want).map(([r, n]) => `${n} ${r}`).join(', ')
  await waitUntil(async () => {
    const { body } = await getJson(`${http}/api/node`)
    const roles: string[] = body.peers.flatMap((p: any) => p.roles)
    return Object.entries(want).every(([r, n]) => roles.filter(x => x === r).length >= n)
  }, ms, `the node to see ${what}`)
}
