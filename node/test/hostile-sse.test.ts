/**
 * Stalled dashboard event-stream clients against a real node (security review
 * H7). One address opens 80 `/api/events` streams and never reads them (raw
 * sockets, paused after the first bytes); it used to take all 64 slots and
 * lock every dashboard out. The node must refuse it past its per-address
 * limit (counted), keep serving a dashboard from another address, and keep
 * its RSS bounded.
 */
import assert from 'node:assert/strict'
import { get } from 'node:http'
import { connect } from 'node:net'
import { after, afterEach, before, describe, it } from 'node:test'
import { Cluster, getText } from './helpers/cluster.js'
import { metric, rssMiB } from './helpers/hostile.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { Socket } from 'node:net'

const STALLED = 80
/** The per-address limit the node must keep to (MAX_CLIENTS_PER_IP). */
const PER_IP = 4
const MAX_RSS_GROWTH_MIB = 60

/** Opens an event stream from `localAddress`, resolves with its status once the first bytes arrive, and leaves it unread. */
async function stalledClient (host: string, port: number, localAddress: string, sockets: Socket[]): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress }, () => { s.write(`GET /api/events HTTP/1.1\r\nHost: ${host}\r\n\r\n`) })
    sockets.push(s)
    s.once('data', (chunk: Buffer) => {
      s.pause() // never read again
      resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1'))?.[1] ?? 0))
    })
    s.once('error', reject)
  })
}

/** A dashboard from `localAddress`: the status and the first event it reads. */
async function dashboard (url: URL, localAddress: string): Promise<{ status: number, first: string }> {
  return await new Promise((resolve, reject) => {
    const req = get({ host: url.hostname, port: url.port, path: '/api/events', localAddress, timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        text += d
        const m = /event: (\w+)\n/.exec(text)
        if (m != null || res.statusCode !== 200) {
          resolve({ status: res.statusCode ?? 0, first: m?.[1] ?? text })
          req.destroy()
        }
      })
    })
    req.on('error', reject)
    req.on('timeout', () => { req.destroy(new Error('no event in 10 s')) })
  })
}

describe('stalled dashboard clients (H7)', { timeout: 120_000 }, () => {
  const cluster = new Cluster()
  let node: NodeProcess
  const sockets: Socket[] = []

  before(async () => {
    node = await cluster.start('node', ['--role', 'ingest,edge'])
  })

  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => {
    for (const s of sockets) s.destroy()
    await cluster.close(failed)
  })

  it('one address cannot lock the dashboard out; refusals are counted; RSS bounded', async (t) => {
    const url = new URL((await node.info).http)
    const base = await rssMiB(node.proc.pid!)
    const statuses = await Promise.all(Array.from({ length: STALLED }, async () => await stalledClient(url.hostname, Number(url.port), '127.0.0.1', sockets)))
    const ok = statuses.filter(s => s === 200).length
    const tooMany = statuses.filter(s => s === 429).length
    assert.equal(ok, PER_IP, `accepted from one address: ${ok}`)
    assert.equal(tooMany, STALLED - PER_IP)

    // Another address still gets a live dashboard, now and after a few snapshots went to the stalled ones.
    assert.deepEqual(await dashboard(url, '127.0.0.2'), { status: 200, first: 'snapshot' })
    await new Promise(resolve => setTimeout(resolve, 6000))
    assert.deepEqual(await dashboard(url, '127.0.0.3'), { status: 200, first: 'snapshot' })

    const text = (await getText(`${url.origin}/metrics`)).text
    assert.equal(metric(text, /^diststream_dashboard_clients_refused_total\{why="per_ip"\} (\d+)/m), STALLED - PER_IP)
    const rss = await rssMiB(node.proc.pid!)
    t.diagnostic(`node RSS ${base.toFixed(0)} → ${rss.toFixed(0)} MiB`)
    assert.ok(rss - base < MAX_RSS_GROWTH_MIB, `RSS grew ${(rss - base).toFixed(0)} MiB`)
  })
})
