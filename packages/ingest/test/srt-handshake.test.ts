import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { conclusionExtensions, inductionFor, inductionResponse, parseHandshake, publishKeyOf, rejection, rejectionReason, SRT_REJECT, withCookie } from '../src/srt/handshake.js'
import { checkKeyMaterial } from '../src/srt/km.js'
import { flvHeaderFor, isFlvHeader } from '../src/flv-header.js'

/**
 * Packets sent by Debian's ffmpeg 5.1 (libsrt 1.5.1) as a caller to
 * `srt://127.0.0.1:9999?streamid=publish:abcdefg&passphrase=0123456789abc`, captured once.
 */
const INDUCTION = Buffer.from('80000000000000000000006f0000000000000004000000024323021b000005dc00002000000000013f399843000000000100007f000000000000000000000000', 'hex')
const CONCLUSION = Buffer.from('8000000000000000000011830000000000000005000000074323021b000005dc00002000ffffffff3f399843123456780100007f0000000000000000000000000001000300010501000000bf00780000000500046c6275703a68736964636261006766650003000e122029010000000002000200000004044115eb09bccd27ddcf45ccd1394c659e518f2d66e0437abaf2b60a959af62fc4a69486139836e272', 'hex')

describe('SRT handshake (pure)', () => {
  it('reads a real caller\'s induction and conclusion', () => {
    assert.deepEqual(parseHandshake(INDUCTION), { version: 4, type: 1, socketId: 0x3f399843, cookie: 0 })
    assert.deepEqual(parseHandshake(CONCLUSION), { version: 5, type: -1, socketId: 0x3f399843, cookie: 0x12345678 })
    const ext = conclusionExtensions(CONCLUSION)
    assert.equal(ext.streamId, 'publish:abcdefg', 'the stream id, its 32-bit words byte-swapped back')
    assert.equal(ext.kmreq?.length, 56)
    assert.equal(parseHandshake(Buffer.alloc(20)), undefined, 'too short')
    assert.equal(parseHandshake(Buffer.concat([Buffer.from([0x00]), INDUCTION.subarray(1)])), undefined, 'a data packet')
  })

  it('refuses a malformed extension list instead of reading past the packet', () => {
    const bad = Buffer.from(CONCLUSION)
    bad.writeUInt16BE(200, 64 + 2) // HSREQ claims 800 bytes
    assert.throws(() => conclusionExtensions(bad), RangeError)
  })

  it('takes publish:<key> and publish:live/<key>, nothing else', () => {
    assert.equal(publishKeyOf('publish:abc_DEF-1'), 'abc_DEF-1')
    assert.equal(publishKeyOf('publish:live/abc'), 'abc')
    for (const bad of [undefined, '', 'abc', 'read:abc', 'publish:', 'publish:a/b', 'publish:a b', `publish:${'a'.repeat(129)}`, '#!::r=abc,m=publish']) assert.equal(publishKeyOf(bad), undefined, String(bad))
  })

  it('answers an induction with version 5, the SRT magic and the cookie, to the caller\'s socket', () => {
    const r = Buffer.from(inductionResponse(INDUCTION, 0xdeadbeef))
    assert.equal(r.readUInt32BE(12), 0x3f399843, 'destination: the caller')
    assert.deepEqual(parseHandshake(r), { version: 5, type: 1, socketId: 0x3f399843, cookie: 0xdeadbeef })
    assert.equal(r.readUInt16BE(16 + 6), 0x4A17)
  })

  it('rejects with 1000 + the reason, and replays the caller\'s induction for ffmpeg', () => {
    const r = parseHandshake(rejection(CONCLUSION, SRT_REJECT.forbidden))!
    assert.equal(rejectionReason(r), 1403)
    assert.equal(rejectionReason(parseHandshake(CONCLUSION)!), undefined)
    const ind = parseHandshake(inductionFor(CONCLUSION))!
    assert.deepEqual(ind, { version: 4, type: 1, socketId: 0x3f399843, cookie: 0 })
    assert.equal(parseHandshake(withCookie(CONCLUSION, 7))!.cookie, 7)
    assert.equal(withCookie(CONCLUSION, 7).length, CONCLUSION.length, 'extensions kept')
  })

  it('checks the passphrase by unwrapping the caller\'s key material', () => {
    const km = conclusionExtensions(CONCLUSION).kmreq!
    assert.equal(checkKeyMaterial(km, '0123456789abc'), 'ok')
    assert.equal(checkKeyMaterial(km, '0123456789abd'), 'bad_passphrase')
    assert.equal(checkKeyMaterial(km.subarray(0, 10), '0123456789abc'), 'malformed')
    const noSig = Uint8Array.from(km)
    noSig[1] = 0
    assert.equal(checkKeyMaterial(noSig, '0123456789abc'), 'malformed')
    const shortWrap = km.subarray(0, km.length - 4)
    assert.equal(checkKeyMaterial(shortWrap, '0123456789abc'), 'malformed')
  })
})

describe('FLV header from the publisher\'s metadata (pure)', () => {
  const header = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0])
  const script = (body: string): Buffer => Buffer.concat([Buffer.from([18, 0, 0, body.length, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(body, 'latin1')])

  it('announces only the codecs the metadata names', () => {
    assert.ok(isFlvHeader(header))
    assert.equal(flvHeaderFor(header, script('\x02\x00\x0aonMetaData videocodecid width'))[4], 0x01, 'video only')
    assert.equal(flvHeaderFor(header, script('\x02\x00\x0aonMetaData audiocodecid stereo'))[4], 0x04, 'audio only')
    assert.equal(flvHeaderFor(header, script('\x02\x00\x0aonMetaData audiocodecid videocodecid'))[4], 0x05, 'both')
  })

  it('keeps the header when the first tag is no metadata, or names no codec', () => {
    assert.equal(flvHeaderFor(header, Buffer.from([9, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0x17, 0, 0, 0, 0]))[4], 0x05, 'a video tag')
    assert.equal(flvHeaderFor(header, script('\x02\x00\x0aonMetaData duration'))[4], 0x05, 'metadata naming no codec')
    assert.equal(flvHeaderFor(header, script('\x02\x00\x0aonTextData audiocodecid'))[4], 0x05, 'not onMetaData')
    assert.equal(isFlvHeader(header.subarray(0, 9)), false)
  })
})
