/**
 * Archive to object storage (issue 16) against real processes: an ingest
 * node with `--archive s3://archive/live`, an ffmpeg test publish, and a
 * real S3-API server (s3rver) on loopback as a child process. Every stored
 * segment reaches the bucket byte for byte; the server killed mid-stream and
 * started again, the uploads complete; killed again with the node stopped,
 * the node's persisted queue resumes after its restart. A wrong access key
 * is refused, logged and counted, and the stream goes on.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, describe, it } from 'node:test'
import { createS3Client, getObject, QUEUE_FILE } from '@diststream/archive'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { S3_CREDENTIALS, startS3Server } from './helpers/s3-server.js'
import { createStream, ingestHoldings, metric } from './helpers/streams.js'
import type { S3Server } from './helpers/s3-server.js'
import type { Holdings } from './helpers/streams.js'

const BUCKET = 'archive'
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('archive to object storage', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let dir = ''
  let s3: S3Server | undefined
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    await s3?.kill()
    await cluster.close(failed, dir)
  })

  it('uploads every segment, survives the server going away, resumes after a node restart; a wrong key is refused', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ds-archive-e2e-'))
    const s3dir = join(dir, 's3')
    s3 = await startS3Server(s3dir, BUCKET)
    const port = s3.port
    const env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1', ...S3_CREDENTIALS }
    Object.assign(process.env, env)
    const client = createS3Client()
    const target = { bucket: BUCKET, prefix: 'live' }

    let ingest = await cluster.start('ingest', ['--role', 'ingest', '--segment-seconds', '1', '--archive', `s3://${BUCKET}/live`], env)
    let { http, rtmpPort } = await ingest.info
    const stream = await createStream(http, 'archived', cluster.apiToken)
    const uploads = async (result: string): Promise<number> => metric((await getText(`${http}/metrics`)).text, 'diststream_archive_uploads_total', `result="${result}"`)
    const lastSeq = async (): Promise<number> => (await getJson(`${http}/api/streams/${stream.id}`)).body.lastSeq ?? -1
    /** Which of the ingest's rendition segments are not (yet) in the bucket with the same bytes. */
    const notArchived = async (h: Holdings): Promise<string[]> => {
      const out: string[] = []
      for (const [r, segs] of h) {
        for (const [seq, hash] of segs) {
          const got = await getObject(client, target, `live/${stream.id}/${r}/${seq}.ts`).catch(() => undefined)
          if (got == null || sha(got) !== hash) out.push(`${r}/${seq}`)
        }
      }
      return out
    }

    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.key}`, width: 320, height: 180, fps: 15, gopSeconds: 1, durationSec: 60 })
    await waitUntil(async () => (await lastSeq()) >= 2 && (await uploads('ok')) >= 4, 30_000, 'first segments archived')

    // The S3 server dies mid-stream: uploads fail and are retried; the stream goes on.
    await s3.kill()
    const seqAtKill = await lastSeq()
    await waitUntil(async () => (await uploads('retry')) >= 1, 20_000, 'a failed upload retried')
    await waitUntil(async () => (await lastSeq()) >= seqAtKill + 2, 20_000, 'the stream going on without its archive')
    s3 = await startS3Server(s3dir, BUCKET, port)
    const okBefore = await uploads('ok')
    await waitUntil(async () => (await uploads('ok')) > okBefore + 2, 40_000, 'uploads completing once the server is back')

    // Down again; the publish ends and the node stops with uploads pending: they are persisted.
    await s3.kill()
    await source.stop()
    await waitUntil(async () => (await getJson(`${http}/api/streams/${stream.id}`)).body.state === 'idle', 20_000, 'the publish over')
    await ingest.kill() // SIGTERM: a clean stop saves the queue
    const queued = JSON.parse(await readFile(join(ingest.dataDir, QUEUE_FILE), 'utf8')) as Array<{ key: string }>
    assert.ok(queued.length >= 1, 'uploads pending at stop are persisted')
    assert.ok(queued.some(j => j.key === `live/${stream.id}/index.json`), 'the stream index too')

    s3 = await startS3Server(s3dir, BUCKET, port)
    ingest = await cluster.restart(ingest)
    ;({ http, rtmpPort } = await ingest.info)
    const holdings = await ingestHoldings(ingest.dataDir, stream.id)
    assert.ok([...holdings.values()].reduce((n, m) => n + m.size, 0) >= 8, 'enough segments to mean something')
    await waitUntil(async () => (await notArchived(holdings)).length === 0, 60_000, 'every segment in the bucket, byte for byte')
    assert.ok(ingest.logs.some(l => /"resumed":[1-9]\d*.*resuming archive uploads/.test(l)), 'the restarted node resumed the persisted queue')
    const index = await waitUntil(async () => await getObject(client, target, `live/${stream.id}/index.json`), 30_000, 'the stream index archived')
    const parsed = JSON.parse(Buffer.from(index).toString('utf8'))
    assert.equal(parsed.stream.id, stream.id)
    assert.equal(parsed.stream.keyHash, undefined, 'no key material in the bucket')
    assert.ok(parsed.segments.length >= 4)

    // A wrong access key: refused, logged, counted; the stream is unaffected.
    const bad = await cluster.start('bad-key', ['--role', 'ingest', '--segment-seconds', '1', '--archive', `s3://${BUCKET}/bad`], { ...env, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' })
    const badInfo = await bad.info
    const badStream = await createStream(badInfo.http, 'denied', cluster.apiToken)
    const badSource = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${badInfo.rtmpPort}/live/${badStream.key}`, width: 320, height: 180, fps: 15, gopSeconds: 1, durationSec: 30 })
    await waitUntil(async () => metric((await getText(`${badInfo.http}/metrics`)).text, 'diststream_archive_uploads_total', 'result="denied"') >= 1, 30_000, 'the upload denied')
    await waitUntil(async () => ((await getJson(`${badInfo.http}/api/streams/${badStream.id}`)).body.lastSeq ?? -1) >= 3, 20_000, 'the stream going on')
    assert.ok(!(metric((await getText(`${badInfo.http}/metrics`)).text, 'diststream_archive_uploads_total', 'result="ok"') > 0), 'nothing uploaded with a wrong key')
    assert.match(bad.tail(200), /archive upload refused: check the credentials/)
    assert.equal(await getObject(client, { bucket: BUCKET, prefix: 'bad' }, `bad/${badStream.id}/source/0.ts`), undefined)
    await badSource.stop()
  })
})
