import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FakeClock } from '@diststream/util'
import { UploadQueue } from '../src/backoff-queue.js'
import { loadQueue, saveQueue } from '../src/persist.js'
import { classifyS3Error } from '../src/s3.js'
import { parseArchiveUrl, segmentKey } from '../src/target.js'
import type { AttemptOutcome, UploadJob } from '../src/backoff-queue.js'

describe('archive: --archive s3://bucket/prefix', () => {
  it('parses bucket and prefix and builds keys', () => {
    assert.deepEqual(parseArchiveUrl('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b' })
    assert.deepEqual(parseArchiveUrl('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' })
    assert.equal(segmentKey({ bucket: 'b', prefix: 'p' }, 's1', '720p', 7, 'm4s'), 'p/s1/720p/7.m4s')
    assert.equal(segmentKey({ bucket: 'b', prefix: '' }, 's1', 'source', 0, 'ts'), 's1/source/0.ts')
  })

  it('refuses other schemes, bad bucket names and traversal in the prefix', () => {
    for (const bad of ['http://b/p', 's3://', 's3://UPPER/p', 's3://b/../x', 's3://ab', `s3://b/${'x'.repeat(600)}`]) assert.throws(() => parseArchiveUrl(bad), bad)
  })
})

describe('archive: S3 errors', () => {
  it('a wrong credential or permission is final; the rest is retried', () => {
    assert.equal(classifyS3Error(Object.assign(new Error('x'), { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } })).outcome, 'fatal')
    assert.equal(classifyS3Error(Object.assign(new Error('x'), { name: 'SignatureDoesNotMatch' })).outcome, 'fatal')
    assert.equal(classifyS3Error(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).outcome, 'retry')
    assert.equal(classifyS3Error(Object.assign(new Error('x'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } })).outcome, 'retry')
  })
})

describe('archive: the upload queue, with a fake clock', () => {
  const make = (clock: FakeClock, outcomes: Map<string, AttemptOutcome[]>, results: string[], maxPending = 4): { q: UploadQueue, calls: string[] } => {
    const calls: string[] = []
    const q = new UploadQueue({
      clock,
      maxPending,
      concurrency: 2,
      maxAttempts: 3,
      backoffMs: (n) => 1000 * 2 ** (n - 1),
      attempt: async (job: UploadJob) => { calls.push(job.key); return outcomes.get(job.key)?.shift() ?? 'ok' },
      onResult: (r, job) => { results.push(`${r}:${job.key}`) }
    })
    return { q, calls }
  }

  it('uploads in order, two at a time, and retries a failure after its backoff', async () => {
    const clock = new FakeClock()
    const results: string[] = []
    const { q, calls } = make(clock, new Map([['b', ['retry', 'retry']]]), results)
    q.enqueue('/f/a', 'a'); q.enqueue('/f/b', 'b'); q.enqueue('/f/c', 'c')
    await clock.advanceAsync(0)
    assert.deepEqual(calls, ['a', 'b', 'c'])
    assert.deepEqual(results, ['ok:a', 'ok:c'])
    await clock.advanceAsync(999)
    assert.equal(calls.length, 3, 'b waits 1 s')
    await clock.advanceAsync(1)
    assert.equal(calls.length, 4)
    await clock.advanceAsync(1999)
    assert.equal(calls.length, 4, 'then 2 s')
    await clock.advanceAsync(1)
    assert.deepEqual(results, ['ok:a', 'ok:c', 'ok:b'])
    assert.equal(q.size, 0)
  })

  it('gives up after maxAttempts; a fatal outcome (denied) at once; a full queue drops', async () => {
    const clock = new FakeClock()
    const results: string[] = []
    const { q } = make(clock, new Map([['x', ['retry', 'retry', 'retry']], ['d', ['fatal']]]), results, 2)
    q.enqueue('/f/x', 'x'); q.enqueue('/f/d', 'd')
    assert.equal(q.enqueue('/f/y', 'y'), false)
    await clock.advanceAsync(10_000)
    assert.deepEqual(results, ['dropped:y', 'denied:d', 'failed:x'])
    assert.equal(q.size, 0)
  })

  it('stop keeps what is pending (to persist), and the file round-trips', async () => {
    const clock = new FakeClock()
    const { q } = make(clock, new Map([['a', ['retry']]]), [])
    q.enqueue('/f/a', 'a')
    await clock.advanceAsync(0)
    q.stop()
    await clock.advanceAsync(60_000)
    assert.deepEqual(q.pending(), [{ key: 'a', file: '/f/a', attempts: 1 }])
    const dir = await mkdtemp(join(tmpdir(), 'ds-archive-'))
    try {
      await saveQueue(join(dir, 'q.json'), q.pending())
      assert.deepEqual(await loadQueue(join(dir, 'q.json')), [{ key: 'a', file: '/f/a', attempts: 1 }])
      await writeFile(join(dir, 'bad.json'), '{not json')
      assert.deepEqual(await loadQueue(join(dir, 'bad.json')), [])
      assert.deepEqual(await loadQueue(join(dir, 'missing.json')), [])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
