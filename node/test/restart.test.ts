/**
 * Restarts, in separate processes: the ingest is SIGKILLed mid-stream and
 * started again on the same data dir (same peer id, same libp2p port, as an
 * operator's restart would be); the broadcaster reconnects; from the edge the
 * playlist runs on without a hole, with EXT-X-DISCONTINUITY where the new
 * publish starts. Then the edge is SIGKILLed and restarted: it serves its disk
 * cache at once.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { freePort } from '../src/net.js'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import { assertContiguous, checkSegments, settledPlaylist } from './helpers/playback.js'
import type { NodeProcess } from './helpers/cluster.js'

const SEGMENT_SECONDS = 2

describe('restarts: ingest SIGKILL mid-stream, edge SIGKILL', { timeout: 300_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let work: string
  let boot: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-restart-'))
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--playlist-window', '100']
    const port = await freePort()
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--listen', `/ip4/127.0.0.1/tcp/${port}`, ...common])
    boot = `/ip4/127.0.0.1/tcp/${port}/p2p/${(await ingest.info).peerId}`
    await cluster.start('worker', ['--role', 'worker', '--bootstrap', boot, ...common])
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', boot, ...common])
  })

  // On a failure, show what the nodes logged: that is where the reason is.
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed, work) })

  it('the playlist continues after the ingest restarts and the broadcaster reconnects', async (t) => {
    const { http, peerId } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.length >= 2, 20_000, 'the worker and the edge')
    const created = await createStream(http, 'restart', cluster.apiToken)
    const streamId: string = created.id
    const key: string = created.key
    const first = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await ingest.info).rtmpPort}/live/${key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: 60 })
    const edgeHttp = (await edge.info).http
    await waitUntil(async () => {
      const r = await getText(`${edgeHttp}/live/${streamId}/240p/index.m3u8`)
      return r.status === 200 && parseMediaPlaylist(r.text).segments.length >= 4
    }, 60_000, 'four segments at the edge before the kill', 500)
    const jobsBefore = ((await getJson(`${http}/api/jobs?limit=500`)).body as unknown[]).length

    ingest = await cluster.restart(ingest) // SIGKILL, then the same data dir and arguments
    assert.notEqual(await first.done, 0, 'the first publish broke with the ingest')
    const restarted = await ingest.info
    assert.equal(restarted.peerId, peerId, 'same peer id after the restart')
    const stream = await getJson(`${restarted.http}/api/streams/${streamId}`)
    assert.equal(stream.status, 200, 'the stream registry survived')
    const jobsAfter = (await getJson(`${restarted.http}/api/jobs?limit=500`)).body as unknown[]
    assert.ok(jobsAfter.length >= Math.max(1, jobsBefore - 2), `job history restored: ${jobsAfter.length} of ${jobsBefore}`)

    // The broadcaster reconnects with the same key.
    await waitUntil(async () => (await getJson(`${restarted.http}/api/node`)).body.peers.length >= 2, 30_000, 'the worker and the edge to reconnect')
    const second = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${restarted.rtmpPort}/live/${key}`, width: 640, height: 360, fps: 30, gopSeconds: SEGMENT_SECONDS, durationSec: 12 })
    assert.equal(await second.done, 0)
    const lastSeq = await waitUntil(async () => (await getJson(`${restarted.http}/api/streams/${streamId}`)).body.lastSeq as number | undefined, 20_000, 'lastSeq')
    const list = await settledPlaylist(edgeHttp, streamId, '240p', lastSeq + 1, 90_000, 6000)
    const seqs = assertContiguous(list.segments, '240p')
    assert.equal(seqs[0], 0)
    const disc = list.segments.filter(s => s.discontinuity).map(s => s.seq)
    t.diagnostic(`${list.segments.length} segments; discontinuity at ${disc.join(',')}`)
    assert.equal(disc.length, 1, 'one EXT-X-DISCONTINUITY, where the new publish starts')
    assert.ok(disc[0]! >= 4 && disc[0]! < list.segments.length - 2, `discontinuity at ${disc[0]}`)
    await checkSegments({ edgeHttp, streamId, rendition: '240p', segments: list.segments, dir: work, ffmpeg, size: [426, 240] })

    // The edge restarts with its data dir: cached segments are served at once, from disk.
    const seg = list.segments[1]!
    edge = await cluster.restart(edge)
    const res = await fetch(`${(await edge.info).http}/live/${streamId}/240p/${seg.uri}`)
    assert.equal(res.status, 200, 'a cached segment right after the restart')
    assert.ok((await res.arrayBuffer()).byteLength > 0)
    // ...and it finds the stream again for the playlists.
    await waitUntil(async () => (await getText(`${(await edge.info).http}/live/${streamId}/240p/index.m3u8`)).status === 200, 30_000, 'the playlist after the edge restart', 500)
  })
})
