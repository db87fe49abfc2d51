import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { codecs, containerOf, isProtocolError, MAX_INIT_BYTES } from '../src/index.js'
import * as fx from './fixtures.js'

const invalid = (fn: () => unknown, what: string): void => {
  assert.throws(fn, (err: unknown) => isProtocolError(err) && err.reason === 'invalid', what)
}

describe('CMAF fields: container, init_size/init_sha256, media_time', () => {
  it('round-trips a CMAF job, stream and segment', () => {
    const job = { ...fx.jobAnnounce(), container: 'cmaf' }
    assert.equal(codecs.jobAnnounce.decode(codecs.jobAnnounce.encode(job)).container, 'cmaf')
    assert.equal(containerOf(job), 'cmaf')
    assert.equal(containerOf(fx.jobAnnounce()), 'ts', 'absent means ts (old ingests)')
    const stream = { ...fx.streamAnnounce(), container: 'cmaf' }
    assert.equal(codecs.streamAnnounce.decode(codecs.streamAnnounce.encode(stream)).container, 'cmaf')
    const seg = fx.segmentAnnounce()
    seg.mediaTime = 126_000
    seg.renditions = seg.renditions.map(r => ({ ...r, initSize: 1345, initSha256: fx.sha(`init ${r.name}`) }))
    const back = codecs.segmentAnnounce.decode(codecs.segmentAnnounce.encode(seg))
    assert.equal(back.mediaTime, 126_000)
    assert.deepEqual(back.renditions.map(r => r.initSize), seg.renditions.map(() => 1345))
    assert.deepEqual(back.renditions[0]!.initSha256, seg.renditions[0]!.initSha256)
    const plain = codecs.segmentAnnounce.decode(codecs.segmentAnnounce.encode(fx.segmentAnnounce()))
    assert.equal(plain.mediaTime, undefined)
    assert.equal(plain.renditions[0]!.initSize, undefined, 'MPEG-TS segments carry no init')
  })

  it('rejects unknown containers and inconsistent init fields', () => {
    invalid(() => codecs.jobAnnounce.encode({ ...fx.jobAnnounce(), container: 'webm' }), 'container webm')
    invalid(() => codecs.streamAnnounce.encode({ ...fx.streamAnnounce(), container: 'CMAF' }), 'container is case-sensitive')
    const withInit = (o: object): ReturnType<typeof fx.segmentAnnounce> => {
      const seg = fx.segmentAnnounce()
      seg.renditions = [{ ...seg.renditions[0]!, ...o }]
      return seg
    }
    const size = fx.segmentAnnounce().renditions[0]!.size
    invalid(() => codecs.segmentAnnounce.encode(withInit({ initSize: 100 })), 'initSize without initSha256')
    invalid(() => codecs.segmentAnnounce.encode(withInit({ initSha256: fx.sha('x') })), 'initSha256 without initSize')
    invalid(() => codecs.segmentAnnounce.encode(withInit({ initSize: size, initSha256: fx.sha('x') })), 'the init must leave a media segment')
    invalid(() => codecs.segmentAnnounce.encode(withInit({ initSize: MAX_INIT_BYTES + 1, initSha256: fx.sha('x') })), 'init bounded')
    invalid(() => codecs.segmentAnnounce.encode(withInit({ initSize: 100, initSha256: new Uint8Array(5) })), 'a 32-byte hash')
    invalid(() => codecs.segmentAnnounce.encode({ ...fx.segmentAnnounce(), mediaTime: -1 }), 'media time')
    const stream = fx.streamAnnounce()
    stream.renditions = stream.renditions.map(r => ({ ...r, initSize: 100, initSha256: fx.sha('x') }))
    invalid(() => codecs.streamAnnounce.encode(stream), 'no init in stream-level lists')
  })
})
