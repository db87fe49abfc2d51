import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { streamPair } from '@libp2p/utils'
import { codecs, MessageChannel } from '../src/index.js'
import * as fx from './fixtures.js'

describe('MessageChannel onMessage (the node\'s message counters)', { timeout: 20_000 }, () => {
  it('counts each typed message once where written and once where read; byte chunks are not messages', async () => {
    const [a, b] = await streamPair()
    const seen: string[] = []
    const ingest = new MessageChannel(a, { onMessage: d => { seen.push(`ingest ${d}`) } })
    const worker = new MessageChannel(b, { onMessage: d => { seen.push(`worker ${d}`) } })
    const req = fx.transcodeRequest()
    const size = Math.min(req.segmentSize, 1000)
    const reading = (async () => {
      await worker.read(codecs.transcodeRequest)
      await worker.readBytes(size)
    })()
    await ingest.write(codecs.transcodeRequest, req)
    await ingest.writeBytes(new Uint8Array(size))
    await reading
    assert.deepEqual(seen.sort(), ['ingest out', 'worker in'])
  })
})
