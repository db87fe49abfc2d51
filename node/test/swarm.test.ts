/**
 * Edge swarming, in separate processes on loopback: a bootstrap node, one
 * ingest, one worker and six edges that know nothing but the bootstrap's
 * address. Every edge serves the whole stream (every rendition segment the
 * ingest holds, byte for byte), while the ingest uploads each rendition
 * segment to only a few peers: the other edges fetch from edges.
 */
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { callApi, Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { createStream, edgeListing, edgeSegmentHash, ingestHoldings, metric, missing } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { Holdings } from './helpers/streams.js'

const EDGES = 6
const PUBLISH_SECONDS = 12
const COMMON = ['--segment-seconds', '2', '--ladder', '240p', '--playlist-window', '60']

describe('edge swarming: one ingest, six edges', { timeout: 300_000 }, () => {
  const cluster = new Cluster()
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  const edges: NodeProcess[] = []

  before(async () => {
    const boot = await cluster.start('bootstrap', ['--role', 'bootstrap'])
    const addr = await boot.bootstrapAddr()
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--bootstrap', addr, ...COMMON])
    await cluster.start('worker', ['--role', 'worker', '--max-jobs', '1', '--bootstrap', addr, ...COMMON])
    // two at a time: the machine has two cores
    for (let i = 0; i < EDGES; i += 2) {
      edges.push(...await Promise.all([0, 1].map(async j => await cluster.start(`edge-${i + j}`, ['--role', 'edge', '--bootstrap', addr, ...COMMON]))))
    }
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    if (failed) process.stderr.write(cluster.logs() + '\n')
    await cluster.stop()
  })

  it('every edge serves every rendition segment; the ingest serves each to at most a few peers', async (t) => {
    const { http, rtmpPort } = await ingest.info
    await waitUntil(async () => {
      const { body } = await getJson(`${http}/api/node`)
      return body.peers.some((p: any) => p.roles.includes('worker'))
    }, 30_000, 'the ingest to see the worker')
    const stream = await createStream(http, 'swarm', cluster.apiToken)
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.key}`, width: 426, height: 240, fps: 15, gopSeconds: 2, durationSec: PUBLISH_SECONDS })

    // Each edge is asked for a stream it was never told about: it finds it (DHT or directory) and follows it.
    await Promise.all(edges.map(async e => {
      const { http: eh } = await e.info
      await waitUntil(async () => (await getText(`${eh}/live/${stream.id}/index.m3u8`)).status === 200, 40_000, `${e.name} to serve the master playlist`, 500)
    }))
    assert.equal(await source.done, 0, 'the publisher ran to the end')

    // The ingest's last segment closes after the publisher stops; then end the stream.
    let holdings: Holdings = new Map()
    let last = ''
    let stableSince = Date.now()
    await waitUntil(async () => {
      holdings = await ingestHoldings(ingest.dataDir, stream.id)
      const sig = [...holdings].map(([r, m]) => `${r}:${m.size}`).join(',')
      if (sig !== last) { last = sig; stableSince = Date.now() }
      return holdings.size > 0 && Date.now() - stableSince > 9000
    }, 60_000, 'the ingest to store its last segment', 500)

    // A late edge, after the publisher left: the stream is no longer announced on gossip (it is idle),
    // so only its DHT provider record leads there.
    const late = await cluster.start('edge-late', ['--role', 'edge', '--bootstrap', await cluster.nodes[0]!.bootstrapAddr(), ...COMMON])
    const lateHttp = (await late.info).http
    await waitUntil(async () => (await getText(`${lateHttp}/live/${stream.id}/index.m3u8`)).status === 200, 40_000, 'the late edge to find the stream on the DHT', 500)
    assert.ok(metric((await getText(`${lateHttp}/metrics`)).text, 'diststream_edge_stream_lookups_total', 'outcome="found"') >= 1, 'the late edge found the stream through the DHT')
    edges.push(late)

    assert.equal((await callApi(`${http}/api/streams/${stream.id}`, 'DELETE', cluster.apiToken)).status, 200)
    const renditions = [...holdings.keys()].sort()
    // CMAF (the default container): the video renditions and the ingest's audio track.
    assert.deepEqual(renditions, ['240p', 'audio', 'source'])
    const total = [...holdings.values()].reduce((n, m) => n + m.size, 0)
    assert.ok(total >= 2 * (PUBLISH_SECONDS / 2 - 1), `ingest holds ${total} rendition segments`)

    for (const e of edges) {
      const { http: eh } = await e.info
      const listing = await waitUntil(async () => {
        const l = await edgeListing(eh, stream.id)
        return l.ended && missing(holdings, l).length === 0 ? l : undefined
      }, 60_000, `${e.name} to list every rendition segment (missing: ${missing(holdings, await edgeListing(eh, stream.id).catch(() => ({ segments: new Map() }))).join(' ')})`, 500)
      for (const [r, seqs] of holdings) {
        for (const [seq, hash] of seqs) assert.equal(await edgeSegmentHash(eh, stream.id, r, seq), hash, `${e.name} ${r}/${seq} matches the ingest's bytes`)
      }
      assert.deepEqual([...listing.renditions].sort(), renditions)
    }

    // The ingest's upload: each rendition segment to at most a few peers.
    const im = (await getText(`${http}/metrics`)).text
    const served = metric(im, 'diststream_fetch_served_total')
    const servedBytes = metric(im, 'diststream_fetch_served_bytes_total')
    const maxCopies = metric(im, 'diststream_fetch_copies_max')
    const busy = metric(im, 'diststream_fetch_busy_total')
    let fromEdges = 0
    let fallbacks = 0
    let edgeServed = 0
    for (const e of edges) {
      const em = (await getText(`${(await e.info).http}/metrics`)).text
      fromEdges += metric(em, 'diststream_edge_fetch_sources_total', 'source="edge"') || 0
      fallbacks += metric(em, 'diststream_edge_fetch_sources_total', 'source="ingest_fallback"') || 0
      edgeServed += metric(em, 'diststream_fetch_served_total') || 0
    }
    let renditionBytes = 0
    for (const [r, seqs] of holdings) for (const seq of seqs.keys()) renditionBytes += (await ingestFileSize(ingest.dataDir, stream.id, r, seq))
    t.diagnostic(`ingest served ${served} copies of ${total} rendition segments (${(served / total).toFixed(2)} per segment, at most ${maxCopies} of one), ${busy} BUSY; upload ${(servedBytes / renditionBytes).toFixed(2)}× the rendition bytes; edges fetched ${fromEdges} from edges, ${fallbacks} fallbacks to the ingest; edges served ${edgeServed}`)
    assert.ok(maxCopies <= 3, `the ingest served one rendition segment ${maxCopies} times`)
    assert.ok(served <= 3 * total, `${served} copies for ${total} rendition segments`)
    assert.ok(busy > 0, 'the ingest sent edges elsewhere')
    assert.ok(fromEdges >= (EDGES - 3) * total, `edges fetched ${fromEdges} rendition segments from edges`)
    assert.equal(fromEdges, edgeServed, 'what edges fetched from edges, edges served')
  })
})

async function ingestFileSize (dataDir: string, streamId: string, rendition: string, seq: number): Promise<number> {
  const { stat } = await import('node:fs/promises')
  const { join } = await import('node:path')
  return (await stat(join(dataDir, 'segments', streamId, rendition, `${String(seq).padStart(8, '0')}.ts`))).size
}
