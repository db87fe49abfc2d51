import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  parseMasterPlaylist, parseMediaPlaylist, PlaylistParseError, renderMasterPlaylist, renderMediaPlaylist,
  type PlaylistSegment, type Variant
} from '../src/index.js'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 0)

describe('parseMediaPlaylist', () => {
  it('round-trips renderMediaPlaylist', () => {
    const segments: PlaylistSegment[] = [
      { seq: 41, durationSec: 2, uri: 'a/41.ts', pdtMs: T0 },
      { seq: 42, durationSec: 1.5, uri: 'gap-42.ts', gap: true, pdtMs: T0 + 2000 },
      { seq: 43, durationSec: 2.345, uri: 'https://cdn.example/43.ts?x=1', discontinuity: true, pdtMs: T0 + 3500 },
      { seq: 44, durationSec: 2, uri: '44.ts' }
    ]
    const text = renderMediaPlaylist({ segments, ended: true, targetDurationSec: 2, discontinuitySequence: 3 })
    const parsed = parseMediaPlaylist(text)
    assert.deepEqual(parsed, {
      version: 3,
      targetDuration: 3,
      mediaSequence: 41,
      discontinuitySequence: 3,
      ended: true,
      independentSegments: true,
      segments
    })
    assert.equal(parseMediaPlaylist(renderMediaPlaylist({ segments, ended: false })).ended, false)
  })

  it('accepts CRLF, a BOM and unknown tags', () => {
    const text = '\uFEFF#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-FOO:bar\r\n#EXTINF:3.9,title\r\nx.ts\r\n'
    assert.deepEqual(parseMediaPlaylist(text).segments, [{ seq: 0, durationSec: 3.9, uri: 'x.ts' }])
  })

  it('rejects non-playlists and master playlists with clear errors', () => {
    const rejects = (text: string, re: RegExp): void => {
      assert.throws(() => parseMediaPlaylist(text), (err: unknown) => err instanceof PlaylistParseError && re.test(err.message))
    }
    rejects('', /missing #EXTM3U/)
    rejects('<html></html>', /missing #EXTM3U/)
    rejects('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n', /master playlist/)
    rejects('#EXTM3U\n#EXTINF:2,\na.ts\n', /missing #EXT-X-TARGETDURATION/)
    rejects('#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n', /without #EXTINF/)
    rejects('#EXTM3U\n#EXT-X-TARGETDURATION:x\n', /line 2: EXT-X-TARGETDURATION/)
    rejects('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n', /invalid date/)
  })
})

describe('parseMasterPlaylist', () => {
  it('round-trips renderMasterPlaylist (in bandwidth order)', () => {
    const variants: Variant[] = [
      { uri: 'hi.m3u8', bandwidth: 5_000_000, averageBandwidth: 4_000_000, width: 1920, height: 1080, codecs: 'avc1.640028,mp4a.40.2', frameRate: 29.97, name: '1080p' },
      { uri: 'lo.m3u8', bandwidth: 500_000, width: 640, height: 360, codecs: 'avc1.4d401e', name: '360p' }
    ]
    const parsed = parseMasterPlaylist(renderMasterPlaylist([variants[1]!, variants[0]!]))
    assert.deepEqual(parsed, { independentSegments: true, variants })
  })

  it('defaults missing optional attributes', () => {
    const parsed = parseMasterPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\naudio.m3u8\n')
    assert.deepEqual(parsed.variants, [{ uri: 'audio.m3u8', bandwidth: 64000, width: 0, height: 0, codecs: 'mp4a.40.2', name: '' }])
  })

  it('rejects non-playlists and media playlists', () => {
    const rejects = (text: string, re: RegExp): void => {
      assert.throws(() => parseMasterPlaylist(text), (err: unknown) => err instanceof PlaylistParseError && re.test(err.message))
    }
    rejects('hello', /missing #EXTM3U/)
    rejects(renderMediaPlaylist({ segments: [{ seq: 0, durationSec: 2, uri: 'a.ts' }], ended: false }), /media playlist/)
    rejects('#EXTM3U\n', /no #EXT-X-STREAM-INF/)
    rejects('#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n', /without BANDWIDTH/)
    rejects('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=big\na.m3u8\n', /RESOLUTION/)
    rejects('#EXTM3U\na.m3u8\n', /without #EXT-X-STREAM-INF/)
  })
})
