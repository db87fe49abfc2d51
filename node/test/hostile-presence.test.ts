/**
 * Review M1/M2 against real node processes: a hostile peer (a real libp2p
 * node in this test process) publishes presences signed by thousands of fresh
 * keys (Sybils) through its one connection to each node, advertising a private
 * address and a loopback "trap" port that counts every TCP connection made to
 * it. Node A runs as a real deployment would (`--no-allow-private-addrs`:
 * the default off loopback); node B as a local network (the default on
 * loopback: dials private addresses, but only a bounded, rate-limited number
 * learned from relayed presences). Both must stay up with a bounded presence
 * table and memory, A must dial none of the injected addresses, the refusals
 * must be counted, A's stream must still play at B's edge, and a peer whose
 * messages keep failing origin checks must be graylisted (its gossip ignored).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { parseMasterPlaylist, parseMediaPlaylist } from '@diststream/hls'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { createP2PNode, Gossip } from '@diststream/p2p'
import { codecs, STREAM_SALT_BYTES, StreamAnnounce, TOPIC_PRESENCE, TOPIC_STREAMS } from '@diststream/protocol'
import { loadOrCreatePeerKey } from '@diststream/store'
import { multiaddr } from '@multiformats/multiaddr'
import { pino } from 'pino'
import { Cluster, getJson, getText, waitUntil } from './helpers/cluster.js'
import { protocolErrors, rssMiB } from './helpers/hostile.js'
import { publishAsFreshKey } from './helpers/sybil.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { P2PNode } from '@diststream/p2p'
import type { Presence } from '@diststream/protocol'
import type { TestSource } from '@diststream/media'
import type { Server } from 'node:net'

/** Sybil presences published to each node. */
const SYBILS = 3000
/** packages/p2p/src/constants.ts: PRESENCE_NEW_SIGNERS_PER_SOURCE (64 + 2/s per source) and PRESENCE_RELAYED_DIALS (8 + 0.2/s). */
const NEW_SIGNERS = { burst: 64, perSecond: 2 }
const RELAYED_DIALS = { burst: 8, perSecond: 0.2 }
/** Memory a node may gain from the flood (MiB): the table and rate tables are bounded; this is garbage and allocator slack. */
const MAX_RSS_GROWTH_MIB = 120

