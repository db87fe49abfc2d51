import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  codecs, isProtocolError, MAX_CONTROL_BYTES, MAX_GOSSIP_BYTES, ProtocolError, streamTopic, truncateUtf8,
  utf8Length, FetchResponse, PROTOCOL_BID, haveTopic, streamKeyString, TOPIC_PRESENCE, ROLES, agentString
} from '../src/index.js'
import * as pb from '../src/pb/messages.js'
import * as fx from './fixtures.js'
import type { ProtocolErrorReason } from '../src/index.js'

type CodecName = keyof typeof codecs

/** Generated (unchecked) encoders, to put invalid values on the wire. */
const raw: Record<CodecName, { encode: (m: any) => Uint8Array }> = {
  presence: pb.Presence,
  jobAnnounce: pb.JobAnnounce,
  streamAnnounce: pb.StreamAnnounce,
  segmentAnnounce: pb.SegmentAnnounce,
  bid: pb.Bid,
  bidAck: pb.BidAck,
  transcodeRequest: pb.TranscodeRequest,
  transcodeResponse: pb.TranscodeResponse,
  fetchRequest: pb.FetchRequest,
  fetchResponse: pb.FetchResponse,
  have: pb.Have,
  viewerCounts: pb.ViewerCounts
}

export function expectReason (fn: () => unknown, reason: ProtocolErrorReason, label = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isProtocolError(err), `${label}: expected ProtocolError, got ${String(err)}`)
    assert.equal(err.reason, reason, `${label}: ${err.message}`)
    assert.ok(err instanceof ProtocolError)
    assert.equal(err.name, 'ProtocolError')
    return true
  })
}

describe('codecs: round trip', () => {
  for (const [name, make] of Object.entries(fx.samples) as Array<[CodecName, () => any]>) {
    it(name, () => {
      const codec = codecs[name] as typeof codecs['presence']
      const msg = make()
      const bytes = codec.encode(msg)
      assert.ok(bytes.byteLength <= codec.maxBytes)
      assert.deepEqual(codec.decode(bytes), msg)
      assert.deepEqual(codec.decode(new Uint8ArrayList(bytes.subarray(0, 3), bytes.subarray(3))), msg)
    })
  }
  it('fetchResponse INDEX', () => {
    const msg = fx.fetchIndexResponse()
    assert.deepEqual(codecs.fetchResponse.decode(codecs.fetchResponse.encode(msg)), msg)
  })
  it('non-OK responses and defaults', () => {
    const busy = { status: pb.TranscodeResponse.Status.BUSY, error: 'worker at capacity', renditions: [], elapsedMs: 0, encoder: '' }
    assert.deepEqual(codecs.transcodeResponse.decode(codecs.transcodeResponse.encode(busy)), busy)
    const nf = { status: FetchResponse.Status.NOT_FOUND, error: 'gone', size: 0, sha256: new Uint8Array(0), segments: [] }
    assert.deepEqual(codecs.fetchResponse.decode(codecs.fetchResponse.encode(nf)), nf)
    const idx = { kind: pb.FetchRequest.Kind.INDEX, streamId: 'lobby-cam', rendition: '', seq: 0 }
    assert.deepEqual(codecs.fetchRequest.decode(codecs.fetchRequest.encode(idx)), idx)
    const nack = { accepted: false, reason: '' }
    assert.equal(codecs.bidAck.encode(nack).byteLength, 0)
    assert.deepEqual(codecs.bidAck.decode(new Uint8Array(0)), nack)
  })
  it('BUSY with holders, and accept_busy (swarming)', () => {
    const busy = fx.fetchBusyResponse()
    assert.deepEqual(codecs.fetchResponse.decode(codecs.fetchResponse.encode(busy)), busy)
    const req = { ...fx.fetchRequest(), acceptBusy: true }
    assert.deepEqual(codecs.fetchRequest.decode(codecs.fetchRequest.encode(req)), req)
    // a request without the field (an older edge) decodes with acceptBusy unset
    assert.equal(codecs.fetchRequest.decode(codecs.fetchRequest.encode(fx.fetchRequest())).acceptBusy, undefined)
  })
  it('unknown fields are skipped (forward compatible)', () => {
    const bytes = codecs.bid.encode(fx.bid())
    const extra = new Uint8Array([...bytes, 0xa2, 0x06, 0x03, 0x61, 0x62, 0x63, 0xa8, 0x06, 0x01]) // field 100 'abc', field 101 = 1
    assert.deepEqual(codecs.bid.decode(extra), fx.bid())
  })
})

