/**
 * The swarming figure: ingest upload bytes per segment ÷ rendition bytes, with 6 edges.
 *
 * METHOD. One ingest, one worker (ladder 240p) and 6 edges, separate diststream-node processes on
 * loopback; the edges know only the ingest's address (--bootstrap). A 20 s 426x240 test pattern is
 * published with -re; each edge is asked for the stream's master playlist as soon as the stream
 * is live (so all six follow it from its first segment). When the ingest has stored its last
 * segment (its segment files unchanged for 9 s), the stream is deleted and every edge is checked
 * to list every rendition segment the ingest holds. Figure = the ingest's
 * diststream_fetch_served_bytes_total (bytes it uploaded over /diststream/fetch to other peers)
 * ÷ the bytes of every rendition segment it holds. 1.0 = each rendition segment left the ingest
 * once; 6.0 = the ingest served every edge itself (no swarming). Also shown: the most copies of
 * one rendition segment the ingest served, BUSY answers, and where the edges got their copies.
 * Target (issue 4): bounded, "at most a few" copies, independent of the number of edges.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { startTestSource } from '@diststream/media'
import { callApi, getJson, getText, waitUntil } from '../test/helpers/cluster.js'
import { createStream, edgeListing, ingestHoldings, metric, missing } from '../test/helpers/streams.js'
import type { Holdings } from '../test/helpers/streams.js'
import { newCluster } from './phases.js'
import type { BenchConfig } from './phases.js'

export interface SwarmResult {
  edges: number
  renditionSegments: number
  renditionBytes: number
  servedBytes: number
  servedCopies: number
  maxCopies: number
  busy: number
  fromEdges: number
  fromIngest: number
  fallbacks: number
  incompleteEdges: number
  ms: number
}

const EDGES = 6
const PUBLISH_SECONDS = 20

export async function runSwarm (cfg: BenchConfig): Promise<SwarmResult> {
  const t0 = Date.now()
  const cluster = await newCluster({ logLevel: 'info' })
  const common = ['--segment-seconds', String(cfg.segmentSec), '--ladder', '240p', '--playlist-window', '60']
  try {
    const ingest = await cluster.start('swarm-ingest', ['--role', 'ingest', ...common])
    const boot = await ingest.bootstrapAddr()
    await cluster.start('swarm-worker', ['--role', 'worker', '--max-jobs', '1', '--bootstrap', boot, ...common])
    const edges = []
    for (let i = 0; i < EDGES; i += 2) edges.push(...await Promise.all([0, 1].map(async j => await cluster.start(`swarm-edge-${i + j}`, ['--role', 'edge', '--bootstrap', boot, ...common]))))
    const { http, rtmpPort } = await ingest.info
    await waitUntil(async () => (await getJson(`${http}/api/node`)).body.peers.some((p: any) => p.roles.includes('worker')), 30_000, 'the ingest to see its worker')
    const stream = await createStream(http, 'bench-swarm', cluster.apiToken)
    const source = startTestSource({ ffmpegPath: cfg.ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.key}`, width: 426, height: 240, fps: 15, gopSeconds: cfg.segmentSec, durationSec: PUBLISH_SECONDS })
    await Promise.all(edges.map(async e => {
      const eh = (await e.info).http
      await waitUntil(async () => (await getText(`${eh}/live/${stream.id}/index.m3u8`)).status === 200, 40_000, `${e.name} to follow the stream`, 250)
    }))
    await source.done
    let holdings: Holdings = new Map()
    let last = ''
    let since = Date.now()
    await waitUntil(async () => {
      holdings = await ingestHoldings(ingest.dataDir, stream.id)
      const sig = [...holdings].map(([r, m]) => `${r}:${m.size}`).join(',')
      if (sig !== last) { last = sig; since = Date.now() }
      return holdings.size > 0 && Date.now() - since > 9000
    }, 60_000, 'the ingest to store its last segment', 500)
    await callApi(`${http}/api/streams/${stream.id}`, 'DELETE', cluster.apiToken)
    let incompleteEdges = 0
    let fromEdges = 0
    let fromIngest = 0
    let fallbacks = 0
    for (const e of edges) {
      const eh = (await e.info).http
      const done = await waitUntil(async () => {
        const l = await edgeListing(eh, stream.id)
        return l.ended && missing(holdings, l).length === 0
      }, 30_000, `${e.name} to list every segment`, 500).catch(() => false)
      if (done !== true) incompleteEdges++
      const em = (await getText(`${eh}/metrics`)).text
      fromEdges += metric(em, 'diststream_edge_fetch_sources_total', 'source="edge"') || 0
      fromIngest += metric(em, 'diststream_edge_fetch_sources_total', 'source="ingest"') || 0
      fallbacks += metric(em, 'diststream_edge_fetch_sources_total', 'source="ingest_fallback"') || 0
    }
    let renditionBytes = 0
    let renditionSegments = 0
    for (const [r, seqs] of holdings) {
      for (const seq of seqs.keys()) {
        renditionBytes += (await stat(join(ingest.dataDir, 'segments', stream.id, r, `${String(seq).padStart(8, '0')}.ts`))).size
        renditionSegments++
      }
    }
    const im = (await getText(`${http}/metrics`)).text
    return {
      edges: EDGES,
      renditionSegments,
      renditionBytes,
      servedBytes: metric(im, 'diststream_fetch_served_bytes_total'),
      servedCopies: metric(im, 'diststream_fetch_served_total'),
      maxCopies: metric(im, 'diststream_fetch_copies_max'),
      busy: metric(im, 'diststream_fetch_busy_total'),
      fromEdges,
      fromIngest,
      fallbacks,
      incompleteEdges,
      ms: Date.now() - t0
    }
  } finally {
    await cluster.stop()
  }
}

export function swarmReport (r: SwarmResult): string {
  const ratio = r.servedBytes / r.renditionBytes
  return [
    '',
    `== Swarming: ingest upload bytes per segment ÷ rendition bytes (1 ingest, 1 worker, ${r.edges} edges; 20 s 426x240 -re, ladder 240p + source)`,
    `  ${r.renditionSegments} rendition segments, ${r.renditionBytes} bytes at the ingest; the ingest uploaded ${r.servedBytes} bytes in ${r.servedCopies} copies (at most ${r.maxCopies} of one rendition segment), answered BUSY ${r.busy} times`,
    `  edges' copies came from: the ingest ${r.fromIngest}, other edges ${r.fromEdges}, the ingest as a fallback ${r.fallbacks}; edges missing segments: ${r.incompleteEdges} of ${r.edges}`,
    `  swarming figure = ${ratio.toFixed(2)} (without swarming it would be ${r.edges}.00); ${r.incompleteEdges === 0 ? 'every edge listed every rendition segment' : 'INVALID: some edges did not list every segment'} (${(r.ms / 1000).toFixed(0)} s)`,
    `BENCH_SWARM ${JSON.stringify({ edges: r.edges, ratio: Math.round(ratio * 1000) / 1000, maxCopies: r.maxCopies, renditionSegments: r.renditionSegments, servedBytes: r.servedBytes, renditionBytes: r.renditionBytes, fromEdges: r.fromEdges, fromIngest: r.fromIngest, fallbacks: r.fallbacks, incompleteEdges: r.incompleteEdges })}`
  ].join('\n')
}
