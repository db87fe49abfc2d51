import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DashManifest, LiveWindow, PlaylistValidationError, type MpdRepresentation, type MpdSegment } from '../src/index.js'

/** The ingest's clock when segment 0 started, and its media time (90 kHz): segments are 2 s. */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 250)
const PTS0 = 126_000

function seg (seq: number, o: Partial<MpdSegment> = {}): MpdSegment {
  return { seq, durationSec: 2, time: PTS0 + seq * 180_000, pdtMs: T0 + seq * 2000, init: 'v/init-aaaaaaaa.mp4', ...o }
}

function rep (id: string, segments: MpdSegment[], extra: Partial<MpdRepresentation> = {}): MpdRepresentation {
  return { id, bandwidth: 500_000, width: 426, height: 240, codecs: 'avc1.64001e', media: `${id}/$Number$.m4s`, segments, ...extra }
}

const periods = (mpd: string): string[] => [...mpd.matchAll(/<Period id="([^"]+)" start="([^"]+)">/g)].map(m => `${m[1]}@${m[2]}`)
const timelines = (mpd: string): string[] => [...mpd.matchAll(/<SegmentTemplate [^>]*startNumber="(\d+)"[^>]*>\s*<SegmentTimeline>\s*([\s\S]*?)\s*<\/SegmentTimeline>/g)].map(m => `${m[1]}:${m[2]!.replace(/\s+/g, ' ')}`)

