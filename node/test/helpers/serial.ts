/**
 * One exclusive multi-process test network at a time per checkout: the end-to-end
 * tests (e2e-live, dashboard) each load both cores with ffmpeg, and when the
 * test runner overlaps two of them, neither measures what it means to.
 * A lock directory (atomic mkdir) with the holder's pid; a dead holder's lock
 * is taken over; re-entrant within a process; bounded wait, then proceeds.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let held = 0
let acquiring: Promise<void> | undefined
let lockDir: string | undefined

function holderAlive (dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'))
    if (!Number.isSafeInteger(pid) || pid <= 0) return false
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but is not ours.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function take (dir: string, maxWaitMs: number): Promise<void> {
  const end = Date.now() + maxWaitMs
  for (;;) {
    try {
      mkdirSync(dir)
      writeFileSync(join(dir, 'pid'), String(process.pid))
      lockDir = dir
      process.once('exit', () => { if (lockDir != null) rmSync(lockDir, { recursive: true, force: true }) })
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    // A holder that died (or never wrote its pid) does not block us.
    if (!holderAlive(dir)) {
      await new Promise(resolve => setTimeout(resolve, 300))
      if (!holderAlive(dir)) rmSync(dir, { recursive: true, force: true })
      continue
    }
    if (Date.now() > end) {
      process.stderr.write(`cluster lock ${dir} still held after ${maxWaitMs} ms; going ahead\n`)
      return
    }
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

/** Waits (at most `maxWaitMs`) for this checkout's cluster lock; returns its release. Re-entrant within a process. */
export async function acquireClusterLock (key: string, maxWaitMs = 180_000): Promise<() => void> {
  const dir = join(tmpdir(), `diststream-cluster-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.lock`)
  held++
  if (held === 1) acquiring = take(dir, maxWaitMs)
  await acquiring
  let released = false
  return () => {
    if (released) return
    released = true
    held--
    if (held === 0 && lockDir != null) {
      rmSync(lockDir, { recursive: true, force: true })
      lockDir = undefined
    }
  }
}
