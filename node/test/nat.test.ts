/**
 * Workers and edges behind NAT (issue 12), with real nodes in Linux network
 * namespaces built by the test (helpers/netns.ts): a worker in one home and
 * an edge in another, each behind its own masquerading router that lets
 * nothing in, with `--behind-nat`; a bootstrap (the relay) and an ingest on
 * the public side. The worker holds a relay reservation, bids, gets the
 * segments and returns renditions; the edge fetches the stream and serves a
 * viewer on its own host. Skipped, saying why, where namespaces cannot be
 * made (not root); CI runs as root and installs iptables.
 */
import assert from 'node:assert/strict'
import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, getJson, getText, waitForRoles, waitUntil } from './helpers/cluster.js'
import { NatLab, netnsUnavailable } from './helpers/netns.js'
import { assertContiguous, settledPlaylist } from './helpers/playback.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { NatHome } from './helpers/netns.js'

const SEGMENT_SECONDS = 2
const PUBLISH_SECONDS = 12

/** The node's address on the link to `home` (it listens on 0.0.0.0, so every interface's address is listed). */
async function addrOn (node: NodeProcess, home: NatHome): Promise<string> {
  const i = await node.info
  const a = i.multiaddrs.find(m => m.startsWith(`/ip4/${home.publicAddr}/tcp/`))
  if (a == null) throw new Error(`${node.name} has no address on ${home.publicAddr}: ${i.multiaddrs.join(' ')}`)
  return a.includes('/p2p/') ? a : `${a}/p2p/${i.peerId}`
}

/** Whether a TCP connection to host:port opens within 2 s (a NATed host must not be reachable from outside). */
async function reachable (host: string, port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = connect({ host, port, timeout: 2000 })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('timeout', () => { s.destroy(); resolve(false) })
    s.once('error', () => { resolve(false) })
  })
}

