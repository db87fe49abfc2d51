/**
 * Hostile HTTP input against a real `diststream-node` process (ingest + edge):
 * the API token on the mutating API, and a table of traversal paths, absurd
 * ids and numbers, bad and oversized bodies over every route. Requests go out
 * through node:http with the path exactly as written (fetch would normalise
 * `..` away before sending).
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { stat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { callApi, Cluster, getJson } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'
import type { Socket } from 'node:net'

interface RawResponse { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** Body bytes handed to the socket at a time (so the client can stop once the server has answered). */
const BODY_CHUNK = 64 * 1024

/** A write the server ended by closing: the rest of the body is not wanted. */
const isClosedByPeer = (err: NodeJS.ErrnoException | null | undefined): boolean => err?.code === 'EPIPE' || err?.code === 'ECONNRESET'

/**
 * Keeps reading a socket whose write failed, as browsers do: a server that
 * refuses a body (413, 401) answers and closes without reading the rest, so
 * a write of the rest fails (EPIPE, ECONNRESET) while the answer still waits
 * in the socket. Node would mark the whole socket failed on that write error
 * and never read the answer; here such a write counts as done (its bytes, and
 * any later ones, dropped), so reading goes on to the answer and then to the
 * end or error of the connection.
 */
function keepReadingAfterWriteError (socket: Socket): void {
  let closed = false
  const done = (cb: (err?: Error | null) => void) => (err?: Error | null): void => {
    if (isClosedByPeer(err)) closed = true
    cb(closed ? null : err)
  }
  const write = socket._write.bind(socket)
  socket._write = (chunk, encoding, cb) => { if (closed) cb(); else write(chunk, encoding, done(cb)) }
  const writev = socket._writev?.bind(socket)
  if (writev != null) socket._writev = (chunks, cb) => { if (closed) cb(); else writev(chunks, done(cb)) }
}

/**
 * One HTTP request with the path sent byte for byte as given. It reads the
 * server's answer while it sends the body, stops sending once the answer is
 * in, and takes that answer even when sending failed (see above).
 */
async function raw (base: string, method: string, path: string, opts: { headers?: Record<string, string>, body?: string | Buffer } = {}): Promise<RawResponse> {
  const url = new URL(base)
  const body = opts.body != null ? Buffer.from(opts.body) : undefined
  // Always frame the body (Node sends DELETE bodies unframed otherwise).
  const headers = { ...opts.headers, ...(body != null ? { 'content-length': String(body.byteLength) } : {}) }
  return await new Promise((resolve, reject) => {
    let answered = false
    const req = request({ host: url.hostname, port: url.port, method, path, headers, timeout: 15_000, agent: false }, (res) => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
        // The unsent rest of a refused body is not wanted: close rather than leave the request half-written.
        req.destroy()
      })
      res.on('error', reject)
    })
    req.on('socket', keepReadingAfterWriteError)
    req.on('timeout', () => {
      const err = new Error(`${method} ${path}: timed out`)
      reject(err)
      req.destroy(err)
    })
    // Before an answer, a broken connection is a failure; after it, the server closing as it said it would.
    req.on('error', (err) => { if (!answered) reject(err) })
    const send = (at: number): void => {
      while (body != null && at < body.byteLength && !answered && !req.destroyed) {
        const chunk = body.subarray(at, at + BODY_CHUNK)
        at += chunk.byteLength
        if (!req.write(chunk)) {
          req.once('drain', () => { send(at) })
          return
        }
      }
      if (!answered && !req.destroyed) req.end()
    }
    send(0)
  })
}

/** Ids that must never reach a handler as-is: traversal, encodings of it, NUL, absurd lengths. */
const BAD_IDS = [
  '..', '.', '%2e%2e', '%2E%2E', '..%2f..%2f..%2fetc%2fpasswd', '..%2F..%2Fetc', '%2e%2e%2f%2e%2e%2fetc',
  '..%5c..%5cwindows', 'a%5cb', 'a\\b', 'a%00b', '%00', 'x'.repeat(65), 'x'.repeat(5000),
  '%zz', '%', 'a%20b', '%C3%A9', '%ff%fe', 'a;b', '$(id)', '*', '%2f', 'a%2fb', '....%2f%2f'
]

