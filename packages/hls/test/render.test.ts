import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  formatProgramDateTime, PlaylistValidationError, renderMasterPlaylist, renderMediaPlaylist, type Variant
} from '../src/index.js'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 0)

describe('renderMediaPlaylist', () => {
  it('renders a live playlist (golden)', () => {
    const text = renderMediaPlaylist({
      ended: false,
      targetDurationSec: 2,
      segments: [
        { seq: 7, durationSec: 2, uri: 'seg/7.ts', pdtMs: T0 },
        { seq: 8, durationSec: 1.9996, uri: 'seg/8.ts', pdtMs: T0 + 2000 },
        { seq: 9, durationSec: 2.002, uri: 'seg/9.ts', pdtMs: T0 + 4000 }
      ]
    })
    assert.equal(text, [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-TARGETDURATION:3',
      '#EXT-X-MEDIA-SEQUENCE:7',
      '#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.000Z',
      '#EXTINF:2.000,',
      'seg/7.ts',
      '#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:02.000Z',
      '#EXTINF:2.000,',
      'seg/8.ts',
      '#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:04.000Z',
      '#EXTINF:2.002,',
      'seg/9.ts',
      ''
    ].join('\n'))
  })

  it('renders discontinuity, gap, discontinuity sequence, version and ENDLIST (golden)', () => {
    const text = renderMediaPlaylist({
      ended: true,
      discontinuitySequence: 2,
      version: 6,
      segments: [
        { seq: 0, durationSec: 4, uri: '0.ts' },
        { seq: 1, durationSec: 4, uri: 'gap-1.ts', gap: true },
        { seq: 2, durationSec: 3.5, uri: '2.ts', discontinuity: true, pdtMs: T0 + 123 }
      ]
    })
    assert.equal(text, [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-DISCONTINUITY-SEQUENCE:2',
      '#EXTINF:4.000,',
      '0.ts',
      '#EXTINF:4.000,',
      '#EXT-X-GAP',
      'gap-1.ts',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.123Z',
      '#EXTINF:3.500,',
      '2.ts',
      '#EXT-X-ENDLIST',
      ''
    ].join('\n'))
  })

  it('rounds the target duration up from the rendered EXTINF, never below the given one', () => {
    const td = (durations: number[], targetDurationSec?: number): string => {
      const text = renderMediaPlaylist({
        ended: false,
        ...(targetDurationSec !== undefined ? { targetDurationSec } : {}),
        segments: durations.map((durationSec, seq) => ({ seq, durationSec, uri: `${seq}.ts` }))
      })
      return /#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1] ?? ''
    }
    assert.equal(td([2, 2]), '2')
    assert.equal(td([2, 2.001]), '3')
    assert.equal(td([2.0004]), '2') // written as 2.000
    assert.equal(td([0.5]), '1')
    assert.equal(td([2], 6), '6')
    assert.equal(td([2], 5.5), '6')
    assert.equal(td([7.2], 6), '8')
    assert.equal(td([]), '1')
  })

  it('renders an empty playlist with the given media sequence', () => {
    const text = renderMediaPlaylist({ segments: [], ended: false, mediaSequence: 42, targetDurationSec: 2 })
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:42\n/)
    assert.doesNotMatch(text, /#EXTINF/)
  })

  it('rejects non-contiguous segments instead of renumbering', () => {
    assert.throws(() => renderMediaPlaylist({
      ended: false,
      segments: [{ seq: 1, durationSec: 2, uri: '1.ts' }, { seq: 3, durationSec: 2, uri: '3.ts' }]
    }), (err: unknown) => err instanceof PlaylistValidationError && /expected seq 2/.test(err.message))
    assert.throws(() => renderMediaPlaylist({
      ended: false,
      segments: [{ seq: 2, durationSec: 2, uri: '2.ts' }, { seq: 1, durationSec: 2, uri: '1.ts' }]
    }), PlaylistValidationError)
  })

  it('rejects malformed input', () => {
    const bad = [
      { seq: -1, durationSec: 2, uri: 'a.ts' },
      { seq: 1.5, durationSec: 2, uri: 'a.ts' },
      { seq: 1, durationSec: 0, uri: 'a.ts' },
      { seq: 1, durationSec: NaN, uri: 'a.ts' },
      { seq: 1, durationSec: 2, uri: '' },
      { seq: 1, durationSec: 2, uri: 'a.ts\n#EXT-X-ENDLIST' },
      { seq: 1, durationSec: 2, uri: '#a' },
      { seq: 1, durationSec: 2, uri: 'a.ts', pdtMs: Infinity }
    ]
    for (const s of bad) {
      assert.throws(() => renderMediaPlaylist({ ended: false, segments: [s] }), PlaylistValidationError, JSON.stringify(s))
    }
    const ok = [{ seq: 1, durationSec: 2, uri: 'a.ts' }]
    assert.throws(() => renderMediaPlaylist({ ended: false, segments: ok, version: 2 }), PlaylistValidationError)
    assert.throws(() => renderMediaPlaylist({ ended: false, segments: ok, discontinuitySequence: -1 }), PlaylistValidationError)
    assert.throws(() => renderMediaPlaylist({ ended: false, segments: ok, mediaSequence: 0 }), PlaylistValidationError)
    assert.throws(() => renderMediaPlaylist({ ended: false, segments: ok, targetDurationSec: 0 }), PlaylistValidationError)
  })
})

