import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { backoffMs, isRetryable, signWebhook, verifyWebhook, WebhookSender, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../src/index.js'
import type { IncomingMessage, Server } from 'node:http'

const SECRET = 'test-secret'

interface Received { body: string, headers: IncomingMessage['headers'], valid: boolean }

/** A real HTTP receiver that checks signatures and answers with the scripted statuses (then 200). */
function receiver (script: number[]): { server: Server, got: Received[], url: () => string } {
  const got: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      got.push({ body, headers: req.headers, valid: verifyWebhook(SECRET, body, req.headers[SIGNATURE_HEADER] as string | undefined) })
      res.statusCode = script.shift() ?? 200
      res.end()
    })
  })
  return { server, got, url: () => `http://127.0.0.1:${(server.address() as { port: number }).port}/hook` }
}

describe('webhook signatures', () => {
  it('sign and verify agree; a changed body or key fails', () => {
    const sig = signWebhook(SECRET, '{"a":1}')
    assert.match(sig, /^sha256=[0-9a-f]{64}$/)
    assert.ok(verifyWebhook(SECRET, '{"a":1}', sig))
    assert.ok(!verifyWebhook(SECRET, '{"a":2}', sig))
    assert.ok(!verifyWebhook('other', '{"a":1}', sig))
    assert.ok(!verifyWebhook(SECRET, '{"a":1}', undefined))
    assert.ok(!verifyWebhook(SECRET, '{"a":1}', 'sha256=00'))
  })

  it('retry policy: 5xx, 408, 429 retried; other 4xx not; backoff doubles up to a cap', () => {
    assert.ok(isRetryable(500) && isRetryable(503) && isRetryable(429) && isRetryable(408))
    assert.ok(!isRetryable(400) && !isRetryable(404) && !isRetryable(410))
    assert.deepEqual([1, 2, 3, 4, 5].map(n => backoffMs(n, 100, 1000)), [100, 200, 400, 800, 1000])
  })
})

describe('WebhookSender against a local HTTP server', () => {
  const r = receiver([500, 503])
  before(async () => { await new Promise<void>(resolve => r.server.listen(0, '127.0.0.1', resolve)) })
  after(async () => { await new Promise(resolve => r.server.close(resolve)) })

  it('delivers a signed event, retrying after 500 and 503, with the same id and body each time', async () => {
    const results: string[] = []
    const sender = new WebhookSender({ urls: [r.url()], secret: SECRET, baseDelayMs: 20, onResult: (x) => results.push(`${x.outcome}:${x.attempts}`) })
    const ev = sender.send('stream.started', { streamId: 'abc', name: 'show', startedAt: new Date(0).toISOString() })
    assert.ok(ev != null)
    await sender.drain()
    assert.deepEqual(results, ['delivered:3'])
    assert.equal(r.got.length, 3)
    for (const g of r.got) {
      assert.ok(g.valid, 'signature verifies over the raw body')
      assert.equal(g.body, r.got[0]!.body)
      assert.equal(g.headers['content-type'], 'application/json')
      assert.equal(g.headers['x-diststream-event'], 'stream.started')
      assert.equal(g.headers[TIMESTAMP_HEADER], String(ev.timestamp))
    }
    const body = JSON.parse(r.got[0]!.body)
    assert.equal(body.id, ev.id)
    assert.equal(body.type, 'stream.started')
    assert.equal(body.data.streamId, 'abc')
    await sender.stop()
  })

  it('skips events not enabled (segment.ready is opt-in) and gives up after maxAttempts', async () => {
    const before = r.got.length
    const results: string[] = []
    const sender = new WebhookSender({ urls: [r.url()], secret: SECRET, maxAttempts: 2, baseDelayMs: 10, onResult: (x) => results.push(`${x.outcome}:${x.attempts}`) })
    assert.equal(sender.send('segment.ready', { streamId: 'abc', seq: 0, durationMs: 2000, pdtMs: 0, renditions: [] }), undefined)
    await sender.drain()
    assert.equal(r.got.length, before)
    const dead = new WebhookSender({ urls: ['http://127.0.0.1:1/nothing'], maxAttempts: 2, baseDelayMs: 10, onResult: (x) => results.push(`${x.outcome}:${x.attempts}`) })
    dead.send('stream.ended', { streamId: 'abc', name: 'show', endedAt: new Date(0).toISOString(), lastSeq: 3, reason: 'deleted' })
    await dead.drain()
    assert.deepEqual(results, ['failed:2'])
    await sender.stop()
    await dead.stop()
  })
})