describe('hostile presence flood (Sybil keys) against real nodes', { timeout: 300_000 }, () => {
  const cluster = new Cluster()
  const ffmpeg = resolveFfmpeg()
  let a: NodeProcess
  let b: NodeProcess
  let [httpA, httpB] = ['', '']
  let evil: P2PNode
  let work: string
  let source: TestSource | undefined
  let streamId: string
  let trap: Server
  let trapPort = 0
  let trapHits = 0

  const sybilPresence = (): Presence => ({
    roles: ['worker'],
    multiaddrs: [multiaddr('/ip4/10.66.0.1/tcp/4001').bytes, multiaddr(`/ip4/127.0.0.1/tcp/${trapPort}`).bytes] as Presence['multiaddrs'],
    httpUrl: '',
    activeJobs: 0,
    maxJobs: 8,
    gpu: false,
    hwKind: 'cpu',
    agent: 'sybil',
    startedAtMs: Date.now()
  })
  const peerCount = async (http: string): Promise<number> => (await getJson(`${http}/api/node`)).body.peers.length

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ds-sybil-'))
    trap = createServer((s) => { trapHits++; s.destroy() })
    await new Promise<void>(resolve => trap.listen(0, '127.0.0.1', resolve))
    trapPort = (trap.address() as { port: number }).port

    a = await cluster.start('a', ['--role', 'ingest,worker,edge', '--no-allow-private-addrs', '--segment-seconds', '1', '--ladder', '240p', '--max-jobs', '1'])
    httpA = (await a.info).http
    b = await cluster.start('b', ['--role', 'edge', '--bootstrap', await a.bootstrapAddr()])
    httpB = (await b.info).http
    const created = await createStream(httpA, 'honest', cluster.apiToken)
    streamId = created.id
    source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${(await a.info).rtmpPort}/live/${created.key}`, width: 320, height: 180, fps: 30, gopSeconds: 1 })
    await waitUntil(async () => (await getText(`${httpB}/live/${streamId}/index.m3u8`)).status === 200, 60_000, 'B\'s edge to serve A\'s stream', 500)

    evil = await createP2PNode({ privateKey: await loadOrCreatePeerKey(join(work, 'evil')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    new Gossip(evil, pino({ level: 'silent' })).subscribe(TOPIC_PRESENCE, codecs.presence, () => {})
    for (const n of [a, b]) await evil.dial(multiaddr(await n.bootstrapAddr()), { signal: AbortSignal.timeout(10_000) })
    await waitUntil(async () => evil.services.pubsub.getSubscribers(TOPIC_PRESENCE).length >= 2, 20_000, 'both nodes subscribed to presence')
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })

  after(async () => {
    if (failed) process.stderr.write(cluster.logs() + '\n')
    await source?.stop()
    await evil?.stop()
    await cluster.stop()
    trap?.close()
    await rm(work, { recursive: true, force: true })
  })

  it('thousands of Sybil presences: nodes stay up, tables and memory bounded, no injected address dialled past the bound, refusals counted, the stream plays', async () => {
    const rss0 = { a: await rssMiB(a.proc.pid!), b: await rssMiB(b.proc.pid!) }
    const peers0 = { a: await peerCount(httpA), b: await peerCount(httpB) }
    const t0 = Date.now()
    const data = codecs.presence.encode(sybilPresence())
    for (let i = 0; i < SYBILS; i++) await publishAsFreshKey(evil, TOPIC_PRESENCE, data)
    // Let the nodes take in what was sent (and try any dials) before measuring.
    await waitUntil(async () => ((await protocolErrors(httpA)).presence_source_rate ?? 0) > 0, 20_000, 'A to count refused Sybil presences')
    await new Promise(resolve => setTimeout(resolve, 3000))
    const seconds = (Date.now() - t0) / 1000

    assert.equal(a.proc.exitCode, null, 'A is up')
    assert.equal(b.proc.exitCode, null, 'B is up')
    // The bound is per relaying source: one new-signer burst plus its refill. A hears Sybils from
    // the evil peer and from B, which forwards what it took in (a Sybil B took before A heard it
    // from the evil peer reaches A through B first and counts against B's bucket at A).
    const maxFromOneSource = NEW_SIGNERS.burst + Math.ceil(NEW_SIGNERS.perSecond * seconds)
    const peersA = await peerCount(httpA)
    assert.ok(peersA <= peers0.a + 2 * maxFromOneSource, `A's presence table bounded: ${peersA} (was ${peers0.a}, ${SYBILS} Sybils sent over ${seconds.toFixed(1)} s)`)
    // B hears them from the evil peer and from A (A forwards only what it took in).
    const peersB = await peerCount(httpB)
    assert.ok(peersB <= peers0.b + 2 * maxFromOneSource, `B's presence table bounded: ${peersB} (was ${peers0.b})`)

    const errA = await protocolErrors(httpA)
    const errB = await protocolErrors(httpB)
    assert.ok((errA.presence_source_rate ?? 0) >= SYBILS - maxFromOneSource - 10, `A counted the refused Sybils: ${JSON.stringify(errA)}`)
    assert.ok((errA.presence_private_addr ?? 0) > 0, 'A counted presences whose private addresses it dropped')
    assert.ok((errB.presence_source_rate ?? 0) > 0, `B counted refused Sybils: ${JSON.stringify(errB)}`)
    // A (no private addresses) dialled nothing; B (a local network) at most its relayed-dial bucket.
    const maxDialsB = RELAYED_DIALS.burst + Math.ceil(RELAYED_DIALS.perSecond * seconds)
    assert.ok(trapHits <= maxDialsB, `the trap address was dialled ${trapHits} times (B's bound ${maxDialsB})`)
    const rss1 = { a: await rssMiB(a.proc.pid!), b: await rssMiB(b.proc.pid!) }
    assert.ok(rss1.a - rss0.a < MAX_RSS_GROWTH_MIB && rss1.b - rss0.b < MAX_RSS_GROWTH_MIB, `RSS growth A ${(rss1.a - rss0.a).toFixed(0)} MiB, B ${(rss1.b - rss0.b).toFixed(0)} MiB`)
    const hitsA = trapHits

    // The honest stream still plays at B's edge: its media playlist keeps moving.
    const master = await getText(`${httpB}/live/${streamId}/index.m3u8`)
    const uri = parseMasterPlaylist(master.text).variants[0]!.uri
    const lastSeq = async (): Promise<number> => {
      const r = await getText(`${httpB}/live/${streamId}/${uri}`)
      return r.status === 200 ? (parseMediaPlaylist(r.text).segments.at(-1)?.seq ?? -1) : -1
    }
    const seq0 = await lastSeq()
    await waitUntil(async () => (await lastSeq()) >= seq0 + 2, 20_000, 'B\'s playlist to advance after the flood', 500)
    process.stdout.write(`sybil flood: ${SYBILS} presences in ${seconds.toFixed(1)} s; tables A ${peersA} B ${peersB}; trap dials ${hitsA}; RSS A ${rss0.a.toFixed(0)}→${rss1.a.toFixed(0)} MiB, B ${rss0.b.toFixed(0)}→${rss1.b.toFixed(0)} MiB; A refusals ${JSON.stringify(errA)}\n`)
  })

  it('a peer whose messages keep failing origin checks is graylisted: its own presence is ignored afterwards', async () => {
    const gossip = new Gossip(evil, pino({ level: 'silent' }))
    const self = evil.peerId.toString()
    const rolesAt = async (): Promise<string[] | undefined> => (await getJson(`${httpA}/api/node`)).body.peers.find((p: { peerId: string }) => p.peerId === self)?.roles
    await gossip.publish(TOPIC_PRESENCE, codecs.presence, { ...sybilPresence(), multiaddrs: [], roles: ['edge'] })
    await waitUntil(async () => (await rolesAt())?.includes('edge'), 15_000, 'A to take the evil peer\'s own presence while it behaves')
    // Forged announcements of A's stream: refused by A's edge and worker (foreign-announce), each blamed on the evil peer.
    const before = (await protocolErrors(httpA)).invalid ?? 0
    for (let i = 0; i < 10; i++) {
      await gossip.publish(TOPIC_STREAMS, codecs.streamAnnounce, { streamId, name: 'hijack', state: StreamAnnounce.State.LIVE, renditions: [], targetDurationMs: 1000, lastSeq: 1, ingestMultiaddrs: [], updatedAtMs: Date.now() + i, salt: randomBytes(STREAM_SALT_BYTES) })
    }
    await waitUntil(async () => ((await protocolErrors(httpA)).invalid ?? 0) >= before + 10, 15_000, 'the forged announcements to be refused')
    // gossipsub caches a score for a heartbeat (1 s).
    await new Promise(resolve => setTimeout(resolve, 2000))
    await gossip.publish(TOPIC_PRESENCE, codecs.presence, { ...sybilPresence(), multiaddrs: [], roles: ['worker'], startedAtMs: Date.now() + 1 })
    await new Promise(resolve => setTimeout(resolve, 3000))
    assert.deepEqual(await rolesAt(), ['edge'], 'the graylisted peer\'s new presence was ignored')
  })
})
