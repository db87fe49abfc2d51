import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StreamAnnounce } from '@diststream/protocol'
import { FakeClock } from '@diststream/util'
import { REPROVIDE_MS } from '../src/constants.js'
import { acceptsPublish, afterDelete, afterSegment, goLive, isEndedForPlayers, lifecycleRecord, onRestart, pullEnded, shouldReannounce, shouldReprovide, toIdle, vodEnded, wireState } from '../src/stream-state.js'
import type { SegmentRecord, StreamRecord, StreamState } from '@diststream/store'

const T0 = 1_700_000_000_000
const base: StreamRecord = { id: 's1', name: 'show', keyHash: 'h1', createdAt: T0, state: 'idle' }
const rec = (fields: Partial<StreamRecord>): StreamRecord => ({ ...base, ...fields })

describe('stream-state: transitions of a published (RTMP) stream', () => {
  it('idle → live → idle (over for players) → live again → ended by DELETE', () => {
    const clock = new FakeClock(T0)
    clock.advance(1000)
    const live = goLive(base, clock.now())
    assert.deepEqual([live.state, live.startedAt], ['live', T0 + 1000])
    assert.equal(isEndedForPlayers(live), false)
    clock.advance(5000)
    const idle = toIdle(live, clock.now())
    assert.deepEqual([idle.state, idle.endedAt], ['idle', T0 + 6000])
    assert.equal(isEndedForPlayers(idle), true, 'the publisher left: ENDLIST')
    clock.advance(1000)
    const again = goLive(idle, clock.now())
    assert.equal(isEndedForPlayers(again), false, 'published again')
    assert.equal(isEndedForPlayers({ ...again, state: 'idle' }), false, 'idle after a newer start is not ended')
    clock.advance(1000)
    const ended = afterDelete(again, clock.now())
    assert.deepEqual([ended.state, ended.endedAt], ['ended', T0 + 8000])
  })

  it('a refused publish: idle with the reason, cleared when it is published again (review M3)', () => {
    const idle = toIdle(goLive(base, T0 + 1000), T0 + 2000, { message: 'keyframe interval too long: no keyframe for more than 20 s' })
    assert.deepEqual([idle.state, idle.error], ['idle', 'publish stopped: keyframe interval too long: no keyframe for more than 20 s'])
    assert.equal(isEndedForPlayers(idle), true)
    const again = goLive(idle, T0 + 3000)
    assert.equal('error' in again, false, 'a new publish starts without the old reason')
  })

  it('DELETE of a stream whose publisher already left keeps the time it ended', () => {
    const idle = toIdle(goLive(base, T0 + 1000), T0 + 2000)
    assert.deepEqual([afterDelete(idle, T0 + 9000).state, afterDelete(idle, T0 + 9000).endedAt], ['ended', T0 + 2000])
    // never published: ends now
    assert.deepEqual([afterDelete(base, T0 + 9000).state, afterDelete(base, T0 + 9000).endedAt], ['ended', T0 + 9000])
  })

  it('afterDelete: a table of every state', () => {
    const now = T0 + 50_000
    const cases: Array<[string, StreamRecord, StreamState, number, string | undefined]> = [
      ['processing VOD fails', rec({ state: 'processing', vod: true }), 'failed', now, 'stopped by DELETE while processing'],
      ['ready VOD ends now', rec({ state: 'ready', vod: true, startedAt: T0, endedAt: T0 + 10 }), 'ended', now, undefined],
      ['failed stays failed', rec({ state: 'failed', error: 'x', endedAt: T0 + 10 }), 'failed', now, 'x'],
      ['live ends now', rec({ state: 'live', startedAt: T0 + 5 }), 'ended', now, undefined],
      ['ended keeps its end', rec({ state: 'ended', endedAt: T0 + 7 }), 'ended', T0 + 7, undefined]
    ]
    for (const [what, cur, state, endedAt, error] of cases) {
      const next = afterDelete(cur, now)
      assert.deepEqual([next.state, next.endedAt, next.error], [state, endedAt, error], what)
    }
  })

  it('acceptsPublish: RTMP streams not ended for good', () => {
    const cases: Array<[StreamRecord, boolean]> = [
      [base, true],
      [rec({ state: 'live' }), true],
      [rec({ state: 'idle', endedAt: T0 }), true],
      [rec({ state: 'ended' }), false],
      [rec({ state: 'live', sourceUrl: 'rtsp://cam/1' }), false],
      [rec({ state: 'ready', vod: true }), false]
    ]
    for (const [s, want] of cases) assert.equal(acceptsPublish(s), want, JSON.stringify(s))
  })
})

