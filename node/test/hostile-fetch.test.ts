/**
 * Non-reading fetch clients against a real ingest process (security review H6).
 * Four hostile libp2p peers (real nodes in this test process, each its own peer
 * id) keep opening FETCH streams for the stream's largest recent segment,
 * without `accept_busy` (which the ingest always used to serve, reading the
 * whole file first), and never read the answer: each stream is paused after
 * its request. Meanwhile an edge (its own process) follows the stream.
 *
 * The ingest must answer past its per-peer limit with a counted BUSY, stream
 * what it does serve from disk in chunks, drop each stalled reader at its
 * size-scaled write deadline (a counted protocol timeout), keep its RSS
 * bounded, and the edge must keep playing with nothing missing.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { createP2PNode } from '@diststream/p2p'
import { codecs, FetchRequest, MessageChannel, PROTOCOL_FETCH } from '@diststream/protocol'
import { loadOrCreatePeerKey } from '@diststream/store'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Cluster, getText, waitUntil } from './helpers/cluster.js'
import { metric, protocolErrors, rssMiB } from './helpers/hostile.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { P2PNode } from '@diststream/p2p'
import type { PeerId, Stream } from '@libp2p/interface'
import type { TestSource } from '@diststream/media'

const ATTACKERS = 4
/** Streams each attacker keeps open (more than the ingest takes per connection). */
const STREAMS_PER_ATTACKER = 96
const ATTACK_MS = 24_000
/** How long one non-reader keeps its stream at most. */
const HOLD_MS = 15_000
/**
 * The ingest's RSS may grow at most this much under the attack. Before the fix each of the
 * 4 × 64 streams the ingest accepted held the whole ~1 MiB segment (≥ 256 MiB); now a stalled
 * serve holds ~128 KiB and the rest is answered BUSY (measured: +127 MiB peak, mostly
 * garbage the 3 rounds of 128 serves leave for the GC).
 */
const MAX_RSS_GROWTH_MIB = 180