describe('hostile HTTP input (a real node process)', { timeout: 120_000 }, () => {
  const cluster = new Cluster()
  let node: NodeProcess
  let http: string
  let streamId: string
  let token: string

  before(async () => {
    node = await cluster.start('target', ['--role', 'ingest,edge'])
    http = (await node.info).http
    token = cluster.apiToken
    const created = await createStream(http, 'victim', token)
    streamId = created.id
  })

  after(async () => { await cluster.stop() })

  describe('API token', () => {
    it('refuses POST and DELETE without a token or with a wrong one: 401, WWW-Authenticate: Bearer, JSON error', async () => {
      const cases: Array<[string, string, Record<string, string>]> = [
        ['POST', '/api/streams', {}],
        ['POST', '/api/streams', { authorization: 'Bearer wrong-token-0123456789' }],
        ['POST', '/api/streams', { authorization: `Bearer ${token}x` }],
        ['POST', '/api/streams', { authorization: `Bearer ${token.slice(0, -1)}` }],
        ['POST', '/api/streams', { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }],
        ['POST', '/api/streams', { authorization: token }],
        ['POST', '/api/streams', { authorization: 'Bearer' }],
        ['POST', '/api/streams', { authorization: 'Bearer ' }],
        ['DELETE', `/api/streams/${streamId}`, {}],
        ['DELETE', `/api/streams/${streamId}`, { authorization: 'Bearer nope-nope-nope-nope' }],
        // Any method but GET/HEAD, on any path under /api, including routes that do not exist (yet).
        ['PUT', `/api/streams/${streamId}`, {}],
        ['PATCH', `/api/streams/${streamId}`, {}],
        ['POST', '/api/some-future-route', {}],
        ['DELETE', '/api/jobs', {}],
        ['POST', '/api', {}],
        ['POST', '/API/streams', {}],
        ['POST', '//api/streams', {}],
        ['POST', '/%61pi/streams', {}]
      ]
      for (const [method, path, headers] of cases) {
        const res = await raw(http, method, path, { headers: { 'content-type': 'application/json', ...headers }, body: '{"name":"intruder"}' })
        const what = `${method} ${path} ${JSON.stringify(headers)}`
        // Paths that do not route to /api may 404; what matters is that nothing is created.
        if (res.status !== 404) {
          assert.equal(res.status, 401, `${what}: ${res.status} ${res.body}`)
          assert.match(String(res.headers['www-authenticate']), /^Bearer /, what)
        }
        assert.equal(typeof JSON.parse(res.body).error, 'string', what)
      }
      const list = await getJson(`${http}/api/streams`, { headers: { authorization: `Bearer ${cluster.apiToken}` } })
      assert.deepEqual(list.body.map((s: any) => s.name), ['victim'], 'no stream was created or deleted without the token')
      assert.deepEqual((await getJson(`${http}/api/streams`)).body, [], 'an unpublished stream is not listed without the token (its id stays private)')
      assert.equal(list.body[0].state, 'idle')
    })

    it('leaves playback, /healthz, /metrics and GET APIs public', async () => {
      for (const path of ['/healthz', '/metrics', '/api/node', '/api/streams', `/api/streams/${streamId}`, '/api/jobs', '/']) {
        const res = await raw(http, 'GET', path)
        assert.equal(res.status, 200, `GET ${path}: ${res.body.slice(0, 200)}`)
        assert.equal((await raw(http, 'HEAD', path)).status, 200, `HEAD ${path}`)
      }
      // Playback is public too: an unknown stream is a 404 (not a 401).
      assert.equal((await raw(http, 'GET', '/live/nosuchstream/index.m3u8')).status, 404)
    })

    it('accepts the right token (scheme case-insensitive)', async () => {
      const res = await raw(http, 'POST', '/api/streams', { headers: { 'content-type': 'application/json', authorization: `bearer ${token}` }, body: '{"name":"with token"}' })
      assert.equal(res.status, 201, res.body)
      const del = await callApi(`${http}/api/streams/${JSON.parse(res.body).id}`, 'DELETE', token)
      assert.equal(del.status, 200)
    })

    it('generates a token on first start, stores it with mode 0600, prints it once, keeps it across restarts', async () => {
      const fresh = await cluster.start('generated', ['--role', 'edge'], { DISTSTREAM_API_TOKEN: '' })
      const file = join(fresh.dataDir, 'api-token')
      const st = await stat(file)
      assert.equal(st.mode & 0o777, 0o600, 'token file mode')
      const stored = (await readFile(file, 'utf8')).trim()
      assert.ok(Buffer.from(stored, 'base64url').byteLength >= 16, 'at least 128 bits')
      const printed = fresh.logs.filter(l => l.includes(stored))
      assert.equal(printed.length, 1, 'printed once on creation')
      const fhttp = (await fresh.info).http
      // The edge-only node has no ingest, but the token check comes first.
      assert.equal((await raw(fhttp, 'POST', '/api/streams', { headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' })).status, 401)
      assert.equal((await callApi(`${fhttp}/api/streams`, 'POST', stored, { name: 'x' })).status, 404, 'with the stored token: past auth, no ingest role here')
      await fresh.kill()
      const again = await cluster.start('generated', ['--role', 'edge'], { DISTSTREAM_API_TOKEN: '' })
      assert.equal((await readFile(file, 'utf8')).trim(), stored, 'same token after a restart')
      assert.equal(again.logs.filter(l => l.includes(stored)).length, 0, 'not printed again')
      assert.equal((await callApi(`${(await again.info).http}/api/streams`, 'POST', stored, { name: 'x' })).status, 404)
      await again.kill()
    })
  })

  describe('every route with hostile input gets 4xx with a JSON error, never 500', () => {
    const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` })

    interface Case { method: string, path: string, headers?: Record<string, string>, body?: string | Buffer, expect?: number[] }
    const cases = (): Case[] => {
      const list: Case[] = []
      for (const id of BAD_IDS) {
        list.push({ method: 'GET', path: `/api/streams/${id}` })
        list.push({ method: 'DELETE', path: `/api/streams/${id}`, headers: auth() })
        list.push({ method: 'GET', path: `/live/${id}/index.m3u8` })
        list.push({ method: 'GET', path: `/live/${streamId}/${id}/index.m3u8` })
        list.push({ method: 'GET', path: `/live/${id}/source/0.ts` })
        list.push({ method: 'GET', path: `/live/${streamId}/${id}/0.ts` })
        list.push({ method: 'GET', path: `/live/${streamId}/source/${id}.ts` })
        list.push({ method: 'GET', path: `/live/${streamId}/source/${id}` })
      }
      // Raw traversal the router sees unnormalised.
      for (const p of ['/live/../../../../etc/passwd', '/live/..\\..\\etc\\passwd', `/live/${streamId}/../../../etc/passwd`, `/live/${streamId}/source/../../../../etc/passwd.ts`, '/api/streams/../../etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/live/%2e%2e/%2e%2e/api-token', `/live/${streamId}/source/..%2f..%2f..%2fapi-token`]) {
        list.push({ method: 'GET', path: p })
      }
      // Absurd numbers.
      for (const seg of ['-1.ts', '1e9.ts', '99999999999999999999.ts', '9007199254740993.ts', '0x10.ts', '1.5.ts', 'NaN.ts', 'Infinity.ts', '1.ts%00', '1.m3u8', '.ts', '%31.ts%2f']) {
        list.push({ method: 'GET', path: `/live/${streamId}/source/${seg}`, expect: [400, 404] })
      }
      for (const q of ['limit=-1', 'limit=1e9', 'limit=abc', 'limit=99999999999999999999', 'limit=1&limit=2', 'limit=%00', 'limit=', 'limit=1000', 'limit=%2e%2e']) {
        list.push({ method: 'GET', path: `/api/jobs?${q}` })
      }
      // Bad and oversized bodies.
      const json = { 'content-type': 'application/json', ...auth() }
      for (const body of ['{', '[]', 'null', '"name"', '5', '{"name":""}', `{"name":"${'x'.repeat(201)}"}`, '{"name":5}', '{"name":null}', '{"name":["a"]}',
        '{"name":{"$gt":""}}', '{"name":"a","extra":1}', '{"__proto__":{"polluted":1},"name":"a"}', '{"constructor":{"prototype":{"polluted":1}},"name":"a"}', '{}', '{"name":"a"}{"name":"b"}', '\u0000', '{"name":"\\ud800"}', '{"name":"a\\u0000b"}', '{"name":"line\\nbreak"}']) {
        list.push({ method: 'POST', path: '/api/streams', headers: json, body })
      }
      list.push({ method: 'POST', path: '/api/streams', headers: json, body: '' })
      list.push({ method: 'POST', path: '/api/streams', headers: json, body: JSON.stringify({ name: 'x'.repeat(200 * 1024) }), expect: [413] })
      list.push({ method: 'POST', path: '/api/streams', headers: json, body: Buffer.alloc(2 * 1024 * 1024, 0x20), expect: [413] })
      list.push({ method: 'POST', path: '/api/streams', headers: { 'content-type': 'text/plain', ...auth() }, body: 'name=x', expect: [400, 415] })
      list.push({ method: 'POST', path: '/api/streams', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth() }, body: 'name=x', expect: [415] })
      list.push({ method: 'POST', path: `/api/streams/${streamId}`, headers: json, body: '{"name":"a"}', expect: [404] })
      list.push({ method: 'DELETE', path: '/api/streams/nosuchstream', headers: auth(), expect: [404] })
      list.push({ method: 'GET', path: '/api/streams/nosuchstream', expect: [404] })
      list.push({ method: 'GET', path: `/${'a/'.repeat(2000)}`, expect: [404, 414] })
      return list
    }

    it('answers the whole table', async () => {
      const table = cases()
      const failures: string[] = []
      for (const c of table) {
        const res = await raw(http, c.method, c.path, { headers: c.headers, body: c.body })
        const ok = c.expect ?? [400, 404]
        const what = `${c.method} ${c.path.slice(0, 120)} ${typeof c.body === 'string' ? c.body.slice(0, 60) : c.body != null ? `<${c.body.byteLength} bytes>` : ''}`
        let error: unknown
        try { error = JSON.parse(res.body).error } catch { /* not JSON: asserted below */ }
        if (!ok.includes(res.status) || typeof error !== 'string' || error === '') failures.push(`${what} → ${res.status} ${res.body.slice(0, 160)}`)
      }
      assert.deepEqual(failures, [], `${failures.length} of ${table.length} hostile requests answered wrongly`)
    })

    it('created, deleted, leaked and polluted nothing; the node still serves', async () => {
      const list = await getJson(`${http}/api/streams`, { headers: { authorization: `Bearer ${cluster.apiToken}` } })
      assert.deepEqual(list.body.filter((s: any) => s.state !== 'ended').map((s: any) => s.name), ['victim'], 'nothing created, the victim not deleted')
      assert.deepEqual(list.body.map((s: any) => s.name).sort(), ['victim', 'with token'])
      assert.equal(({} as any).polluted, undefined)
      assert.equal((await getJson(`${http}/healthz`)).status, 200)
      const metrics = (await raw(http, 'GET', '/metrics')).body
      assert.match(metrics, /^diststream_peers \d+/m)
      // The token file and the peer key sit in the data dir: no route hands them out.
      const me = await getJson(`${http}/api/node`)
      assert.equal(JSON.stringify(me.body).includes(token), false)
      await createStream(http, 'after the storm', token) // throws unless 201
    })
  })
})
