import { readFile, rename, writeFile } from 'node:fs/promises'
import type { UploadJob } from './backoff-queue.js'

/** The persisted queue's largest size read back (10,000 jobs of ~300 bytes). */
const MAX_QUEUE_FILE_BYTES = 8 * 1024 * 1024

/** The uploads not yet done, from `file` (none if it is missing, too big or not ours). */
export async function loadQueue (file: string): Promise<UploadJob[]> {
  let text: string
  try {
    const buf = await readFile(file)
    if (buf.length > MAX_QUEUE_FILE_BYTES) return []
    text = buf.toString('utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return []
    throw err
  }
  let data: unknown
  try { data = JSON.parse(text) } catch { return [] }
  if (!Array.isArray(data)) return []
  return data.filter((j): j is UploadJob => typeof j?.key === 'string' && typeof j?.file === 'string' && Number.isSafeInteger(j?.attempts))
}

/** Writes the queue to `file` atomically (a crash leaves the old or the new one). */
export async function saveQueue (file: string, jobs: UploadJob[]): Promise<void> {
  const tmp = `${file}.tmp`
  await writeFile(tmp, JSON.stringify(jobs))
  await rename(tmp, file)
}
