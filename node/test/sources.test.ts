/**
 * Ingest sources beyond RTMP, with real processes on loopback (an ingest, a
 * worker, an edge): a stream pulled from a file (`source_url`), a file
 * published as a VOD with `diststream-node publish --vod`, a file uploaded
 * with `POST /api/uploads` that becomes a VOD, a live `publish`, and the
 * refusals (bad source_url, oversized upload, no token, wrong type).
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg } from '@diststream/media'
import { assertContiguous, checkSegments, settledPlaylist } from './helpers/playback.js'
import { callApi, Cluster, getJson, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import type { NodeProcess } from './helpers/cluster.js'

const BIN = fileURLToPath(new URL('../../bin/diststream-node.js', import.meta.url))
const NODE_FLAGS = (readFileSync(BIN, 'utf8').split('\n')[0]?.match(/node (.*)$/)?.[1] ?? '').split(' ').filter(Boolean)
const SEGMENT_SECONDS = 2
const CLIP_SECONDS = 8
/** 8 s at a 2 s GOP: four segments. */
const CLIP_SEGMENTS = CLIP_SECONDS / SEGMENT_SECONDS
const R240: [number, number] = [426, 240]
const SOURCE: [number, number] = [640, 360]

/** Runs `diststream-node publish ...` to completion; the last stdout line is its JSON result. */
async function runPublish (args: string[]): Promise<{ code: number | null, result: any, stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'publish', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => { err += b.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      let result: any
      try { result = JSON.parse(out.trim().split('\n').pop() ?? '') } catch { /* no JSON line: asserted below */ }
      resolve({ code, result, stderr: err })
    })
  })
}

