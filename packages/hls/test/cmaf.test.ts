import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { LiveWindow, parseMediaPlaylist, PlaylistValidationError, renderMasterPlaylist, renderMediaPlaylist } from '../src/index.js'

describe('fMP4 (CMAF) playlists: EXT-X-MAP, version 7, audio group', () => {
  it('writes EXT-X-MAP before the first segment and again where the init changes (gaps do not reset it)', () => {
    const text = renderMediaPlaylist({
      ended: true,
      version: 7,
      targetDurationSec: 2,
      segments: [
        { seq: 4, durationSec: 2, uri: '4.m4s', map: 'init-aaaaaaaa.mp4' },
        { seq: 5, durationSec: 2, uri: '5.m4s', map: 'init-aaaaaaaa.mp4' },
        { seq: 6, durationSec: 2, uri: 'gap-6.m4s', gap: true },
        { seq: 7, durationSec: 2, uri: '7.m4s', map: 'init-aaaaaaaa.mp4' },
        { seq: 8, durationSec: 2, uri: '8.m4s', map: 'init-bbbbbbbb.mp4', discontinuity: true }
      ]
    })
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:4',
      '#EXT-X-MAP:URI="init-aaaaaaaa.mp4"', '#EXTINF:2.000,', '4.m4s',
      '#EXTINF:2.000,', '5.m4s',
      '#EXTINF:2.000,', '#EXT-X-GAP', 'gap-6.m4s',
      '#EXTINF:2.000,', '7.m4s',
      '#EXT-X-DISCONTINUITY', '#EXT-X-MAP:URI="init-bbbbbbbb.mp4"', '#EXTINF:2.000,', '8.m4s',
      '#EXT-X-ENDLIST', ''
    ].join('\n'))
    const parsed = parseMediaPlaylist(text)
    assert.equal(parsed.version, 7)
    assert.deepEqual(parsed.segments.map(s => s.map), ['init-aaaaaaaa.mp4', 'init-aaaaaaaa.mp4', 'init-aaaaaaaa.mp4', 'init-aaaaaaaa.mp4', 'init-bbbbbbbb.mp4'])
  })

  it('a sliding window repeats the map at its new first segment', () => {
    const w = new LiveWindow({ windowSize: 2, firstSeq: 0 })
    for (let seq = 0; seq < 4; seq++) w.add({ seq, durationSec: 2, uri: `${seq}.m4s`, map: 'init-aaaaaaaa.mp4' })
    const text = w.toPlaylist({ targetDurationSec: 2, version: 7 })
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-MAP:URI="init-aaaaaaaa.mp4"\n#EXTINF:2.000,\n2.m4s\n#EXTINF:2.000,\n3.m4s\n$/)
  })

  it('refuses EXT-X-MAP below version 6 and map URIs that cannot be quoted', () => {
    const seg = { seq: 0, durationSec: 2, uri: '0.m4s', map: 'init-aaaaaaaa.mp4' }
    assert.throws(() => renderMediaPlaylist({ ended: false, segments: [seg] }), /needs version >= 6/)
    assert.throws(() => renderMediaPlaylist({ ended: false, version: 7, segments: [{ ...seg, map: 'a"b' }] }), PlaylistValidationError)
    assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:BYTERANGE="1@0"\n#EXTINF:2,\n0.m4s\n'), /EXT-X-MAP without URI/)
  })

  it('master playlist: version 7, an audio group every video variant plays with', () => {
    const text = renderMasterPlaylist([
      { uri: '240p/index.m3u8', bandwidth: 600_000, width: 426, height: 240, codecs: 'avc1.64001e,mp4a.40.2', name: '240p', audio: 'audio' },
      { uri: 'source/index.m3u8', bandwidth: 900_000, width: 640, height: 360, codecs: 'avc1.64001e,mp4a.40.2', name: 'source', audio: 'audio' }
    ], { version: 7, audio: [{ groupId: 'audio', name: 'audio', uri: 'audio/index.m3u8' }] })
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio",NAME="source"', 'source/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=426x240,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio",NAME="240p"', '240p/index.m3u8', ''
    ].join('\n'))
    assert.throws(() => renderMasterPlaylist([{ uri: 'a/index.m3u8', bandwidth: 1, width: 2, height: 2, codecs: 'avc1.64001e', name: 'a', audio: 'nope' }]), /no audio group/)
  })
})