describe('stream-state: restart, pulls and VODs', () => {
  it('onRestart: a table', () => {
    const now = T0 + 100
    const cases: Array<[string, StreamRecord, Partial<StreamRecord> | undefined]> = [
      ['a publish died with the process: idle', rec({ state: 'live', startedAt: T0 }), { state: 'idle', endedAt: now }],
      ['a pulled live stream is pulled again: unchanged', rec({ state: 'live', sourceUrl: '/x.mp4' }), undefined],
      ['a VOD being processed fails', rec({ state: 'processing', vod: true }), { state: 'failed', error: 'the ingest restarted while processing this VOD; upload it again', endedAt: now }],
      ['idle: unchanged', base, undefined],
      ['ready: unchanged', rec({ state: 'ready', vod: true }), undefined],
      ['ended: unchanged', rec({ state: 'ended' }), undefined]
    ]
    for (const [what, s, want] of cases) {
      const next = onRestart(s, now)
      assert.deepEqual(next, want == null ? undefined : { ...s, ...want }, what)
    }
  })

  it('pullEnded: ended, failed with the reason, or no change unless live', () => {
    const live = rec({ state: 'live', sourceUrl: '/x.mp4', startedAt: T0 })
    assert.deepEqual(pullEnded(live, {}, T0 + 5), { ...live, state: 'ended', endedAt: T0 + 5 })
    assert.deepEqual(pullEnded(live, { error: 'Connection refused' }, T0 + 5), { ...live, state: 'failed', error: 'cannot read the source: Connection refused', endedAt: T0 + 5 })
    assert.equal(pullEnded({ ...live, state: 'ended' }, {}, T0 + 5), undefined, 'deleted meanwhile')
    assert.deepEqual(pullEnded(live, { refused: { message: 'segment too large: x' } }, T0 + 5), { ...live, state: 'failed', error: 'source stopped: segment too large: x', endedAt: T0 + 5 })
  })

  it('vodEnded: a table of outcomes', () => {
    const cur = rec({ state: 'processing', vod: true, startedAt: T0 })
    const now = T0 + 30_000
    const cases: Array<[string, { segments: number, error?: string, refused?: { message: string } }, boolean, StreamState, string | undefined]> = [
      ['refused by the segmenter', { segments: 2, refused: { message: 'keyframe interval too long: x' } }, false, 'failed', 'cannot cut the file: keyframe interval too long: x'],
      ['every segment done', { segments: 4 }, false, 'ready', undefined],
      ['unreadable', { segments: 0, error: 'Invalid data' }, false, 'failed', 'cannot read the file: Invalid data'],
      ['no video', { segments: 0 }, false, 'failed', 'the file has no video'],
      ['stopped as too long', { segments: 3 }, true, 'failed', 'the video is longer than 10 segments, the most a VOD may have'],
      ['more segments than an index lists', { segments: 11 }, false, 'failed', 'the video is longer than 10 segments, the most a VOD may have']
    ]
    for (const [what, end, tooLong, state, error] of cases) {
      const next = vodEnded(cur, end, tooLong, 10, now)!
      assert.deepEqual([next.state, next.error, next.endedAt], [state, error, now], what)
      if (state === 'ready') assert.deepEqual(next.progress, { segments: 4, done: 4, cutDone: true })
    }
    assert.equal(vodEnded({ ...cur, state: 'failed' }, { segments: 4 }, false, 10, now), undefined, 'stopped meanwhile: no change (and no vod.ready)')
    assert.equal(vodEnded({ ...cur, state: 'ready' }, { segments: 4 }, false, 10, now), undefined, 'ready once only')
  })
})