describe('codecs: size limits are checked before decoding', () => {
  for (const name of Object.keys(codecs) as CodecName[]) {
    it(name, () => {
      const codec = codecs[name]
      const expected = name.endsWith('Announce') || name === 'presence' || name === 'have' || name === 'viewerCounts' ? MAX_GOSSIP_BYTES : MAX_CONTROL_BYTES
      assert.equal(codec.maxBytes, expected)
      const junk = new Uint8Array(codec.maxBytes + 1).fill(0xff) // would be `malformed` if decoded
      expectReason(() => codec.decode(junk), 'too_large', name)
      expectReason(() => codec.decode(new Uint8ArrayList(junk.subarray(0, 10), junk.subarray(10))), 'too_large', name)
    })
  }
  it('encode refuses an over-limit encoding', () => {
    const r = { ...fx.segmentRenditions()[0]!, codecs: 'x'.repeat(256) }
    const segments = Array.from({ length: 512 }, (_, i) => ({ ...fx.segmentAnnounce(i), renditions: Array.from({ length: 8 }, (_, j) => ({ ...r, name: `r${j}` })) }))
    expectReason(() => codecs.fetchResponse.encode({ ...fx.fetchIndexResponse(), segments }), 'too_large')
  })
})

describe('codecs: malformed protobuf', () => {
  const cases: Array<[string, CodecName, Uint8Array]> = [
    ['truncated string', 'jobAnnounce', codecs.jobAnnounce.encode(fx.jobAnnounce()).subarray(0, 20)],
    ['invalid wire type 7', 'bid', new Uint8Array([0x0f, 0x01])],
    ['end-group at top level', 'bid', new Uint8Array([0x0c])],
    ['unknown enum value', 'transcodeResponse', new Uint8Array([0x08, 0x09])],
    ['10-byte varint in uint64', 'segmentAnnounce', new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['length past end', 'presence', new Uint8Array([0x0a, 0x7f, 0x61])],
    ['sub-message past end', 'transcodeRequest', new Uint8Array([0x0a, 0x40, 0x0a, 0x01])]
  ]
  for (const [label, name, bytes] of cases) {
    it(label, () => { expectReason(() => codecs[name].decode(bytes), 'malformed', label) })
  }
})

type Case = [label: string, codec: CodecName, mutate: (m: any) => any]

const long = 'x'.repeat(257)
const euros = '€'.repeat(86) // 86 chars, 258 UTF-8 bytes
const unsafe = 2 ** 53 + 2
function varint (v: bigint): number[] {
  const out: number[] = []
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n }
  out.push(Number(v))
  return out
}
const rend = (o: object): any => ({ ...fx.segmentRenditions()[0], ...o })