describe('non-reading fetch clients cannot exhaust an ingest (H6)', { timeout: 240_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let ingest: NodeProcess
  let edge: NodeProcess
  let target: PeerId
  const attackers: P2PNode[] = []
  let source: TestSource | undefined
  let work = ''
  const open = new Set<Stream>()

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-nonreader-'))
    // The ladder is above the 640x360 source: the source passes through (no worker needed).
    const common = ['--segment-seconds', '2', '--ladder', '720p', '--playlist-window', '60']
    ingest = await cluster.start('ingest', ['--role', 'ingest', ...common])
    target = peerIdFromString((await ingest.info).peerId)
    edge = await cluster.start('edge', ['--role', 'edge', '--bootstrap', await ingest.bootstrapAddr(), ...common])
    for (let i = 0; i < ATTACKERS; i++) {
      const node = await createP2PNode({ privateKey: await loadOrCreatePeerKey(join(work, `evil${i}`)), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
      await node.dial(multiaddr(await ingest.bootstrapAddr()), { signal: AbortSignal.timeout(10_000) })
      attackers.push(node)
    }
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    for (const s of open) s.abort(new Error('test over'))
    await source?.stop()
    await Promise.allSettled(attackers.map(async a => { await a.stop() }))
    await cluster.close(failed, work)
  })

  /** One non-reading request: send it, pause the stream, and keep it until the ingest ends it. */
  async function nonReader (node: P2PNode, streamId: string, rendition: string, seq: number): Promise<void> {
    let stream: Stream
    try {
      stream = await node.dialProtocol(target, PROTOCOL_FETCH, { signal: AbortSignal.timeout(5000), maxOutboundStreams: STREAMS_PER_ATTACKER * 2 })
    } catch {
      return // the connection's stream limit: the next round tries again
    }
    open.add(stream)
    try {
      await new MessageChannel(stream).write(codecs.fetchRequest, { kind: FetchRequest.Kind.SEGMENT, streamId, rendition, seq, acceptBusy: false })
      stream.pause()
      // Until the ingest resets it, or a while (a paused stream that got all its bytes never closes here).
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, HOLD_MS)
        stream.addEventListener('close', () => { clearTimeout(timer); resolve() }, { once: true })
      })
      stream.abort(new Error('test: non-reader done'))
    } catch {
      // reset by the ingest (its inbound limit): what this test wants
    } finally {
      open.delete(stream)
    }
  }

  it('the ingest refuses and drops them, counted, with bounded memory; the edge keeps playing', async (t) => {
    const { http, rtmpPort } = await ingest.info
    const edgeHttp = (await edge.info).http
    const created = await createStream(http, 'nonreaders', cluster.apiToken)
    // Segments of ~1.5 MB, so a whole-file read per stream would show, and a non-reader stalls the write.
    source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 30, gopSeconds: 2, bitrateKbps: 6000 })
    const master = await waitUntil(async () => { const r = await getText(`${edgeHttp}/live/${created.id}/index.m3u8`); return r.status === 200 ? r.text : undefined }, 40_000, 'the edge to play the stream', 500)
    const rendition = parseMasterPlaylist(master).variants[0]!.uri.split('/')[0]!
    const playlist = async (): Promise<ReturnType<typeof parseMediaPlaylist>> => parseMediaPlaylist((await getText(`${edgeHttp}/live/${created.id}/${rendition}/index.m3u8`)).text)
    await waitUntil(async () => (await playlist()).segments.length >= 3, 30_000, 'three segments at the edge')
    const before = await playlist()
    const newest = before.segments.at(-1)!
    const bytes = (await fetch(`${edgeHttp}/live/${created.id}/${rendition}/${newest.uri}`)).headers.get('content-length')
    t.diagnostic(`segment size ${bytes} bytes`)
    const lastBefore = before.segments.at(-1)!.seq
    const pid = ingest.proc.pid!
    const baseRss = await rssMiB(pid)
    const timeouts0 = (await protocolErrors(http)).timeout ?? 0

    // The attack: every attacker keeps STREAMS_PER_ATTACKER requests for the newest segment open.
    let peakRss = baseRss
    const end = Date.now() + ATTACK_MS
    const sampler = setInterval(() => { void rssMiB(pid).then(r => { peakRss = Math.max(peakRss, r) }, () => { /* the ingest died: the assertions below say so */ }) }, 250)
    const perAttacker = new Map<P2PNode, number>()
    try {
      while (Date.now() < end) {
        const seq = (await playlist()).segments.at(-1)!.seq
        for (const a of attackers) {
          for (let n = perAttacker.get(a) ?? 0; n < STREAMS_PER_ATTACKER; n++) {
            perAttacker.set(a, n + 1)
            void nonReader(a, created.id, rendition, seq).finally(() => { perAttacker.set(a, (perAttacker.get(a) ?? 1) - 1) })
          }
        }
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    } finally {
      clearInterval(sampler)
    }
    for (const s of open) s.abort(new Error('attack over'))

    const metrics = (await getText(`${http}/metrics`)).text
    const refusedPeer = metric(metrics, /^diststream_fetch_refused_total\{why="peer_limit"\} (\d+)/m)
    const timeouts = ((await protocolErrors(http)).timeout ?? 0) - timeouts0
    t.diagnostic(`ingest RSS ${baseRss.toFixed(0)} → peak ${peakRss.toFixed(0)} MiB; peer_limit refusals ${refusedPeer}; write timeouts ${timeouts}`)
    assert.equal((await getText(`${http}/readyz`)).status, 200, 'the ingest is up')
    assert.ok(refusedPeer > 0, 'serves past the per-peer limit were refused and counted')
    assert.ok(timeouts > 0, 'stalled readers were dropped at their write deadline and counted')
    assert.ok(peakRss - baseRss < MAX_RSS_GROWTH_MIB, `ingest RSS grew ${(peakRss - baseRss).toFixed(0)} MiB`)

    // The edge kept playing: every segment made during the attack is listed, none a gap.
    const afterAttack = await waitUntil(async () => { const p = await playlist(); return p.segments.at(-1)!.seq >= lastBefore + ATTACK_MS / 2000 - 2 ? p : undefined }, 20_000, 'the edge to list the segments made during the attack')
    const during = afterAttack.segments.filter(s => s.seq > lastBefore)
    const seqs = during.map(s => s.seq)
    seqs.forEach((seq, i) => { assert.equal(seq, lastBefore + 1 + i, `contiguous: ${seqs.join(',')}`) })
    assert.deepEqual(during.filter(s => s.gap).map(s => s.seq), [], 'no gaps at the edge')
  })
})