describe('ingest sources: pull, VOD publish, HTTP upload', { timeout: 420_000 }, () => {
  const cluster = new Cluster()
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let http: string
  let edgeHttp: string
  let work: string
  let clip: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-sources-'))
    clip = join(work, 'clip.mp4')
    // Tiny media: 640x360 test pattern + tone, 8 s, a keyframe every 2 s, about 300 KB.
    await promisify(execFile)(ffmpeg.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${SOURCE[0]}x${SOURCE[1]}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(CLIP_SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '250k', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', '-shortest', clip])
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '60']
    // Sources on loopback and files under `work` are pulled only because the operator allows them (review M4).
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--max-upload-mb', '1', '--spot-check-rate', '0', '--allow-private-sources', '--allow-file-source', work, ...common])
    const boot = await ingest.bootstrapAddr()
    await Promise.all([
      cluster.start('worker', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', boot, ...common]),
      cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common]).then(n => { edge = n })
    ])
    http = (await ingest.info).http
    edgeHttp = (await edge.info).http
    await waitForRoles(http, { worker: 1, edge: 1 })
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

  after(async () => { await cluster.close(failed, work) })

  /** The jobs of a stream the network transcoded (not passed through). */
  async function doneJobs (streamId: string): Promise<number> {
    const jobs = (await getJson(`${http}/api/jobs?limit=500`)).body as Array<{ streamId: string, state: string }>
    return jobs.filter(j => j.streamId === streamId && j.state === 'done').length
  }

  /** Checks a ready VOD at the edge: VOD playlists with every segment, every one decodes. */
  async function checkVod (id: string, segments: number): Promise<void> {
    for (const [rendition, size] of [['240p', R240], ['source', SOURCE]] as const) {
      // The edge hears `ready` by gossip, a moment after the ingest's API says so: 404 until then.
      const r = await waitUntil(async () => {
        const t = await getText(`${edgeHttp}/live/${id}/${rendition}/index.m3u8`)
        return t.status === 200 ? t : undefined
      }, 30_000, `the edge to serve the ${rendition} VOD playlist`, 500)
      assert.match(r.text, /^#EXT-X-PLAYLIST-TYPE:VOD$/m, `${rendition}: a VOD playlist`)
      assert.match(r.text, /#EXT-X-ENDLIST\n$/, `${rendition}: ended`)
      const p = parseMediaPlaylist(r.text)
      assert.equal(p.segments.length, segments, `${rendition}: every segment is listed`)
      assert.deepEqual(assertContiguous(p.segments, rendition), Array.from({ length: segments }, (_, i) => i))
      const { maxVideoGapMs } = await checkSegments({ edgeHttp, streamId: id, rendition, segments: p.segments, dir: work, ffmpeg, size })
      assert.ok(maxVideoGapMs <= 50, `${rendition}: joins ${maxVideoGapMs} ms`)
    }
  }

  it('refuses a bad source_url with 400, and a VOD without one', async () => {
    const bad = ['ftp://127.0.0.1/x.mp4', 'relative/clip.mp4', '/no/such/file.mp4', 'javascript:alert(1)', `http://127.0.0.1/${'a'.repeat(2100)}`, 'file://otherhost/x.mp4', work, 'http://', 'rtmp://127.0.0.1/live\nx']
    for (const sourceUrl of bad) {
      const r = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'bad', source_url: sourceUrl })
      assert.equal(r.status, 400, `${JSON.stringify(sourceUrl.slice(0, 60))}: ${JSON.stringify(r.body)}`)
      assert.match(String(r.body.error), /source_url/)
    }
    const noSource = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'vod', vod: true })
    assert.equal(noSource.status, 400)
    const list = (await getJson(`${http}/api/streams`)).body as Array<{ name: string }>
    assert.deepEqual(list.filter(s => s.name === 'bad' || s.name === 'vod'), [], 'nothing was created')
  })

  it('refuses forbidden sources with 400 and counts them: metadata address, files outside the directory, other schemes (M4)', async () => {
    const refusals = async (): Promise<Record<string, number>> => {
      const text = (await getText(`${http}/metrics`)).text
      return Object.fromEntries([...text.matchAll(/^diststream_ingest_sources_refused_total\{why="([a-z]+)"\} (\d+)/gm)].map(m => [m[1]!, Number(m[2])]))
    }
    await symlink('/etc/passwd', join(work, 'passwd.mp4'))
    const before = await refusals()
    const forbidden: Array<[string, string, RegExp]> = [
      ['http://169.254.169.254/latest/meta-data/', 'metadata', /cloud metadata/],
      ['http://[::ffff:169.254.169.254]/latest/meta-data/', 'metadata', /cloud metadata/],
      ['/etc/hostname', 'file', /outside the directory/],
      ['file:///etc/passwd', 'file', /outside the directory/],
      [join(work, 'passwd.mp4'), 'file', /outside the directory/],
      ['gopher://127.0.0.1/x', 'syntax', /not allowed/],
      ['concat:/etc/passwd|/etc/hostname', 'syntax', /not allowed/]
    ]
    for (const [sourceUrl, , message] of forbidden) {
      for (const vod of [false, true]) {
        const r = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'forbidden', source_url: sourceUrl, vod })
        assert.equal(r.status, 400, `${sourceUrl} (vod ${vod}): ${JSON.stringify(r.body)}`)
        assert.match(String(r.body.error), message, sourceUrl)
      }
    }
    const after = await refusals()
    for (const why of ['metadata', 'file', 'syntax']) {
      const want = 2 * forbidden.filter(f => f[1] === why).length
      assert.equal((after[why] ?? 0) - (before[why] ?? 0), want, `refusals counted as ${why}: ${JSON.stringify(after)}`)
    }
    const list = (await getJson(`${http}/api/streams`, { headers: { authorization: `Bearer ${cluster.apiToken}` } })).body as Array<{ name: string }>
    assert.deepEqual(list.filter(s => s.name === 'forbidden'), [], 'nothing was created')
  })

  it('pulls a stream from a file source and plays it from an edge, then ends it', async () => {
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'pulled', source_url: `file://${clip}` })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.equal(created.body.state, 'live')
    const id = created.body.id as string
    // Read at its native rate: live while it lasts, ended when the file is over.
    const ended = await waitUntil(async () => {
      const s = (await getJson(`${http}/api/streams/${id}`)).body
      return s.state !== 'live' ? s : undefined
    }, 90_000, 'the pulled stream to end')
    assert.equal(ended.state, 'ended', JSON.stringify(ended))
    const playlist = await settledPlaylist(edgeHttp, id, '240p', CLIP_SEGMENTS, 120_000, 1000)
    assert.ok(playlist.ended, 'the playlist is ended')
    assert.deepEqual(assertContiguous(playlist.segments, '240p'), [0, 1, 2, 3])
    await checkSegments({ edgeHttp, streamId: id, rendition: '240p', segments: playlist.segments, dir: work, ffmpeg, size: R240 })
    assert.ok(await doneJobs(id) > 0, 'segments were transcoded by the worker')
  })

  it('marks a pulled source ffmpeg cannot read as failed, with the reason', async () => {
    const junk = join(work, 'junk.mp4')
    await writeFile(junk, 'this is not a video file\n'.repeat(100))
    const created = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'junk', source_url: junk })
    assert.equal(created.status, 201)
    const s = await waitUntil(async () => {
      const b = (await getJson(`${http}/api/streams/${created.body.id as string}`)).body
      return b.state !== 'live' ? b : undefined
    }, 60_000, 'the junk source to fail')
    assert.equal(s.state, 'failed')
    assert.match(String(s.error), /cannot read the source: .*Invalid data/)

    // A network source that refuses: failed too, and its credentials never show in the public API.
    const rtsp = await callApi(`${http}/api/streams`, 'POST', cluster.apiToken, { name: 'cam', source_url: 'rtsp://user:s3cret@127.0.0.1:1/cam?token=t0ken' })
    assert.equal(rtsp.status, 201)
    const cam = await waitUntil(async () => {
      const b = (await getJson(`${http}/api/streams/${rtsp.body.id as string}`)).body
      return b.state !== 'live' ? b : undefined
    }, 60_000, 'the refused RTSP source to fail')
    assert.equal(cam.state, 'failed')
    assert.match(String(cam.error), /cannot read the source: .*refused/i)
    assert.equal(cam.sourceUrl, 'rtsp://127.0.0.1:1', 'the public API shows the scheme and host only (M4)')
    const listed = JSON.stringify((await getJson(`${http}/api/streams`)).body)
    assert.doesNotMatch(listed, /s3cret|t0ken/)
  })

  it('publishes a file as a VOD with `diststream-node publish --vod`: every segment at the edge, all decode', async () => {
    const run = await runPublish([clip, '--vod', '--ingest', http, '--api-token', cluster.apiToken, '--name', 'vod-cli'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.result?.state, 'ready', run.stderr)
    assert.match(run.stderr, /100% uploading/, 'a progress line was drawn')
    const id = run.result.id as string
    const s = (await getJson(`${http}/api/streams/${id}`)).body
    assert.deepEqual([s.vod, s.state, s.progress?.done, s.progress?.segments, s.lastSeq], [true, 'ready', CLIP_SEGMENTS, CLIP_SEGMENTS, CLIP_SEGMENTS - 1])
    assert.equal(await doneJobs(id), CLIP_SEGMENTS, 'every segment was a job done by the network')
    await checkVod(id, CLIP_SEGMENTS)
  })

  it('turns an HTTP upload into a VOD: 201 processing → ready → playable', async () => {
    const body = await readFile(clip)
    const res = await getJson(`${http}/api/uploads?name=uploaded`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiToken}`, 'content-type': 'video/mp4' }, body })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.deepEqual([res.body.state, res.body.vod, res.body.name], ['processing', true, 'uploaded'])
    const id = res.body.id as string
    // Not playable while processing.
    const early = await getText(`${edgeHttp}/live/${id}/index.m3u8`)
    if (early.status === 200) {
      // Only if processing was already over (a fast machine): then it must be the VOD.
      assert.equal((await getJson(`${http}/api/streams/${id}`)).body.state, 'ready')
    }
    const ready = await waitUntil(async () => {
      const s = (await getJson(`${http}/api/streams/${id}`)).body
      return s.state !== 'processing' ? s : undefined
    }, 120_000, 'the upload to be ready')
    assert.equal(ready.state, 'ready', JSON.stringify(ready))
    await checkVod(id, CLIP_SEGMENTS)
  })

  it('resumes an interrupted upload (Upload-Length, PATCH with Upload-Offset, HEAD) into a ready VOD', async () => {
    const bytes = await readFile(clip)
    const half = Math.floor(bytes.byteLength / 2)
    const auth = { authorization: `Bearer ${cluster.apiToken}` }
    const created = await getJson(`${http}/api/uploads?name=resumed`, { method: 'POST', headers: { ...auth, 'upload-length': String(bytes.byteLength) } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const uploadId = created.body.uploadId as string
    assert.deepEqual([created.body.offset, created.body.length], [0, bytes.byteLength])
    const patch = async (offset: number, body: Buffer): Promise<Response> => await fetch(`${http}/api/uploads/${uploadId}`, {
      method: 'PATCH', headers: { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }, body, signal: AbortSignal.timeout(15_000)
    })
    const first = await patch(0, bytes.subarray(0, half))
    assert.equal(first.status, 204)
    assert.equal(first.headers.get('upload-offset'), String(half))
    // The client lost track: a wrong offset is refused with the right one; HEAD says where to resume.
    const wrong = await patch(0, bytes.subarray(0, 10))
    assert.equal(wrong.status, 409)
    assert.equal(wrong.headers.get('upload-offset'), String(half))
    const head = await fetch(`${http}/api/uploads/${uploadId}`, { method: 'HEAD' })
    assert.deepEqual([head.status, head.headers.get('upload-offset'), head.headers.get('upload-length')], [204, String(half), String(bytes.byteLength)])
    const tooMuch = await patch(half, Buffer.concat([bytes.subarray(half), Buffer.alloc(10)]))
    assert.equal(tooMuch.status, 413, 'more than Upload-Length')
    const again = await fetch(`${http}/api/uploads/${uploadId}`, { method: 'HEAD' })
    const resumeAt = Number(again.headers.get('upload-offset'))
    const last = await patch(resumeAt, bytes.subarray(resumeAt))
    assert.equal(last.status, 201, await last.clone().text())
    const stream = await last.json() as { id: string, state: string }
    assert.equal(stream.state, 'processing')
    const ready = await waitUntil(async () => {
      const b = (await getJson(`${http}/api/streams/${stream.id}`)).body
      return b.state !== 'processing' ? b : undefined
    }, 120_000, 'the resumed upload to be ready')
    assert.equal(ready.state, 'ready', JSON.stringify(ready))
    await checkVod(stream.id, CLIP_SEGMENTS)
    assert.equal((await fetch(`${http}/api/uploads/${uploadId}`, { method: 'HEAD' })).status, 404, 'a finished upload is gone')
  })

  it('refuses uploads: no token 401, wrong type 415, over --max-upload-mb 413 (declared or streamed), junk → failed', async () => {
    const small = await readFile(clip)
    const noToken = await getJson(`${http}/api/uploads`, { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: small })
    assert.equal(noToken.status, 401)
    const json = await callApi(`${http}/api/uploads`, 'POST', cluster.apiToken, { file: 'x' })
    assert.equal(json.status, 415)
    const big = Buffer.alloc(1024 * 1024 + 1, 7)
    const declared = await getJson(`${http}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiToken}`, 'content-type': 'application/octet-stream' }, body: big })
    assert.equal(declared.status, 413, JSON.stringify(declared.body))
    // Chunked (no Content-Length): counted as it streams to disk, cut off past the limit.
    const chunks = Array.from({ length: 24 }, () => Buffer.alloc(64 * 1024, 1))
    const streamed = await getJson(`${http}/api/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.apiToken}`, 'content-type': 'video/mp2t' },
      body: new ReadableStream({ pull (c) { const b = chunks.shift(); if (b == null) c.close(); else c.enqueue(b) } }),
      duplex: 'half'
    } as RequestInit)
    assert.equal(streamed.status, 413, JSON.stringify(streamed.body))
    const junk = await getJson(`${http}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiToken}`, 'content-type': 'video/mp4' }, body: Buffer.from('not a video') })
    assert.equal(junk.status, 201)
    const s = await waitUntil(async () => {
      const b = (await getJson(`${http}/api/streams/${junk.body.id as string}`)).body
      return b.state !== 'processing' ? b : undefined
    }, 60_000, 'the junk upload to fail')
    assert.equal(s.state, 'failed')
    assert.match(String(s.error), /cannot read the file/)
    // Nothing of the refused or finished uploads is left in the data dir.
    const left = await readdirSafe(join(ingest.dataDir, 'uploads'))
    assert.deepEqual(left, [])
  })

  it('publishes a file as a live stream with `diststream-node publish`, ended when the file is', async () => {
    const run = await runPublish([clip, '--ingest', http, '--api-token', cluster.apiToken, '--name', 'live-cli'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.result?.state, 'ended')
    const id = run.result.id as string
    const p = parseMediaPlaylist((await getText(`${edgeHttp}/live/${id}/240p/index.m3u8`)).text)
    assert.ok(p.ended)
    assert.doesNotMatch((await getText(`${edgeHttp}/live/${id}/240p/index.m3u8`)).text, /PLAYLIST-TYPE/)
    assert.deepEqual(assertContiguous(p.segments, '240p'), [0, 1, 2, 3], 'the whole file, to its last segment')
  })
})

async function readdirSafe (dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises')
  return await readdir(dir).catch(() => [])
}