const invalid: Case[] = [
  ['presence: no roles', 'presence', m => ({ ...m, roles: [] })],
  ['presence: unknown role', 'presence', m => ({ ...m, roles: ['miner'] })],
  ['presence: duplicate role', 'presence', m => ({ ...m, roles: ['edge', 'edge'] })],
  ['presence: 5 roles', 'presence', m => ({ ...m, roles: [...ROLES, 'edge'] })],
  ['presence: 17 multiaddrs', 'presence', m => ({ ...m, multiaddrs: Array(17).fill(fx.MA_TCP) })],
  ['presence: empty multiaddr', 'presence', m => ({ ...m, multiaddrs: [new Uint8Array(0)] })],
  ['presence: 257-byte multiaddr', 'presence', m => ({ ...m, multiaddrs: [new Uint8Array(257)] })],
  ['presence: non-http url', 'presence', m => ({ ...m, httpUrl: 'ftp://host/x' })],
  ['presence: long agent', 'presence', m => ({ ...m, agent: long })],
  ['presence: agent over 256 UTF-8 bytes', 'presence', m => ({ ...m, agent: euros })],
  ['presence: unpaired surrogate', 'presence', m => ({ ...m, hwKind: 'gpu\ud800' })],
  ['job: empty jobId', 'jobAnnounce', m => ({ ...m, jobId: '' })],
  ['job: jobId with space', 'jobAnnounce', m => ({ ...m, jobId: 'a b' })],
  ['job: 65-char jobId', 'jobAnnounce', m => ({ ...m, jobId: 'a'.repeat(65) })],
  ['job: path in streamId', 'jobAnnounce', m => ({ ...m, streamId: '../etc' })],
  ['job: zero duration', 'jobAnnounce', m => ({ ...m, durationMs: 0 })],
  ['job: duration over 60 s', 'jobAnnounce', m => ({ ...m, durationMs: 60_001 })],
  ['job: zero size', 'jobAnnounce', m => ({ ...m, size: 0 })],
  ['job: size over 64 MiB', 'jobAnnounce', m => ({ ...m, size: 64 * 1024 * 1024 + 1 })],
  ['job: width over 8192', 'jobAnnounce', m => ({ ...m, width: 8193 })],
  ['job: long videoCodec', 'jobAnnounce', m => ({ ...m, videoCodec: long })],
  ['job: empty ladder', 'jobAnnounce', m => ({ ...m, ladder: [] })],
  ['job: 9 rungs', 'jobAnnounce', m => ({ ...m, ladder: Array.from({ length: 9 }, (_, i) => ({ name: `r${i}`, width: 0, height: 360, videoKbps: 800 })) })],
  ['job: duplicate rung', 'jobAnnounce', m => ({ ...m, ladder: [m.ladder[0], m.ladder[0]] })],
  ['job: rung height 0', 'jobAnnounce', m => ({ ...m, ladder: [{ ...m.ladder[0], height: 0 }] })],
  ['job: rung name', 'jobAnnounce', m => ({ ...m, ladder: [{ ...m.ladder[0], name: '720p!' }] })],
  ['job: rung 0 kbps', 'jobAnnounce', m => ({ ...m, ladder: [{ ...m.ladder[0], videoKbps: 0 }] })],
  ['stream: bad id', 'streamAnnounce', m => ({ ...m, streamId: 'a/b' })],
  ['stream: long name', 'streamAnnounce', m => ({ ...m, name: long })],
  ['stream: rendition with size', 'streamAnnounce', m => ({ ...m, renditions: [{ ...m.renditions[0], size: 10 }] })],
  ['stream: rendition with sha256', 'streamAnnounce', m => ({ ...m, renditions: [{ ...m.renditions[0], sha256: fx.sha('x') }] })],
  ['stream: 9 renditions', 'streamAnnounce', m => ({ ...m, renditions: Array.from({ length: 9 }, (_, i) => ({ ...m.renditions[0], name: `r${i}` })) })],
  ['stream: no salt', 'streamAnnounce', m => ({ ...m, salt: new Uint8Array(0) })],
  ['stream: 15-byte salt', 'streamAnnounce', m => ({ ...m, salt: new Uint8Array(15) })],
  ['stream: target duration', 'streamAnnounce', m => ({ ...m, targetDurationMs: 60_001 })],
  ['stream: 17 ingest multiaddrs', 'streamAnnounce', m => ({ ...m, ingestMultiaddrs: Array(17).fill(fx.MA_TCP) })],
  ['segment: no renditions', 'segmentAnnounce', m => ({ ...m, renditions: [] })],
  ['segment: 31-byte sha256', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ sha256: new Uint8Array(31) })] })],
  ['segment: 33-byte sha256', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ sha256: new Uint8Array(33) })] })],
  ['segment: missing sha256', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ sha256: new Uint8Array(0) })] })],
  ['segment: zero size', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ size: 0 })] })],
  ['segment: size over 64 MiB', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ size: 64 * 1024 * 1024 + 1 })] })],
  ['segment: height over 8192', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ height: 9000 })] })],
  ['segment: long codecs', 'segmentAnnounce', m => ({ ...m, renditions: [rend({ codecs: long })] })],
  ['segment: duplicate rendition', 'segmentAnnounce', m => ({ ...m, renditions: [rend({}), rend({})] })],
  ['segment: zero duration', 'segmentAnnounce', m => ({ ...m, durationMs: 0 })],
  ['bid: bad jobId', 'bid', m => ({ ...m, jobId: 'job#1' })],
  ['bid: long hwKind', 'bid', m => ({ ...m, hwKind: long })],
  ['bidAck: long reason', 'bidAck', m => ({ ...m, reason: long })],
  ['transcode: no job', 'transcodeRequest', m => ({ segmentSize: m.segmentSize })],
  ['transcode: size mismatch', 'transcodeRequest', m => ({ ...m, segmentSize: m.segmentSize - 1 })],
  ['transcode: invalid job', 'transcodeRequest', m => ({ ...m, job: { ...m.job, ladder: [] } })],
  ['transcode: 9-rung job', 'transcodeRequest', m => ({ ...m, job: { ...m.job, ladder: Array.from({ length: 9 }, (_, i) => ({ name: `r${i}`, width: 0, height: 360, videoKbps: 800 })) } })],
  ['response: OK without renditions', 'transcodeResponse', m => ({ ...m, renditions: [] })],
  ['response: BUSY with renditions', 'transcodeResponse', m => ({ ...m, status: pb.TranscodeResponse.Status.BUSY })],
  ['response: long error', 'transcodeResponse', m => ({ ...m, error: long })],
  ['response: rendition without sha256', 'transcodeResponse', m => ({ ...m, renditions: [rend({ sha256: new Uint8Array(0) })] })],
  ['response: long encoder', 'transcodeResponse', m => ({ ...m, encoder: long })],
  ['fetch: SEGMENT without rendition', 'fetchRequest', m => ({ ...m, rendition: '' })],
  ['fetch: INDEX with rendition', 'fetchRequest', m => ({ ...m, kind: pb.FetchRequest.Kind.INDEX })],
  ['fetch: bad streamId', 'fetchRequest', m => ({ ...m, streamId: '' })],
  ['fetched: OK without sha256', 'fetchResponse', m => ({ ...m, sha256: new Uint8Array(0) })],
  ['fetched: OK with size 0', 'fetchResponse', m => ({ ...m, size: 0 })],
  ['fetched: OK size over 64 MiB', 'fetchResponse', m => ({ ...m, size: 64 * 1024 * 1024 + 1 })],
  ['fetched: NOT_FOUND with size', 'fetchResponse', m => ({ ...m, status: FetchResponse.Status.NOT_FOUND, sha256: new Uint8Array(0) })],
  ['fetched: NOT_FOUND with stream', 'fetchResponse', () => ({ ...fx.fetchIndexResponse(), status: FetchResponse.Status.NOT_FOUND })],
  ['fetched: busy on OK', 'fetchResponse', m => ({ ...m, busy: { holders: [] } })],
  ['fetched: BUSY with 9 holders', 'fetchResponse', () => ({ ...fx.fetchBusyResponse(), busy: { holders: Array.from({ length: 9 }, (_, i) => `12D3KooW${'a'.repeat(10)}${i}`) } })],
  ['fetched: BUSY holder not a peer id', 'fetchResponse', () => ({ ...fx.fetchBusyResponse(), busy: { holders: ['/ip4/1.2.3.4'] } })],
  ['fetched: BUSY duplicate holders', 'fetchResponse', () => ({ ...fx.fetchBusyResponse(), busy: { holders: ['QmA', 'QmA'] } })],
  ['fetched: BUSY with size', 'fetchResponse', () => ({ ...fx.fetchBusyResponse(), size: 10 })],
  ['have: no renditions', 'have', m => ({ ...m, renditions: [] })],
  ['have: bad rendition name', 'have', m => ({ ...m, renditions: ['../x'] })],
  ['have: duplicate renditions', 'have', m => ({ ...m, renditions: ['720p', '720p'] })],
  ['have: bad streamId', 'have', m => ({ ...m, streamId: 'a b' })],
  ['viewers: duplicate stream', 'viewerCounts', m => ({ ...m, streams: [m.streams[0], m.streams[0]] })],
  ['viewers: bad streamId', 'viewerCounts', m => ({ ...m, streams: [{ streamId: 'a/b', viewers: 1 }] })],
  ['viewers: 65 streams', 'viewerCounts', m => ({ ...m, streams: Array.from({ length: 65 }, (_, i) => ({ streamId: `s${i}`, viewers: 1 })) })],
  ['fetched: SEGMENT with segments', 'fetchResponse', m => ({ ...m, segments: [fx.segmentAnnounce()] })],
  ['fetched: INDEX with size', 'fetchResponse', () => ({ ...fx.fetchIndexResponse(), size: 5 })],
  ['fetched: INDEX other stream', 'fetchResponse', () => { const m = fx.fetchIndexResponse(); m.segments[1]!.streamId = 'other'; return m }],
  ['fetched: INDEX out of order', 'fetchResponse', () => { const m = fx.fetchIndexResponse(); m.segments.reverse(); return m }],
  ['fetched: INDEX invalid stream', 'fetchResponse', () => { const m = fx.fetchIndexResponse(); m.stream!.targetDurationMs = 61_000; return m }],
  ['fetched: INDEX 513 segments', 'fetchResponse', () => ({ ...fx.fetchIndexResponse(), segments: Array.from({ length: 513 }, (_, i) => ({ ...fx.segmentAnnounce(i), renditions: [rend({})] })) })]
]

