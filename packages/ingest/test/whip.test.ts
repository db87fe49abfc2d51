import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_WHIP_MEDIA_SECTIONS, MAX_WHIP_SDP_BYTES, WHIP_CONNECT_TIMEOUT_MS, WHIP_MEDIA_TIMEOUT_MS } from '../src/whip/limits.js'
import { BRIDGE_AUDIO_PT, BRIDGE_VIDEO_PT, bridgeSdp, checkOffer, isSdpContentType, setPayloadType, WhipOfferError } from '../src/whip/sdp.js'
import { WhipWatch } from '../src/whip/watch.js'

const VIDEO = 'm=video 9 UDP/TLS/RTP/SAVPF 96 102\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:102 H264/90000\r\n'
const AUDIO = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n'
const offer = (...sections: string[]): string => 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' + sections.join('')

function refusal (fn: () => unknown): WhipOfferError {
  try { fn() } catch (err) { if (err instanceof WhipOfferError) return err; throw err }
  assert.fail('expected a refusal')
}

describe('whip: offer checks (before any ICE)', () => {
  it('accepts H.264 video with or without Opus audio', () => {
    assert.deepEqual(checkOffer(offer(AUDIO, VIDEO)), { audio: true })
    assert.deepEqual(checkOffer(offer(VIDEO)), { audio: false })
    // Audio without Opus is ignored, not refused.
    assert.deepEqual(checkOffer(offer(VIDEO, 'm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n')), { audio: false })
  })

  it('refuses what is not an SDP, an offer without video or without H.264', () => {
    assert.equal(refusal(() => checkOffer('hello')).why, 'bad_offer')
    assert.equal(refusal(() => checkOffer(offer(AUDIO))).why, 'bad_offer')
    const vp8 = refusal(() => checkOffer(offer('m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n')))
    assert.equal(vp8.why, 'no_h264')
    assert.equal(vp8.statusCode, 400)
  })

  it('bounds the size and the number of media sections', () => {
    const big = refusal(() => checkOffer(offer(VIDEO) + 'a=x:' + 'x'.repeat(MAX_WHIP_SDP_BYTES)))
    assert.equal(big.why, 'sdp_too_large')
    assert.equal(big.statusCode, 413)
    assert.equal(refusal(() => checkOffer(offer(...Array<string>(MAX_WHIP_MEDIA_SECTIONS + 1).fill(VIDEO)))).why, 'bad_offer')
    assert.deepEqual(checkOffer(offer(...Array<string>(MAX_WHIP_MEDIA_SECTIONS).fill(VIDEO))), { audio: false })
  })

  it('takes application/sdp only, with any parameters or case', () => {
    assert.equal(isSdpContentType('application/sdp'), true)
    assert.equal(isSdpContentType('Application/SDP; charset=utf-8'), true)
    assert.equal(isSdpContentType('text/plain'), false)
    assert.equal(isSdpContentType(undefined), false)
  })
})

describe('whip: the bridge SDP and payload types', () => {
  it('describes H.264 and, with audio, Opus on loopback ports', () => {
    const sdp = bridgeSdp({ videoPort: 5000, audioPort: 5002 })
    assert.match(sdp, /^v=0\r\n/)
    assert.match(sdp, /c=IN IP4 127\.0\.0\.1/)
    assert.match(sdp, new RegExp(`m=video 5000 RTP/AVP ${BRIDGE_VIDEO_PT}\r\na=rtpmap:${BRIDGE_VIDEO_PT} H264/90000`))
    assert.match(sdp, new RegExp(`m=audio 5002 RTP/AVP ${BRIDGE_AUDIO_PT}\r\na=rtpmap:${BRIDGE_AUDIO_PT} opus/48000/2`))
    assert.doesNotMatch(bridgeSdp({ videoPort: 5000 }), /m=audio/)
  })

  it('rewrites the payload type and keeps the marker bit', () => {
    assert.deepEqual([...setPayloadType(Buffer.from([0x80, 0x80 | 102, 1, 2]), 96)], [0x80, 0x80 | 96, 1, 2])
    assert.deepEqual([...setPayloadType(Buffer.from([0x80, 39]), 111)], [0x80, 111])
  })
})

describe('whip: the session watch (fake clock)', () => {
  it('times out a peer that never connects, once', () => {
    const w = new WhipWatch(0, { segmentSeconds: 2 })
    assert.equal(w.tick(WHIP_CONNECT_TIMEOUT_MS - 1), undefined)
    assert.equal(w.tick(WHIP_CONNECT_TIMEOUT_MS), 'connect_timeout')
    assert.equal(w.tick(WHIP_CONNECT_TIMEOUT_MS + 1000), undefined)
  })

  it('asks for keyframes twice a segment, on a grid, and at once for a new reader', () => {
    const w = new WhipWatch(0, { segmentSeconds: 2 })
    w.connected(100)
    const asks: number[] = []
    for (let t = 100; t <= 5100; t += 125) {
      w.media(t)
      if (w.tick(t) === 'keyframe') asks.push(t)
    }
    assert.deepEqual(asks, [100, 1100, 2100, 3100, 4100, 5100])
    w.keyframeNow()
    assert.equal(w.tick(5200), 'keyframe')
    assert.equal(w.tick(5300), undefined)
  })

  it('a late tick does not bunch requests: the grid restarts', () => {
    const w = new WhipWatch(0, { segmentSeconds: 2 })
    w.connected(0)
    w.media(0)
    assert.equal(w.tick(0), 'keyframe')
    w.media(5000)
    assert.equal(w.tick(5000), 'keyframe')
    assert.equal(w.tick(5100), undefined)
    assert.equal(w.tick(6000), 'keyframe')
  })

  it('ends a session whose media stops', () => {
    const w = new WhipWatch(0, { segmentSeconds: 2 })
    w.connected(0)
    w.media(1000)
    assert.notEqual(w.tick(1000 + WHIP_MEDIA_TIMEOUT_MS - 1), 'media_timeout')
    assert.equal(w.tick(1000 + WHIP_MEDIA_TIMEOUT_MS), 'media_timeout')
    assert.equal(w.tick(1000 + 2 * WHIP_MEDIA_TIMEOUT_MS), undefined)
    // Connected but never a packet: counted from the connection.
    const silent = new WhipWatch(0, { segmentSeconds: 2 })
    silent.connected(500)
    assert.equal(silent.tick(500 + WHIP_MEDIA_TIMEOUT_MS), 'media_timeout')
  })
})
