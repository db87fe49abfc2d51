import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EDGE_DEFAULTS } from '@diststream/edge/defaults'
import { INGEST_DEFAULTS } from '@diststream/ingest/defaults'
import yargs from 'yargs'
import { ConfigError, nodeOptions, parseConfig } from '../src/config.js'
import { NODE_DEFAULTS } from '../src/defaults.js'

describe('config', () => {
  it('has the documented defaults', async () => {
    const c = await parseConfig([])
    assert.deepEqual(c.roles, ['ingest', 'worker', 'edge'])
    assert.deepEqual(c.listen, ['/ip4/0.0.0.0/tcp/4001'])
    assert.equal(c.httpPort, 8080)
    assert.equal(c.rtmpPort, 1935)
    assert.equal(c.segmentSeconds, 2)
    assert.deepEqual(c.ladder.map(r => r.name), ['720p', '480p', '360p'])
    assert.match(c.dataDir, /\.diststream$/)
    assert.deepEqual(c.maxRungSize, { width: 1920, height: 1080 })
    assert.equal(c.lowLatency, false)
  })

  it('--allow-private-addrs: unset by default (decided from the addresses), or forced either way', async () => {
    assert.equal((await parseConfig([])).allowPrivateAddrs, undefined)
    assert.equal((await parseConfig(['--allow-private-addrs'])).allowPrivateAddrs, true)
    assert.equal((await parseConfig(['--no-allow-private-addrs'])).allowPrivateAddrs, false)
  })

  it('--low-latency makes 1 s segments the default; an explicit --segment-seconds still wins', async () => {
    const ll = await parseConfig(['--low-latency'])
    assert.equal(ll.lowLatency, true)
    assert.equal(ll.segmentSeconds, 1)
    const explicit = await parseConfig(['--low-latency', '--segment-seconds', '2'])
    assert.equal(explicit.segmentSeconds, 2)
    assert.equal(explicit.lowLatency, true)
  })

  it('takes repeatable flags and DISTSTREAM_* environment variables', async () => {
    process.env.DISTSTREAM_HTTP_PORT = '9123'
    process.env.DISTSTREAM_LADDER = '1080p,240p'
    try {
      const c = await parseConfig(['--role', 'worker,edge', '--listen', '/ip4/127.0.0.1/tcp/1', '--listen', '/ip4/127.0.0.1/tcp/2', '--http-port', '0'])
      assert.deepEqual(c.roles, ['worker', 'edge'])
      assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
      assert.equal(c.httpPort, 0, 'a flag beats the environment')
      assert.deepEqual(c.ladder.map(r => r.name), ['1080p', '240p'])
    } finally {
      delete process.env.DISTSTREAM_HTTP_PORT
      delete process.env.DISTSTREAM_LADDER
    }
  })

  it('rejects bad values with a clear message', async () => {
    const bad: Array<[string[], RegExp]> = [
      [['--role', 'ingest,cdn'], /--role/],
      [['--bootstrap', '/ip4/127.0.0.1/tcp/4001'], /\/p2p\//],
      [['--http-port', '70000'], /--http-port/],
      [['--segment-seconds', '0'], /--segment-seconds/],
      [['--ladder', '4k'], /--ladder/],
      [['--max-jobs', '0'], /--max-jobs/],
      [['--api-token', 'short'], /--api-token/],
      [['--max-rung-size', '1920'], /--max-rung-size/],
      [['--max-rung-size', '99999x10'], /--max-rung-size/],
      [['--api-token', 'has spaces in the token here'], /--api-token/]
    ]
    for (const [argv, msg] of bad) {
      await assert.rejects(parseConfig(argv), (err: Error) => err.name === ConfigError.NAME && msg.test(err.message), argv.join(' '))
    }
  })

  it('takes the API token from --api-token or DISTSTREAM_API_TOKEN, else leaves it to the data dir', async () => {
    assert.equal((await parseConfig([])).apiToken, undefined)
    assert.equal((await parseConfig(['--api-token', 'flag-token-0123456789'])).apiToken, 'flag-token-0123456789')
    process.env.DISTSTREAM_API_TOKEN = 'env-token-0123456789'
    try {
      assert.equal((await parseConfig([])).apiToken, 'env-token-0123456789')
      assert.equal((await parseConfig(['--api-token', 'flag-token-0123456789'])).apiToken, 'flag-token-0123456789', 'a flag beats the environment')
    } finally {
      delete process.env.DISTSTREAM_API_TOKEN
    }
  })
})

describe('config: delivery, lifecycle and webhook options', () => {
  it('has defaults and takes repeatable webhooks and the secret from the environment', async () => {
    const d = await parseConfig([])
    assert.equal(d.dvrRetentionSeconds, 3600)
    assert.equal(d.staleStreamSeconds, 120)
    assert.equal(d.edgeCacheMb, 256)
    assert.deepEqual(d.webhooks, [])
    assert.deepEqual(d.webhookEvents, ['stream.started', 'stream.ended', 'vod.ready'])
    process.env.DISTSTREAM_WEBHOOK_SECRET = 's3cret'
    try {
      const c = await parseConfig(['--webhook', 'http://127.0.0.1:9/a', '--webhook', 'https://example.com/b', '--webhook-events', 'stream.ended,segment.ready', '--dvr-retention-seconds', '60'])
      assert.deepEqual(c.webhooks, ['http://127.0.0.1:9/a', 'https://example.com/b'])
      assert.equal(c.webhookSecret, 's3cret')
      assert.deepEqual(c.webhookEvents, ['stream.ended', 'segment.ready'])
      assert.equal(c.dvrRetentionSeconds, 60)
    } finally {
      delete process.env.DISTSTREAM_WEBHOOK_SECRET
    }
  })

  it('rejects bad values with a clear message', async () => {
    const bad: Array<[string[], RegExp]> = [
      [['--webhook', 'ftp://example.com/x'], /--webhook/],
      [['--webhook', 'not a url'], /--webhook/],
      [['--webhook-events', 'stream.started,stream.exploded'], /--webhook-events.*stream\.exploded/],
      [['--dvr-retention-seconds', '0'], /--dvr-retention-seconds/],
      [['--stale-stream-seconds', '-1'], /--stale-stream-seconds/],
      [['--edge-cache-mb', '0'], /--edge-cache-mb/]
    ]
    for (const [argv, msg] of bad) {
      await assert.rejects(parseConfig(argv), (err: Error) => err.name === ConfigError.NAME && msg.test(err.message), argv.join(' '))
    }
  })
})

describe('defaults', () => {
  it('--help prints exactly the one defaults table, and the roles agree with it', async () => {
    const help = await nodeOptions(yargs([])).wrap(null).getHelp()
    const printed = new Map<string, unknown>()
    for (const m of help.matchAll(/^\s*--([a-z-]+)\s.*\[default: (.*)\]\s*$/gm)) printed.set(m[1]!, JSON.parse(m[2]!))
    for (const [name, value] of Object.entries(NODE_DEFAULTS)) {
      assert.deepEqual(printed.get(name), value, `--${name}: --help prints ${JSON.stringify(printed.get(name))}, the table says ${JSON.stringify(value)}`)
    }
    // Every option --help gives a default for is in the table (a new one cannot bypass it).
    assert.deepEqual([...printed.keys()].filter(k => !(k in NODE_DEFAULTS)), [])
    // The role-backed ones are the roles' own defaults.
    assert.equal(NODE_DEFAULTS.container, INGEST_DEFAULTS.container)
    assert.equal(NODE_DEFAULTS['max-queue-seconds'] * 1000, INGEST_DEFAULTS.maxQueueMs)
    assert.equal(NODE_DEFAULTS['stale-stream-seconds'] * 1000, EDGE_DEFAULTS.staleMs)
    assert.equal(NODE_DEFAULTS['playlist-window'], EDGE_DEFAULTS.playlistWindow)
  })
})