describe('workers and edges behind NAT', { timeout: 240_000 }, async () => {
  const why = await netnsUnavailable()
  const cluster = new Cluster({ exclusive: true })
  const lab = new NatLab()
  const ffmpeg = resolveFfmpeg()
  let work = ''
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    await cluster.close(failed, ...(work !== '' ? [work] : []))
    await lab.destroy()
  })

  let homeW: NatHome
  let homeE: NatHome
  let homeI: NatHome
  let ingest: NodeProcess
  let worker: NodeProcess
  let edge: NodeProcess
  before(async () => {
    if (why != null) return
    work = await mkdtemp(join(tmpdir(), 'ds-nat-'))
    // The homes first: the public nodes listen on 0.0.0.0 and list the links' addresses.
    homeW = await lab.home(1)
    homeE = await lab.home(2)
    homeI = await lab.home(3)
    // --allow-private-addrs: this lab's "public" side is 10.77.k.0/24 (RFC 1918) and its homes 192.168.k.0/24;
    // a node listening on 0.0.0.0 otherwise dials no private address (review M1, PROTOCOL.md §9.5), so none
    // would reach its bootstrap. A real deployment's bootstrap and public nodes have public addresses.
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--listen', '/ip4/0.0.0.0/tcp/0', '--allow-private-addrs']
    const boot = await cluster.start('bootstrap', ['--role', 'bootstrap', ...common])
    ingest = await cluster.start('ingest', ['--role', 'ingest', '--bootstrap', await boot.bootstrapAddr(), ...common])
    worker = await cluster.start('worker', ['--role', 'worker', '--behind-nat', '--max-jobs', '2', '--bootstrap', await addrOn(boot, homeW), ...common], {}, { netns: homeW.ns })
    edge = await cluster.start('edge', ['--role', 'edge', '--behind-nat', '--bootstrap', await addrOn(boot, homeE), ...common], {}, { netns: homeE.ns })
  })

  it('a NATed worker transcodes over its own outbound connection, a NATed edge serves its host', { skip: why }, async (t) => {
    // The NAT is real: the public side cannot open a connection to the worker's libp2p port.
    const workerPort = Number((await worker.info).multiaddrs.find(m => m.startsWith(`/ip4/${homeW.hostAddr}/tcp/`))?.split('/')[4])
    assert.ok(workerPort > 0, 'the worker listens on its home address')
    assert.equal(await reachable(homeW.hostAddr, workerPort), false, 'nothing reaches a host behind the NAT')

    const { http, rtmpPort } = await ingest.info
    await waitForRoles(http, { worker: 1, edge: 1 }, 60_000)
    // The worker holds a relay reservation on the bootstrap: it lists a /p2p-circuit address (asked on its own host).
    const workerHttp = (await worker.info).http
    const circuit = await waitUntil(async () => {
      const out = await lab.exec(homeW.ns, process.execPath, ['-e', `fetch(${JSON.stringify(`${workerHttp}/api/node`)}).then(r => r.json()).then(b => console.log(JSON.stringify(b.multiaddrs)))`])
      return (JSON.parse(out) as string[]).find(m => m.includes('/p2p-circuit'))
    }, 30_000, 'a relayed address on the NATed worker')
    t.diagnostic(`worker's relayed address: ${circuit}`)

    const created = await createStream(http, 'behind-nat', cluster.apiToken)
    const source = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 15, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS })
    assert.equal(await source.done, 0)
    const segments = Math.round(PUBLISH_SECONDS / SEGMENT_SECONDS)

    // Every segment transcoded by the NATed worker.
    const workerId = (await worker.info).peerId
    const done = await waitUntil(async () => {
      const jobs = (await getJson(`${http}/api/jobs?limit=100`)).body as Array<{ streamId: string, state: string, worker?: string }>
      const ok = jobs.filter(j => j.streamId === created.id && j.state === 'done')
      return ok.length >= segments - 1 ? ok : undefined
    }, 60_000, 'the NATed worker to transcode the segments')
    assert.ok(done.every(j => j.worker === workerId), `every job done by the NATed worker: ${JSON.stringify(done.map(j => j.worker))}`)

    // A viewer on the edge's own host plays the 240p rung to its end.
    const edgeHttp = (await edge.info).http
    const playlist = `${edgeHttp}/live/${created.id}/240p/index.m3u8`
    const listed = await waitUntil(async () => {
      const out = await lab.exec(homeE.ns, process.execPath, ['-e', `fetch(${JSON.stringify(playlist)}).then(r => r.text()).then(t => process.stdout.write(t))`])
      return out.includes('#EXT-X-ENDLIST') ? out : undefined
    }, 60_000, 'the NATed edge to list the whole stream')
    assert.ok(!listed.includes('#EXT-X-GAP'), 'no gap at the NATed edge')
    const decoded = await lab.exec(homeE.ns, ffmpeg.ffmpeg, ['-v', 'error', '-i', playlist, '-map', '0:v', '-f', 'null', '-'], 60_000)
    assert.equal(decoded.trim(), '')
  })

  it('a broadcaster\'s ingest behind NAT: public workers and edges reach it through the relay, then directly (DCUtR)', { skip: why }, async (t) => {
    const home = homeI
    const boot = cluster.nodes.find(n => n.name === 'bootstrap')!
    const common = ['--segment-seconds', String(SEGMENT_SECONDS), '--ladder', '240p', '--listen', '/ip4/0.0.0.0/tcp/0', '--allow-private-addrs']
    const homeIngest = await cluster.start('home-ingest', ['--role', 'ingest', '--behind-nat', '--bootstrap', await addrOn(boot, home), ...common], {}, { netns: home.ns })
    const bootAddr = await boot.bootstrapAddr()
    await cluster.start('public-worker', ['--role', 'worker', '--max-jobs', '2', '--bootstrap', bootAddr, ...common])
    const publicEdge = await cluster.start('public-edge', ['--role', 'edge', '--bootstrap', bootAddr, ...common])
    const { http, rtmpPort } = await homeIngest.info
    const api = async (method: string, path: string, body?: unknown): Promise<any> => JSON.parse(await lab.exec(home.ns, process.execPath, ['-e',
      `fetch(${JSON.stringify(http + path)}, { method: ${JSON.stringify(method)}, headers: { authorization: 'Bearer ${cluster.apiToken}', 'content-type': 'application/json' }${body != null ? `, body: ${JSON.stringify(JSON.stringify(body))}` : ''} }).then(r => r.text()).then(t => process.stdout.write(t))`]))
    await waitUntil(async () => (await api('GET', '/api/node')).peers.some((p: any) => p.roles.includes('worker') && p.connected), 60_000, 'the home ingest to see the public worker')
    const created = await api('POST', '/api/streams', { name: 'from-home' })
    // The broadcaster's encoder runs at home too: a wrapper that runs ffmpeg in the home's namespace.
    const wrapper = join(work, 'ffmpeg-at-home.sh')
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${home.ns} ${ffmpeg.ffmpeg} "$@"\n`)
    await chmod(wrapper, 0o755)
    const source = startTestSource({ ffmpegPath: wrapper, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 640, height: 360, fps: 15, gopSeconds: SEGMENT_SECONDS, durationSec: PUBLISH_SECONDS, overlay: false })
    assert.equal(await source.done, 0)

    // The public edge plays the whole stream, transcoded, without a gap.
    const edgeHttp = (await publicEdge.info).http
    // A viewer asks the public edge first: it finds the stream (gossip or the DHT) and follows it.
    await waitUntil(async () => (await getText(`${edgeHttp}/live/${created.id}/index.m3u8`)).status === 200 || undefined, 60_000, 'the public edge to serve the stream')
    const playlist = await settledPlaylist(edgeHttp, created.id, '240p', Math.round(PUBLISH_SECONDS / SEGMENT_SECONDS) - 1, 90_000)
    assertContiguous(playlist.segments, 'home stream at the public edge')
    t.diagnostic(`240p segments at the public edge: ${playlist.segments.length}`)
    // Segment bytes never crossed the relay: its data limit is 128 KiB, and a rendition segment alone is larger.
    const jobs = await api('GET', '/api/jobs?limit=100') as Array<{ streamId: string, state: string }>
    assert.ok(jobs.filter(j => j.streamId === created.id && j.state === 'done').length >= 1, 'jobs of the home ingest transcoded by a public worker')
  })
})
