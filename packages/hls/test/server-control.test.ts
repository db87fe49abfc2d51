import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { LiveWindow, PlaylistValidationError, renderMediaPlaylist, renderServerControl } from '../src/index.js'

describe('EXT-X-SERVER-CONTROL (low-latency playlists)', () => {
  it('advertises blocking reload with a HOLD-BACK of three target durations, in the header', () => {
    const text = renderMediaPlaylist({
      ended: false,
      targetDurationSec: 1,
      serverControl: { canBlockReload: true },
      segments: [{ seq: 4, durationSec: 1, uri: '4.ts' }, { seq: 5, durationSec: 1, uri: '5.ts' }]
    })
    assert.equal(text, [
      '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:4',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=3.000',
      '#EXTINF:1.000,', '4.ts', '#EXTINF:1.000,', '5.ts', ''
    ].join('\n'))
  })

  it('raises HOLD-BACK with the written target duration (a long segment), never below 3×', () => {
    const text = renderMediaPlaylist({
      ended: false,
      targetDurationSec: 1,
      serverControl: { canBlockReload: true, holdBackSec: 2 },
      segments: [{ seq: 0, durationSec: 1.4, uri: '0.ts' }]
    })
    assert.match(text, /#EXT-X-TARGETDURATION:2\n/)
    assert.match(text, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=6\.000\n/)
    assert.equal(renderServerControl({ canBlockReload: true, holdBackSec: 7.5 }, 2), '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=7.500')
    assert.equal(renderServerControl({ canBlockReload: false }, 2), '#EXT-X-SERVER-CONTROL:HOLD-BACK=6.000')
    assert.throws(() => renderServerControl({ canBlockReload: true, holdBackSec: -1 }, 1), PlaylistValidationError)
  })

  it('is absent unless asked for', () => {
    const text = renderMediaPlaylist({ ended: false, targetDurationSec: 2, segments: [{ seq: 0, durationSec: 2, uri: '0.ts' }] })
    assert.doesNotMatch(text, /SERVER-CONTROL/)
  })

  it('LiveWindow passes it through while live, drops it once ended, and reports its live edge (lastSeq)', () => {
    const w = new LiveWindow({ windowSize: 3, firstSeq: 0 })
    assert.equal(w.lastSeq, undefined)
    w.add({ seq: 1, durationSec: 1, uri: '1.ts' })
    assert.equal(w.lastSeq, undefined, 'seq 1 waits for seq 0')
    w.add({ seq: 0, durationSec: 1, uri: '0.ts' })
    assert.equal(w.lastSeq, 1)
    for (let s = 2; s < 6; s++) w.add({ seq: s, durationSec: 1, uri: `${s}.ts` })
    assert.equal(w.lastSeq, 5)
    assert.equal(w.mediaSequence, 3)
    assert.match(w.toPlaylist({ targetDurationSec: 1, serverControl: { canBlockReload: true } }), /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=3\.000\n/)
    w.end()
    const ended = w.toPlaylist({ targetDurationSec: 1, serverControl: { canBlockReload: true } })
    assert.doesNotMatch(ended, /SERVER-CONTROL/)
    assert.match(ended, /#EXT-X-ENDLIST\n$/)
  })
})
