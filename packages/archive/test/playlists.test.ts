import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { archivePlaylists } from '../src/index.js'
import type { ArchivedSegment } from '../src/index.js'

const ts = (seq: number, extra: Partial<ArchivedSegment> = {}): ArchivedSegment => ({
  seq,
  durationMs: 2000,
  discontinuity: false,
  renditions: [
    { name: 'source', width: 640, height: 360, bandwidth: 900_000, codecs: '', size: 100_000 },
    { name: '240p', width: 426, height: 240, bandwidth: 400_000, codecs: '', size: 40_000 }
  ],
  ...extra
})

const cmaf = (seq: number, init = 'aa'): ArchivedSegment => ({
  seq,
  durationMs: 2002,
  discontinuity: false,
  renditions: [
    { name: '240p', width: 426, height: 240, bandwidth: 400_000, codecs: 'avc1.64001e', size: 41_000, initSize: 700, initSha256: init },
    { name: 'audio', width: 0, height: 0, bandwidth: 128_000, codecs: 'mp4a.40.2', size: 33_000, initSize: 600, initSha256: 'bb' }
  ]
})

describe('archive playlists', () => {
  it('MPEG-TS: a VOD media playlist per rendition in order, a master with the best variant first', () => {
    const p = archivePlaylists([ts(2), ts(0), ts(1)])
    assert.deepEqual([...p.media.keys()].sort(), ['240p', 'source'])
    const m = p.media.get('240p')!
    assert.match(m, /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n/)
    assert.deepEqual(m.split('\n').filter(l => l.endsWith('.ts')), ['0.ts', '1.ts', '2.ts'])
    assert.ok(m.trimEnd().endsWith('#EXT-X-ENDLIST'))
    assert.ok(!m.includes('DISCONTINUITY'))
    const lines = p.master.split('\n')
    assert.deepEqual(lines.filter(l => l.endsWith('index.m3u8')), ['source/index.m3u8', '240p/index.m3u8'])
    assert.ok(lines.includes('#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=426x240'))
  })

  it('a missing segment or a restarted publish is a discontinuity', () => {
    const m = archivePlaylists([ts(0), ts(1), ts(3), ts(4, { discontinuity: true })]).media.get('source')!
    assert.equal(m.split('\n').filter(l => l === '#EXT-X-DISCONTINUITY').length, 2)
    assert.ok(m.indexOf('#EXT-X-DISCONTINUITY') < m.indexOf('3.ts'))
  })

  it('fMP4: the init is the first bytes of a segment file (EXT-X-MAP byte range), each segment the bytes after it; audio is the master\'s audio group', () => {
    const p = archivePlaylists([cmaf(5), cmaf(6), cmaf(7, 'cc')])
    const v = p.media.get('240p')!.split('\n')
    assert.ok(v.includes('#EXT-X-VERSION:7'))
    assert.deepEqual(v.filter(l => l.startsWith('#EXT-X-MAP')), ['#EXT-X-MAP:URI="5.ts",BYTERANGE="700@0"', '#EXT-X-MAP:URI="7.ts",BYTERANGE="700@0"'])
    assert.deepEqual(v.filter(l => l.startsWith('#EXT-X-BYTERANGE')), ['#EXT-X-BYTERANGE:40300@700', '#EXT-X-BYTERANGE:40300@700', '#EXT-X-BYTERANGE:40300@700'])
    assert.ok(v.includes('#EXT-X-MEDIA-SEQUENCE:5'))
    assert.ok(v.includes('#EXTINF:2.002,'))
    const master = p.master.split('\n')
    assert.ok(master.includes('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"'))
    assert.deepEqual(master.filter(l => l.startsWith('#EXT-X-STREAM-INF')), ['#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=426x240,CODECS="avc1.64001e",AUDIO="aud"'])
  })

  it('an audio-only stream: the master\'s one variant is the audio playlist', () => {
    const seg: ArchivedSegment = { seq: 0, durationMs: 2000, discontinuity: false, renditions: [{ name: 'audio', width: 0, height: 0, bandwidth: 128_000, codecs: 'mp4a.40.2', size: 30_000, initSize: 600 }] }
    const master = archivePlaylists([seg]).master.split('\n')
    assert.deepEqual(master.filter(l => l.endsWith('.m3u8')), ['audio/index.m3u8'])
    assert.ok(!master.some(l => l.startsWith('#EXT-X-MEDIA')))
  })
})