describe('formatProgramDateTime', () => {
  it('writes ISO 8601 UTC with milliseconds', () => {
    assert.equal(formatProgramDateTime(0), '1970-01-01T00:00:00.000Z')
    assert.equal(formatProgramDateTime(T0 + 5), '2024-05-01T12:00:00.005Z')
    assert.equal(formatProgramDateTime(T0 + 0.6), '2024-05-01T12:00:00.001Z')
    assert.throws(() => formatProgramDateTime(NaN), PlaylistValidationError)
    assert.throws(() => formatProgramDateTime(9e15), PlaylistValidationError)
  })
})

describe('renderMasterPlaylist', () => {
  const variants: Variant[] = [
    { uri: '360p/index.m3u8', bandwidth: 800_000, width: 640, height: 360, codecs: 'avc1.4d401e,mp4a.40.2', name: '360p' },
    { uri: '1080p/index.m3u8', bandwidth: 6_000_000, averageBandwidth: 5_000_000, width: 1920, height: 1080, codecs: 'avc1.640028,mp4a.40.2', frameRate: 29.97, name: '1080p' },
    { uri: '720p/index.m3u8', bandwidth: 3_000_000, width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, name: '720p' }
  ]

  it('renders variants by bandwidth descending (golden)', () => {
    assert.equal(renderMasterPlaylist(variants), [
      '#EXTM3U',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=6000000,AVERAGE-BANDWIDTH=5000000,RESOLUTION=1920x1080,CODECS="avc1.640028,mp4a.40.2",FRAME-RATE=29.970,NAME="1080p"',
      '1080p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000,NAME="720p"',
      '720p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",NAME="360p"',
      '360p/index.m3u8',
      ''
    ].join('\n'))
  })

  it('does not reorder its input and rounds fractional bandwidth up', () => {
    const input = [...variants]
    renderMasterPlaylist(input)
    assert.deepEqual(input, variants)
    const text = renderMasterPlaylist([{ ...variants[0]!, bandwidth: 1000.2 }])
    assert.match(text, /BANDWIDTH=1001,/)
  })

  it('rejects bad variants', () => {
    const v = variants[0]!
    assert.throws(() => renderMasterPlaylist([]), PlaylistValidationError)
    for (const bad of [
      { ...v, bandwidth: 0 }, { ...v, width: 0 }, { ...v, height: 1.5 }, { ...v, codecs: '' },
      { ...v, codecs: 'a"b' }, { ...v, name: 'x\ny' }, { ...v, uri: '' }, { ...v, frameRate: -1 }
    ]) {
      assert.throws(() => renderMasterPlaylist([bad]), PlaylistValidationError, JSON.stringify(bad))
    }
  })
})

describe('renderMediaPlaylist: playlist types', () => {
  it('renders a VOD playlist: PLAYLIST-TYPE before the segments, ENDLIST after (golden)', () => {
    const text = renderMediaPlaylist({
      ended: true,
      playlistType: 'VOD',
      targetDurationSec: 2,
      segments: [
        { seq: 0, durationSec: 2, uri: '0.ts' },
        { seq: 1, durationSec: 1.5, uri: '1.ts' }
      ]
    })
    assert.equal(text, [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXTINF:2.000,',
      '0.ts',
      '#EXTINF:1.500,',
      '1.ts',
      '#EXT-X-ENDLIST',
      ''
    ].join('\n'))
  })

  it('refuses a VOD playlist that is not ended, and unknown types', () => {
    assert.throws(() => renderMediaPlaylist({ ended: false, playlistType: 'VOD', segments: [] }), PlaylistValidationError)
    assert.throws(() => renderMediaPlaylist({ ended: true, playlistType: 'LIVE' as never, segments: [] }), PlaylistValidationError)
  })

  it('renders EVENT without ENDLIST while it grows', () => {
    const text = renderMediaPlaylist({ ended: false, playlistType: 'EVENT', segments: [{ seq: 0, durationSec: 2, uri: '0.ts' }] })
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT\n/)
    assert.doesNotMatch(text, /ENDLIST/)
  })
})