describe('DashManifest (live DASH from the HLS windows; fake clock)', () => {
  it('renders a dynamic MPD (golden)', () => {
    const m = new DashManifest()
    const mpd = m.render({
      nowMs: T0 + 7000,
      ended: false,
      targetDurationSec: 2,
      representations: [
        rep('240p', [seg(0), seg(1), seg(2)]),
        rep('audio', [seg(0, { init: 'audio/init-bbbbbbbb.mp4' }), seg(1, { init: 'audio/init-bbbbbbbb.mp4' }), seg(2, { init: 'audio/init-bbbbbbbb.mp4' })], { contentType: 'audio', bandwidth: 128_000, codecs: 'mp4a.40.2' })
      ]
    })
    assert.equal(mpd, [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" minBufferTime="PT2S" availabilityStartTime="2024-05-01T12:00:00.000Z" publishTime="2024-05-01T12:00:07.250Z" minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT6S" suggestedPresentationDelay="PT6S">',
      '  <Period id="p0" start="PT0.25S">',
      '    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">',
      '      <Representation id="240p" bandwidth="500000" width="426" height="240" codecs="avc1.64001e">',
      '        <SegmentTemplate timescale="90000" presentationTimeOffset="126000" startNumber="0" initialization="v/init-aaaaaaaa.mp4" media="240p/$Number$.m4s">',
      '          <SegmentTimeline>',
      '            <S t="126000" d="180000" r="2"/>',
      '          </SegmentTimeline>',
      '        </SegmentTemplate>',
      '      </Representation>',
      '    </AdaptationSet>',
      '    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">',
      '      <Representation id="audio" bandwidth="128000" codecs="mp4a.40.2">',
      '        <SegmentTemplate timescale="90000" presentationTimeOffset="126000" startNumber="0" initialization="audio/init-bbbbbbbb.mp4" media="audio/$Number$.m4s">',
      '          <SegmentTimeline>',
      '            <S t="126000" d="180000" r="2"/>',
      '          </SegmentTimeline>',
      '        </SegmentTemplate>',
      '      </Representation>',
      '    </AdaptationSet>',
      '  </Period>',
      '  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2024-05-01T12:00:07.250Z"/>',
      '</MPD>',
      ''
    ].join('\n'))
  })

  it('keeps availabilityStartTime and the Period as the window slides; durations follow the media times', () => {
    const m = new DashManifest()
    const w = new LiveWindow({ windowSize: 3, firstSeq: 0 })
    const times = new Map<number, MpdSegment>()
    const render = (now: number): string => m.render({ nowMs: now, ended: false, targetDurationSec: 2, representations: [rep('240p', w.segments().map(s => times.get(s.seq)!))] })
    for (let seq = 0; seq < 3; seq++) {
      // Segment 1 is 2.1 s long (a late keyframe): its duration comes from segment 2's time.
      const s = seg(seq, seq === 2 ? { time: PTS0 + 2 * 180_000 + 9000 } : {})
      times.set(seq, s)
      w.add({ seq, durationSec: 2, uri: `${seq}.m4s` })
    }
    const first = render(T0 + 6000)
    assert.deepEqual(periods(first), ['p0@PT0.25S'])
    assert.deepEqual(timelines(first), ['0:<S t="126000" d="180000"/> <S t="306000" d="189000"/> <S t="495000" d="180000"/>'])
    for (let seq = 3; seq < 6; seq++) {
      times.set(seq, seg(seq, { time: PTS0 + seq * 180_000 + 9000 }))
      w.add({ seq, durationSec: 2, uri: `${seq}.m4s` })
    }
    const later = render(T0 + 12_000)
    assert.match(later, /availabilityStartTime="2024-05-01T12:00:00.000Z" publishTime="2024-05-01T12:00:12.250Z"/)
    assert.deepEqual(periods(later), ['p0@PT0.25S'], 'same Period id and start after sliding')
    assert.match(later, /presentationTimeOffset="126000" startNumber="3"/)
    assert.deepEqual(timelines(later), ['3:<S t="675000" d="180000" r="2"/>'])
  })

  it('starts a new Period where an init segment changes, and keeps it as the window slides past the old one', () => {
    const m = new DashManifest()
    const b = 'v/init-bbbbbbbb.mp4'
    const a = m.render({ nowMs: T0 + 8000, ended: false, targetDurationSec: 2, representations: [rep('240p', [seg(0), seg(1), seg(2, { init: b }), seg(3, { init: b })])] })
    assert.deepEqual(periods(a), ['p0@PT0.25S', 'p2@PT4.25S'])
    assert.match(a, /presentationTimeOffset="486000" startNumber="2" initialization="v\/init-bbbbbbbb.mp4"/)
    const later = m.render({ nowMs: T0 + 12_000, ended: false, targetDurationSec: 2, representations: [rep('240p', [seg(3, { init: b }), seg(4, { init: b }), seg(5, { init: b })])] })
    assert.deepEqual(periods(later), ['p2@PT4.25S'], 'the window is inside Period p2 now')
    assert.match(later, /presentationTimeOffset="486000" startNumber="3"/)
  })

  it('a discontinuity (a new publish, new timestamps) starts a new Period on the wall clock', () => {
    const m = new DashManifest()
    const mpd = m.render({ nowMs: T0 + 60_000, ended: false, targetDurationSec: 2, representations: [rep('240p', [seg(0), seg(1), seg(2, { discontinuity: true, time: 1000, pdtMs: T0 + 50_000 })])] })
    assert.deepEqual(periods(mpd), ['p0@PT0.25S', 'p2@PT50.25S'])
    assert.match(mpd, /presentationTimeOffset="1000" startNumber="2"/)
  })

  it('a rendition missing a segment (a gap) sits out a Period; a segment not every representation has yet waits', () => {
    const m = new DashManifest()
    const mpd = m.render({
      nowMs: T0 + 9000,
      ended: false,
      targetDurationSec: 2,
      representations: [
        rep('source', [seg(0), seg(1), seg(2), seg(3)], { width: 640, height: 360 }),
        rep('240p', [seg(0), seg(1, { gap: true }), seg(2)])
      ]
    })
    // 3 is left out: 240p has not settled it yet.
    assert.deepEqual(periods(mpd), ['p0@PT0.25S', 'p1@PT2.25S', 'p2@PT4.25S'])
    assert.equal((mpd.match(/<Representation id="240p"/g) ?? []).length, 2)
    assert.equal((mpd.match(/<Representation id="source"/g) ?? []).length, 3)
    assert.doesNotMatch(mpd, /t="666000"/)
  })

  it('an ended stream is a static MPD with a presentation duration, starting at 0', () => {
    const m = new DashManifest()
    m.render({ nowMs: T0 + 3000, ended: false, targetDurationSec: 2, representations: [rep('240p', [seg(0)])] })
    const mpd = m.render({ nowMs: T0 + 30_000, ended: true, targetDurationSec: 2, representations: [rep('240p', [seg(0), seg(1), seg(2)])] })
    assert.match(mpd, /type="static"/)
    assert.match(mpd, /mediaPresentationDuration="PT6S"/)
    assert.doesNotMatch(mpd, /minimumUpdatePeriod|availabilityStartTime|UTCTiming/)
    assert.deepEqual(periods(mpd), ['p0@PT0S'])
  })

  it('refuses what it cannot render', () => {
    const m = new DashManifest()
    const base = { nowMs: T0, ended: false, targetDurationSec: 2 }
    assert.throws(() => m.render({ ...base, representations: [rep('240p', [seg(0), seg(2)])] }), PlaylistValidationError)
    assert.throws(() => m.render({ ...base, representations: [rep('bad id"', [seg(0)])] }), /not a safe name/)
    assert.throws(() => m.render({ ...base, representations: [rep('240p', [seg(0)], { media: '240p/x.m4s' })] }), /\$Number\$/)
    assert.throws(() => m.render({ ...base, targetDurationSec: 0, representations: [] }), /targetDurationSec/)
  })
})
