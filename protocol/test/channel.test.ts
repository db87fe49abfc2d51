import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { lpStream, streamPair } from '@libp2p/utils'
import {
  codecs, isProtocolError, MAX_CHUNK_BYTES, MAX_CONTROL_BYTES, MessageChannel, TranscodeResponse, withTimeout
} from '../src/index.js'
import * as pb from '../src/pb/messages.js'
import * as fx from './fixtures.js'
import type { ProtocolErrorReason } from '../src/index.js'

const MiB = 1024 * 1024

async function rejectsWith (p: Promise<unknown>, reason: ProtocolErrorReason): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isProtocolError(err), `expected ProtocolError(${reason}), got ${String(err)}`)
    assert.equal(err.reason, reason, err.message)
    return true
  })
}

function uvarint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return new Uint8Array(out)
}

async function waitFor (cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await sleep(5)
  }
}

function bytes (n: number): Uint8Array {
  return new Uint8Array(randomBytes(n))
}

describe('MessageChannel over streamPair()', { timeout: 20_000 }, () => {
  it('a transcode exchange: request + 3 MiB in, response + renditions out', async () => {
    const [a, b] = await streamPair()
    const ingest = new MessageChannel(a)
    const worker = new MessageChannel(b)
    const req = fx.transcodeRequest()
    const segment = bytes(req.segmentSize)
    assert.equal(segment.byteLength, 3 * MiB)
    const outputs = [bytes(1_512_340), bytes(801_220)]

    const workerSide = (async () => {
      const got = await worker.read(codecs.transcodeRequest)
      assert.deepEqual(got, req)
      const body = await worker.readBytes(got.segmentSize)
      assert.ok(Buffer.from(body).equals(segment))
      const res = fx.transcodeResponse()
      res.renditions.forEach((r, i) => { r.size = outputs[i]!.byteLength })
      await worker.write(codecs.transcodeResponse, res)
      for (const o of outputs) await worker.writeBytes(o)
      await worker.close()
    })()

    await ingest.write(codecs.transcodeRequest, req)
    await ingest.writeBytes(segment)
    const res = await ingest.read(codecs.transcodeResponse)
    assert.equal(res.status, TranscodeResponse.Status.OK)
    for (const [i, r] of res.renditions.entries()) {
      const body = await ingest.readBytes(r.size)
      assert.ok(Buffer.from(body).equals(outputs[i]!))
    }
    await ingest.close()
    await workerSide
    await rejectsWith(ingest.read(codecs.bidAck), 'unexpected_end') // the worker closed
  })

  it('a frame longer than maxDataLength is too_large, before its body arrives', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    a.send(uvarint(MAX_CONTROL_BYTES + 1)) // length prefix only
    await rejectsWith(ch.read(codecs.bid), 'too_large')
  })

  it('an unterminated length prefix is too_large at once, not left to the deadline', async () => {
    for (const n of [4, 12, 64]) {
      const [a, b] = await streamPair()
      const ch = new MessageChannel(b)
      a.send(new Uint8Array(n).fill(0xff)) // continuation bits forever; the stream stays open
      // A deadline far beyond the test's: only an early refusal passes.
      await rejectsWith(ch.read(codecs.bid, { signal: withTimeout(60_000) }), 'too_large')
    }
  })

  it('a non-minimal length prefix is malformed', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    a.send(new Uint8Array([0x85, 0x00, 1, 2, 3, 4, 5]))
    await rejectsWith(ch.read(codecs.bid, { signal: withTimeout(60_000) }), 'malformed')
  })

  it('reports every ProtocolError it throws to onProtocolError, and nothing else', async () => {
    const [a, b] = await streamPair()
    const seen: string[] = []
    const ch = new MessageChannel(b, { onProtocolError: (err) => { seen.push(err.reason) } })
    await lpStream(a).write(Uint8Array.of(0x0a, 0x05, 0x61)) // field 1 claims 5 bytes, has 1: not protobuf
    await rejectsWith(ch.read(codecs.bid), 'malformed')
    a.send(uvarint(MAX_CONTROL_BYTES + 1))
    await rejectsWith(ch.read(codecs.bid), 'too_large')
    const local = new Error('local abort')
    const ac = new AbortController()
    ac.abort(local)
    await assert.rejects(ch.read(codecs.bid, { signal: ac.signal }), (err: unknown) => err === local)
    assert.deepEqual(seen, ['malformed', 'too_large'])
  })

  it('a data frame over MAX_CHUNK_BYTES is too_large', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    await lpStream(a).write(bytes(MAX_CHUNK_BYTES + 1))
    await rejectsWith(ch.readBytes(2 * MAX_CHUNK_BYTES), 'too_large')
  })

  it('readBytes refuses sizes over MAX_SEGMENT_BYTES without reading', async () => {
    const [, b] = await streamPair()
    await rejectsWith(new MessageChannel(b).readBytes(64 * MiB + 1), 'too_large')
    assert.deepEqual(await new MessageChannel(b).readBytes(0), new Uint8Array(0))
  })

  it('a stream closed early is unexpected_end', async () => {
    const [a, b] = await streamPair()
    const sender = new MessageChannel(a)
    const ch = new MessageChannel(b)
    await sender.write(codecs.transcodeRequest, fx.transcodeRequest())
    await sender.writeBytes(bytes(1000))
    await sender.close()
    const req = await ch.read(codecs.transcodeRequest)
    await rejectsWith(ch.readBytes(req.segmentSize), 'unexpected_end')
    await rejectsWith(ch.read(codecs.bid), 'unexpected_end')
  })

  it('a frame mid-way through its length prefix or body, then close, is unexpected_end', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    a.send(new Uint8Array([0x10, 0x01, 0x02])) // says 16 bytes, sends 2
    await a.close()
    await rejectsWith(ch.read(codecs.bid), 'unexpected_end')
  })

  it('a frame running past the announced size is malformed', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    const lp = lpStream(a)
    await lp.write(bytes(60))
    await lp.write(bytes(60))
    await rejectsWith(ch.readBytes(100), 'malformed')
  })

  it('an empty data frame is malformed', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    await lpStream(a).write(new Uint8Array(0))
    await rejectsWith(ch.readBytes(10), 'malformed')
  })

  it('an invalid message is `invalid` and leaves the channel in sync', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    const lp = lpStream(a)
    await lp.write(pb.Bid.encode({ ...fx.bid(), jobId: 'no spaces allowed' }))
    await lp.write(codecs.bid.encode(fx.bid()))
    await rejectsWith(ch.read(codecs.bid), 'invalid')
    assert.deepEqual(await ch.read(codecs.bid), fx.bid())
  })

  it('write validates before sending', async () => {
    const [a] = await streamPair()
    await assert.rejects(new MessageChannel(a).write(codecs.bid, { ...fx.bid(), jobId: '' }), (e: any) => e.reason === 'invalid')
  })

  it('a deadline is `timeout`; another abort reason passes through', async () => {
    const [, b] = await streamPair()
    const ch = new MessageChannel(b)
    await rejectsWith(ch.read(codecs.bid, { signal: withTimeout(30) }), 'timeout')
    const ac = new AbortController()
    const err = new Error('shutting down')
    setTimeout(() => { ac.abort(err) }, 10)
    await assert.rejects(ch.read(codecs.bid, { signal: withTimeout(5_000, ac.signal) }), (e: unknown) => e === err)
    await rejectsWith(ch.read(codecs.bid, { signal: AbortSignal.timeout(0) }), 'timeout')
  })

  it('a reset by the peer is unexpected_end on read and on write', async () => {
    const [a, b] = await streamPair()
    const ch = new MessageChannel(b)
    const reading = ch.read(codecs.bid)
    new MessageChannel(a).abort(new Error('peer gave up'))
    await rejectsWith(reading, 'unexpected_end')
    await rejectsWith(ch.writeBytes(bytes(10)), 'unexpected_end')
  })

  it('read backpressure: the stream is paused whenever no read is in progress', async () => {
    // The mock muxer has no per-stream flow control, so this checks the mechanism; with yamux a
    // paused stream stops granting window and the sender blocks (see PROTOCOL.md, Backpressure).
    const [a, b] = await streamPair()
    const sender = new MessageChannel(a)
    const reader = new MessageChannel(b)
    assert.equal(b.readStatus, 'paused')
    assert.ok(b.maxReadBufferLength >= 16 * MiB)
    const body = bytes(MiB)
    await sender.write(codecs.bid, fx.bid())
    await sender.writeBytes(body)
    // everything arrives while the reader is busy elsewhere, and waits in the paused stream
    await waitFor(() => b.readBufferLength >= body.byteLength)
    assert.equal(b.readStatus, 'paused')
    const reading = reader.read(codecs.bid)
    assert.equal(b.readStatus, 'readable')
    assert.deepEqual(await reading, fx.bid())
    assert.equal(b.readStatus, 'paused')
    assert.ok(Buffer.from(await reader.readBytes(body.byteLength)).equals(body))
    await sender.close()
    await rejectsWith(reader.read(codecs.bid), 'unexpected_end')
  })

  it('a peer overflowing the read buffer is too_large (the stream is aborted)', async () => {
    const [a, b] = await streamPair()
    const sender = new MessageChannel(a)
    const reader = new MessageChannel(b, { maxBufferSize: 4 * MiB, pauseWhenIdle: false })
    await sender.writeBytes(bytes(12 * MiB)).catch(() => { /* ends when sent or when the reader resets */ })
    await waitFor(() => b.status !== 'open')
    await rejectsWith(reader.readBytes(12 * MiB), 'too_large')
    assert.equal(b.status, 'aborted')
  })
})
