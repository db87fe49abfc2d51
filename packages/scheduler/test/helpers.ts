import type { Bid } from '../src/index.js'

export function bid (peerId: string, extra: Partial<Bid> = {}): Bid {
  return {
    peerId,
    jobId: 'job-1',
    estimateMs: 1000,
    activeJobs: 0,
    maxJobs: 2,
    gpu: false,
    hwKind: 'cpu',
    price: 0,
    receivedAt: 0,
    ...extra
  }
}

/** A deterministic random sequence. */
export function sequence (...values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length] ?? 0
}
