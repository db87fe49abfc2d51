/**
 * Archive to object storage (issue 16) against real processes: an ingest
 * node with `--archive s3://archive/live`, an ffmpeg test publish, and a
 * real S3-API server (s3rver) on loopback as a child process. Every stored
 * segment reaches the bucket byte for byte; the server killed mid-stream and
 * started again, the uploads complete; killed again with the node stopped,
 * the node's persisted queue resumes after its restart. An edge with the
 * same `--archive` serves a VOD segment from the bucket once its ingest is
 * gone, checked against the INDEX's sha256. A wrong access key
 * is refused, logged and counted, and the stream goes on.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, describe, it } from 'node:test'
import { createS3Client, getObject, QUEUE_FILE } from '@diststream/archive'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { S3_CREDENTIALS, startS3Server } from './helpers/s3-server.js'
import { createStream, edgeSegmentHash, ingestHoldings, metric } from './helpers/streams.js'
import type { S3Server } from './helpers/s3-server.js'
import type { ArchiveTarget } from '@diststream/archive'
import type { Holdings } from './helpers/streams.js'

const BUCKET = 'archive'
const run = promisify(execFile)
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Which of the ingest's rendition segments are not (yet) in the bucket with the same bytes. */
async function missingInBucket (client: ReturnType<typeof createS3Client>, target: ArchiveTarget, streamId: string, h: Holdings): Promise<string[]> {
  const out: string[] = []
  for (const [r, segs] of h) {
    for (const [seq, hash] of segs) {
      const got = await getObject(client, target, `${target.prefix}/${streamId}/${r}/${seq}.ts`).catch(() => undefined)
      if (got == null || sha(got) !== hash) out.push(`${r}/${seq}`)
    }
  }
  return out
}

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
    const notArchived = async (h: Holdings): Promise<string[]> => await missingInBucket(client, target, stream.id, h)

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
    // The bucket plays by itself: a master and a VOD playlist per rendition listing every archived segment.
    const text = async (key: string): Promise<string> => Buffer.from(await waitUntil(async () => await getObject(client, target, key), 30_000, `${key} archived`)).toString('utf8')
    const master = await text(`live/${stream.id}/index.m3u8`)
    for (const [rendition, seqs] of holdings) {
      if (rendition !== 'audio') assert.ok(master.includes(`${rendition}/index.m3u8`), `the master lists ${rendition}`)
      const media = await text(`live/${stream.id}/${rendition}/index.m3u8`)
      assert.ok(media.trimEnd().endsWith('#EXT-X-ENDLIST'), `${rendition}: a VOD playlist`)
      const listed = media.split('\n').filter(l => /^\d+\.ts$/.test(l)).map(l => Number(l.slice(0, -3)))
      assert.deepEqual(listed, [...seqs.keys()].sort((a, b) => a - b), `${rendition}: every archived segment listed, in order`)
    }

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

  it('an edge with the same --archive serves a VOD segment from the bucket once no peer holds it, checked against the INDEX', async () => {
    assert.ok(s3 != null, 'runs after the first test (its S3 server)')
    const env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1', ...S3_CREDENTIALS }
    const client = createS3Client()
    const target = { bucket: BUCKET, prefix: 'vod' }
    const clip = join(dir, 'clip.mp4')
    await run(ffmpeg.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-keyint_min', '15', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip])
    const ingest = await cluster.start('vod-ingest', ['--role', 'ingest', '--segment-seconds', '1', '--archive', `s3://${BUCKET}/vod`], env)
    const { http } = await ingest.info
    const res = await getJson(`${http}/api/uploads?name=vod`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiToken}`, 'content-type': 'video/mp4' }, body: await readFile(clip) })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    const id = res.body.id as string
    await waitUntil(async () => (await getJson(`${http}/api/streams/${id}`)).body.state === 'ready', 60_000, 'the VOD ready')
    const holdings = await ingestHoldings(ingest.dataDir, id)
    await waitUntil(async () => (await missingInBucket(client, target, id, holdings)).length === 0, 60_000, 'the VOD in the bucket')

    // The edge loads the VOD's INDEX (hashes included) and fetches no segment until asked.
    const edge = await cluster.start('vod-edge', ['--role', 'edge', '--bootstrap', await ingest.bootstrapAddr(), '--archive', `s3://${BUCKET}/vod`], env)
    const edgeHttp = (await edge.info).http
    const [rendition, segs] = [...holdings].find(([r]) => r !== 'audio')!
    await waitUntil(async () => (await getText(`${edgeHttp}/live/${id}/${rendition}/index.m3u8`)).status === 200, 30_000, 'the edge rendering the VOD playlist')
    await ingest.kill('SIGKILL')
    const seq = Math.max(...segs.keys())
    assert.equal(await edgeSegmentHash(edgeHttp, id, rendition, seq), segs.get(seq), 'the archived bytes, served by the edge')
    assert.ok(metric((await getText(`${edgeHttp}/metrics`)).text, 'diststream_edge_fetches_total', 'outcome="archive"') >= 1, 'read from the archive')
  })
})