describe('codecs: validation rules reject with `invalid`', () => {
  for (const [label, name, mutate] of invalid) {
    it(label, () => {
      const msg = mutate((fx.samples[name] as () => any)())
      const codec = codecs[name] as typeof codecs['presence']
      expectReason(() => codec.decode(raw[name].encode(msg)), 'invalid', `decode ${label}`)
      expectReason(() => codec.encode(msg), 'invalid', `encode ${label}`)
      expectReason(() => { codec.validate(msg) }, 'invalid', `validate ${label}`)
    })
  }
  // uint64 fields above 2^53 - 1: the JS encoder cannot produce them, so append the field by hand (last one
  // wins). The decoder cannot represent them either and fails: `malformed` on the wire, `invalid` on encode.
  const unsafeFields: Array<[string, CodecName, field: string, tag: number]> = [
    ['presence.startedAtMs', 'presence', 'startedAtMs', 9],
    ['job.seq', 'jobAnnounce', 'seq', 3],
    ['segment.pdtMs', 'segmentAnnounce', 'pdtMs', 4],
    ['bid.price', 'bid', 'price', 7],
    ['fetch.seq', 'fetchRequest', 'seq', 4]
  ]
  for (const [label, name, field, tag] of unsafeFields) {
    it(`unsafe integer in ${label}`, () => {
      const codec = codecs[name] as typeof codecs['presence']
      const msg = (fx.samples[name] as () => any)()
      const wire = new Uint8Array([...codec.encode(msg), tag << 3, ...varint(BigInt(unsafe))])
      expectReason(() => codec.decode(wire), 'malformed', label)
      expectReason(() => codec.encode({ ...msg, [field]: unsafe }), 'invalid', label)
      const max = new Uint8Array([...codec.encode(msg), tag << 3, ...varint(BigInt(Number.MAX_SAFE_INTEGER))])
      assert.equal((codec.decode(max) as any)[field], Number.MAX_SAFE_INTEGER)
    })
  }
  it('invalid UTF-8 that decodes to an unpaired surrogate is invalid', () => {
    // BidAck.reason = ED A0 80 (CESU-style U+D800)
    expectReason(() => codecs.bidAck.decode(new Uint8Array([0x12, 0x03, 0xed, 0xa0, 0x80])), 'invalid')
  })
  it('encode rejects values of the wrong type', () => {
    expectReason(() => codecs.bid.encode({ ...fx.bid(), estimateMs: -1 }), 'invalid')
    expectReason(() => codecs.bid.encode({ ...fx.bid(), estimateMs: 1.5 }), 'invalid')
    expectReason(() => codecs.transcodeResponse.encode({ ...fx.transcodeResponse(), status: 'WEIRD' as any }), 'invalid')
    expectReason(() => codecs.presence.encode({ ...fx.presence(), multiaddrs: ['x' as any] }), 'invalid')
  })
})

