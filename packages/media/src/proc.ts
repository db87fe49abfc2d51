import { spawn, type ChildProcess } from 'node:child_process'

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let liveProcesses = 0

/** ffmpeg/ffprobe children of this process that are running now (process-wide, for the `diststream_ffmpeg_processes` gauge). */
export function liveFfmpegProcesses (): number {
  return liveProcesses
}

/** Counts `child` in {@link liveFfmpegProcesses} until it exits (or fails to spawn). Every ffmpeg spawn goes through this. */
export function trackProcess<T extends ChildProcess> (child: T): T {
  liveProcesses++
  let done = false
  const release = (): void => {
    if (done) return
    done = true
    liveProcesses--
  }
  child.once('exit', release)
  child.once('error', release)
  return child
}

/**
 * For processes started by fluent-ffmpeg (which hides the child): call the
 * returned `started()` on its `start` event and `ended()` on `end`/`error`.
 */
export function trackExternalProcess (): { started: () => void; ended: () => void } {
  let state: 'new' | 'running' | 'done' = 'new'
  return {
    started: () => {
      if (state !== 'new') return
      state = 'running'
      liveProcesses++
    },
    ended: () => {
      if (state === 'running') liveProcesses--
      state = 'done'
    }
  }
}

/** Keeps the last `max` lines pushed into it (for stderr tails). */
export class LineTail {
  private lines: string[] = []
  private partial = ''
  constructor (private readonly max = 20) {}
  push (chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/)
    this.partial = parts.pop() ?? ''
    for (const l of parts) if (l.trim() !== '') this.lines.push(l)
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max)
  }

  tail (): string[] {
    const out = this.partial.trim() !== '' ? [...this.lines, this.partial] : [...this.lines]
    return out.slice(-this.max)
  }
}

/** Kill `child` (SIGKILL) when `signal` aborts; returns a function that removes the listener. */
export function killOnAbort (child: ChildProcess, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {}
  const onAbort = (): void => {
    child.kill('SIGKILL')
  }
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  return () => signal.removeEventListener('abort', onAbort)
}

/** stderr kept per process by {@link runProcess}: this much of its head and up to twice this of its tail. */
export const MAX_STDERR_BYTES = 1 << 20

/**
 * Run a command to completion, collecting stdout and (the tail of) stderr.
 * Rejects on spawn failure or abort (with the signal's reason); a non-zero exit resolves.
 */
export function runProcess (
  cmd: string,
  args: string[],
  opts: { signal?: AbortSignal; maxStdoutBytes?: number } = {}
): Promise<RunResult> {
  const { signal, maxStdoutBytes = 256 * 1024 * 1024 } = opts
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted()
    const child = trackProcess(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
    const out: Buffer[] = []
    let outBytes = 0
    // stderr: its head (stream summaries) and tail (errors) only: a hostile input can make ffmpeg log without end.
    const head: Buffer[] = []
    let headBytes = 0
    let err: Buffer[] = []
    let errBytes = 0
    let dropped = false
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length
      if (outBytes <= maxStdoutBytes) out.push(b)
      else child.kill('SIGKILL')
    })
    child.stderr.on('data', (b: Buffer) => {
      if (headBytes < MAX_STDERR_BYTES) {
        head.push(b)
        headBytes += b.length
        return
      }
      err.push(b)
      errBytes += b.length
      if (errBytes > MAX_STDERR_BYTES * 2) {
        const tail = Buffer.concat(err).subarray(-MAX_STDERR_BYTES)
        err = [tail]
        errBytes = tail.length
        dropped = true
      }
    })
    const unlisten = killOnAbort(child, signal)
    child.on('error', (e) => {
      unlisten()
      reject(e)
    })
    child.on('close', (code, sig) => {
      unlisten()
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
        return
      }
      resolve({
        code,
        signal: sig,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat([...head, ...(dropped ? [Buffer.from('\n[...]\n')] : []), ...err]).toString('utf8')
      })
    })
  })
}

/** Last non-empty lines of a text blob. */
export function tailLines (text: string, n = 15): string[] {
  return text
    .split(/\r?\n|\r/)
    .filter((l) => l.trim() !== '')
    .slice(-n)
}