describe('stream-state: what the network is told', () => {
  it('wireState: LIVE while live or processing, ENDED once over', () => {
    const cases: Array<[StreamRecord, StreamAnnounce.State]> = [
      [rec({ state: 'live', startedAt: T0 }), StreamAnnounce.State.LIVE],
      [rec({ state: 'processing', vod: true }), StreamAnnounce.State.LIVE],
      [base, StreamAnnounce.State.LIVE],
      [rec({ state: 'idle', startedAt: T0, endedAt: T0 + 1 }), StreamAnnounce.State.ENDED],
      [rec({ state: 'ready', vod: true }), StreamAnnounce.State.ENDED],
      [rec({ state: 'failed' }), StreamAnnounce.State.ENDED],
      [rec({ state: 'ended' }), StreamAnnounce.State.ENDED]
    ]
    for (const [s, want] of cases) assert.equal(wireState(s), want, s.state)
  })

  it('shouldReannounce: live, processing and ready; never an end (announced at the change instead)', () => {
    const ended = rec({ state: 'ended', endedAt: T0 })
    const failed = rec({ state: 'failed', endedAt: T0 })
    const idle = rec({ state: 'idle', startedAt: T0 - 10, endedAt: T0 })
    for (const s of [rec({ state: 'live' }), rec({ state: 'processing' }), rec({ state: 'ready' })]) assert.equal(shouldReannounce(s), true, s.state)
    assert.equal(shouldReannounce(base), false, 'never published')
    for (const s of [ended, failed, idle]) assert.equal(shouldReannounce(s), false, `${s.state}, just ended`)
  })

  it('shouldReprovide: live streams, every REPROVIDE_MS', () => {
    const clock = new FakeClock(T0)
    const live = rec({ state: 'live' })
    assert.equal(shouldReprovide(live, undefined, clock.now()), true, 'never provided')
    assert.equal(shouldReprovide(live, T0, clock.now()), false)
    clock.advance(REPROVIDE_MS + 1)
    assert.equal(shouldReprovide(live, T0, clock.now()), true)
    assert.equal(shouldReprovide(rec({ state: 'ended' }), undefined, clock.now()), false)
  })

  it('lifecycleRecord: last activity is the latest of every timestamp', () => {
    const s = rec({ state: 'ended', startedAt: T0 + 1, endedAt: T0 + 5, lastSegmentAt: T0 + 4, heartbeatAt: T0 + 9 })
    assert.deepEqual(lifecycleRecord(s), { id: 's1', ended: true, lastActivityAt: T0 + 9, endedAt: T0 + 5 })
    assert.deepEqual(lifecycleRecord(base), { id: 's1', ended: false, lastActivityAt: T0, endedAt: undefined })
  })

  it('afterSegment: renditions merged by peak bandwidth; a change is re-announced', () => {
    const r = (name: string, bandwidth: number): SegmentRecord['renditions'][number] => ({ name, width: 1, height: 1, bandwidth, codecs: 'avc1', size: 10, sha256: 'ab' })
    const seg = (seq: number, renditions: SegmentRecord['renditions']): SegmentRecord => ({ streamId: 's1', seq, durationMs: 2000, pdtMs: T0, discontinuity: false, renditions })
    const source = { width: 640, height: 360, videoCodec: 'h264', audioCodec: null, fpsMilli: 30000 }
    const first = afterSegment(base, { ...base, source }, seg(0, [r('source', 500)]), T0 + 1)
    assert.equal(first.renditionsChanged, true)
    assert.deepEqual([first.next.lastSeq, first.next.lastSegmentAt, first.next.source, first.next.renditions?.map(x => [x.name, x.bandwidth, x.size, x.sha256])], [0, T0 + 1, source, [['source', 500, 0, '']]])
    const lower = afterSegment(first.next, base, seg(1, [r('source', 400)]), T0 + 2)
    assert.equal(lower.renditionsChanged, false, 'a lower bandwidth keeps the peak')
    assert.deepEqual([lower.next.renditions?.[0]?.bandwidth, lower.next.source], [500, source])
    const late = afterSegment(lower.next, base, seg(0, [r('source', 500), r('240p', 100)]), T0 + 3)
    assert.equal(late.renditionsChanged, true, 'a new rendition')
    assert.equal(late.next.lastSeq, 1, 'a late segment does not move lastSeq back')
  })
})