describe('constants and helpers', () => {
  it('ids and topics', () => {
    assert.equal(PROTOCOL_BID, '/diststream/bid/1.0.0')
    assert.equal(TOPIC_PRESENCE, '/diststream/presence/1.0.0')
    assert.equal(streamTopic('lobby-cam'), '/diststream/stream/lobby-cam/1.0.0')
    for (const bad of ['', 'a/b', 'a b', 'x'.repeat(65), '..']) expectReason(() => streamTopic(bad), 'invalid', bad)
    assert.equal(agentString('0.1.0'), 'diststream-node/0.1.0')
    assert.equal(haveTopic('lobby-cam'), '/diststream/have/lobby-cam/1.0.0')
    assert.equal(streamKeyString('lobby-cam'), 'diststream/stream/lobby-cam')
    for (const bad of ['', 'a/b']) {
      expectReason(() => haveTopic(bad), 'invalid', bad)
      expectReason(() => streamKeyString(bad), 'invalid', bad)
    }
  })
  it('utf8Length and truncateUtf8', () => {
    assert.equal(utf8Length('a€😀'), 1 + 3 + 4)
    assert.equal(truncateUtf8('short'), 'short')
    const t = truncateUtf8('😀'.repeat(100))
    assert.equal(t, '😀'.repeat(64))
    assert.equal(utf8Length(truncateUtf8(euros)), 255)
    assert.equal(truncateUtf8('abc€', 5), 'abc')
  })
})
