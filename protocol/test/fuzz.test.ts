import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { streamPair } from '@libp2p/utils'
import { codecs, isProtocolError, MessageChannel, PROTOCOL_ERROR_REASONS, withTimeout } from '../src/index.js'
import * as fx from './fixtures.js'
import type { CheckedCodec } from '../src/index.js'

type CodecName = keyof typeof codecs

const RUNS = 500

/** Valid encodings to mutate, per codec. */
const seeds: Record<CodecName, Uint8Array[]> = {
  presence: [codecs.presence.encode(fx.presence())],
  jobAnnounce: [codecs.jobAnnounce.encode(fx.jobAnnounce())],
  streamAnnounce: [codecs.streamAnnounce.encode(fx.streamAnnounce())],
  segmentAnnounce: [codecs.segmentAnnounce.encode(fx.segmentAnnounce())],
  bid: [codecs.bid.encode(fx.bid())],
  bidAck: [codecs.bidAck.encode({ accepted: true, reason: 'recorded' })],
  transcodeRequest: [codecs.transcodeRequest.encode(fx.transcodeRequest())],
  transcodeResponse: [codecs.transcodeResponse.encode(fx.transcodeResponse())],
  fetchRequest: [codecs.fetchRequest.encode(fx.fetchRequest())],
  fetchResponse: [codecs.fetchResponse.encode(fx.fetchResponse()), codecs.fetchResponse.encode(fx.fetchIndexResponse()), codecs.fetchResponse.encode(fx.fetchBusyResponse())],
  have: [codecs.have.encode(fx.have())],
  viewerCounts: [codecs.viewerCounts.encode(fx.viewerCounts())]
}

/**
 * The contract: decode returns a value that passes validation and survives
 * re-encoding, or throws a ProtocolError with a known reason. Nothing else.
 */
function check (codec: CheckedCodec<any>, bytes: Uint8Array): void {
  let value: unknown
  try {
    value = codec.decode(bytes)
  } catch (err) {
    assert.ok(isProtocolError(err), `${codec.name}: threw ${String(err)} for ${Buffer.from(bytes).toString('hex')}`)
    assert.ok(PROTOCOL_ERROR_REASONS.includes(err.reason))
    return
  }
  codec.validate(value)
  assert.deepEqual(codec.decode(codec.encode(value)), value)
}

type Mutation =
  | { op: 'flip', at: number, bit: number }
  | { op: 'set', at: number, byte: number }
  | { op: 'insert', at: number, bytes: Uint8Array }
  | { op: 'delete', at: number, len: number }
  | { op: 'truncate', at: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() })
)

function apply (seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Array.from(seed)
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1)
    switch (m.op) {
      case 'flip': if (at < b.length) b[at] = b[at]! ^ (1 << m.bit); break
      case 'set': if (at < b.length) b[at] = m.byte; break
      case 'insert': b.splice(at, 0, ...m.bytes); break
      case 'delete': b.splice(at, m.len); break
      case 'truncate': b = b.slice(0, at); break
    }
  }
  return new Uint8Array(b)
}

describe('fuzz: decode never throws anything but ProtocolError', { timeout: 20_000 }, () => {
  for (const name of Object.keys(codecs) as CodecName[]) {
    const codec = codecs[name] as CheckedCodec<any>
    it(`${name}: random bytes`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), bytes => { check(codec, bytes) }), { numRuns: RUNS })
    })
    it(`${name}: mutated valid encodings`, () => {
      const seed = fc.constantFrom(...seeds[name])
      fc.assert(fc.property(seed, fc.array(mutation, { minLength: 1, maxLength: 6 }), (s, ms) => {
        check(codec, apply(s, ms))
      }), { numRuns: RUNS })
    })
  }
  it('encode: a top-level field set to any value of its type encodes and round-trips, or is `invalid`', () => {
    const names = Object.keys(codecs) as CodecName[]
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,70}$/),
      fc.integer(),
      fc.maxSafeNat(),
      fc.double(),
      fc.uint8Array({ maxLength: 300 })
    )
    fc.assert(fc.property(fc.constantFrom(...names), fc.nat(), value, (name, pick, v) => {
      const codec = codecs[name] as CheckedCodec<any>
      const msg = (fx.samples[name] as () => any)()
      const fields = Object.keys(msg).filter(k => typeof msg[k] === typeof v && (msg[k] instanceof Uint8Array) === (v instanceof Uint8Array))
      if (fields.length === 0) return
      const field = fields[pick % fields.length]!
      msg[field] = v
      let bytes: Uint8Array
      try {
        bytes = codec.encode(msg)
      } catch (err) {
        assert.ok(isProtocolError(err) && err.reason === 'invalid', String(err))
        return
      }
      if (Object.is(v, -0)) msg[field] = 0 // -0 is accepted and arrives as 0
      assert.deepEqual(codec.decode(bytes), msg)
    }), { numRuns: RUNS * 4 })
  })
  it('the seeds themselves decode', () => {
    for (const [name, list] of Object.entries(seeds) as Array<[CodecName, Uint8Array[]]>) {
      for (const s of list) (codecs[name] as CheckedCodec<any>).decode(s)
    }
  })
})

describe('fuzz: MessageChannel framing over a real stream pair', { timeout: 60_000 }, () => {
  // Whatever bytes a peer sends before closing, a read ends promptly with a
  // value or a ProtocolError: never another error, never a hang to the deadline.
  const prefixed = fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 6 }), fc.uint8Array({ maxLength: 600 })).map(([a, b]) => new Uint8Array([...a, ...b]))
  const input = fc.oneof(fc.uint8Array({ maxLength: 600 }), prefixed, fc.constantFrom(...Object.values(seeds).flat()).map(s => new Uint8Array([s.byteLength & 0x7f, ...s])))
  for (const [what, read] of [
    ['read(jobAnnounce)', async (ch: MessageChannel) => await ch.read(codecs.jobAnnounce, { signal: withTimeout(30_000) })],
    ['readBytes(1000)', async (ch: MessageChannel) => await ch.readBytes(1000, { signal: withTimeout(30_000) })]
  ] as const) {
    it(what, async () => {
      await fc.assert(fc.asyncProperty(input, async bytes => {
        const [a, b] = await streamPair()
        const ch = new MessageChannel(b)
        if (bytes.byteLength > 0) a.send(bytes)
        await a.close()
        try {
          await read(ch)
        } catch (err) {
          assert.ok(isProtocolError(err), `threw ${String(err)} for ${Buffer.from(bytes).toString('hex')}`)
          assert.notEqual(err.reason, 'timeout', `hung until the deadline on ${Buffer.from(bytes).toString('hex')}`)
        }
      }), { numRuns: 150 })
    })
  }
})
