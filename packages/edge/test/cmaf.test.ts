import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { DashManifest, renderMasterPlaylist } from '@diststream/hls'
import { cmafInfo, cmafMaster, entryUris, initLength, initName, initPart, isAudioRendition, mediaPart, renderDash } from '../src/cmaf.js'
import type { SegmentAnnounce } from '@diststream/protocol'

function box (type: string, payload: number[] = []): Buffer {
  const out = Buffer.alloc(8 + payload.length)
  out.writeUInt32BE(out.byteLength, 0)
  out.write(type, 4, 'latin1')
  Buffer.from(payload).copy(out, 8)
  return out
}

const init = Buffer.concat([box('ftyp', [1, 2, 3, 4]), box('moov', [5, 6])])
const media = Buffer.concat([box('moof', [7]), box('mdat', [8, 9, 10])])
const stored = Buffer.concat([init, media])
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const entry = { data: stored, etag: `"${sha(stored)}"` }

describe('edge CMAF: the stored init + media segment served as two files', () => {
  it('cuts the init and the media segment, each with its own strong ETag; the init must match its hash', () => {
    assert.equal(initLength(stored), init.byteLength)
    const m = mediaPart(entry, init.byteLength)
    assert.deepEqual(m.data, media)
    assert.equal(m.etag, `"${sha(stored)}-m4s"`)
    const i = initPart(entry, { size: init.byteLength, sha: sha(init) })
    assert.deepEqual(i.data, init)
    assert.equal(i.etag, `"${sha(init)}"`)
    assert.throws(() => initPart(entry, { size: init.byteLength, sha: sha(media) }), /do not match/)
    assert.throws(() => mediaPart(entry, stored.byteLength), /does not fit/)
    assert.throws(() => initLength(media), /expected ftyp/)
    assert.throws(() => initLength(Buffer.concat([box('ftyp'), Buffer.from([0, 0, 0x10, 0, 0x6d, 0x6f, 0x6f, 0x76])])), /expected moov/)
  })

  it('names inits by hash and writes .m4s entries with EXT-X-MAP for fMP4 renditions', () => {
    const seg: SegmentAnnounce = {
      streamId: 's',
      seq: 3,
      durationMs: 2000,
      pdtMs: 1,
      discontinuity: false,
      mediaTime: 540_000,
      renditions: [
        { name: '240p', width: 426, height: 240, bandwidth: 1, codecs: 'avc1.64001e', size: 100, sha256: new Uint8Array(32), initSize: 20, initSha256: Buffer.from(sha(init), 'hex') },
        { name: 'old', width: 426, height: 240, bandwidth: 1, codecs: 'avc1.64001e', size: 100, sha256: new Uint8Array(32) }
      ]
    }
    const info = cmafInfo(seg)
    assert.equal(info.mediaTime, 540_000)
    assert.deepEqual(info.inits.get('240p'), { size: 20, sha: sha(init) })
    assert.deepEqual(entryUris(3, info.inits.get('240p'), true), { uri: '3.m4s', map: initName(sha(init)) })
    assert.match(initName(sha(init)), /^init-[0-9a-f]{8}\.mp4$/)
    assert.deepEqual(entryUris(3, undefined, false), { uri: '3.ts' })
  })

  it('master: video variants carry the audio rendition (bandwidth, codecs, AUDIO group)', () => {
    const audio = { name: 'audio', width: 0, height: 0, bandwidth: 130_000, codecs: 'mp4a.40.2' }
    assert.ok(isAudioRendition(audio))
    const { variants, audio: media } = cmafMaster([{ name: '240p', width: 426, height: 240, bandwidth: 500_000, codecs: 'avc1.64001e' }, audio])
    assert.deepEqual(variants, [{ uri: '240p/index.m3u8', name: '240p', bandwidth: 630_000, width: 426, height: 240, codecs: 'avc1.64001e,mp4a.40.2', audio: 'audio' }])
    assert.deepEqual(media, [{ groupId: 'audio', name: 'audio', uri: 'audio/index.m3u8' }])
  })

  it('an audio-only stream: the audio playlist is the one variant, no group, and the master renders without RESOLUTION', () => {
    const audio = { name: 'audio', width: 0, height: 0, bandwidth: 130_000, codecs: 'mp4a.40.2' }
    const { variants, audio: media } = cmafMaster([audio])
    assert.deepEqual(variants, [{ uri: 'audio/index.m3u8', name: 'audio', bandwidth: 130_000, width: 0, height: 0, codecs: 'mp4a.40.2' }])
    assert.deepEqual(media, [])
    const text = renderMasterPlaylist(variants, { version: 7, audio: media })
    assert.match(text, /^#EXT-X-STREAM-INF:BANDWIDTH=130000,CODECS="mp4a\.40\.2",NAME="audio"\naudio\/index\.m3u8$/m)
    assert.doesNotMatch(text, /RESOLUTION|TYPE=AUDIO/)
    assert.throws(() => renderMasterPlaylist([{ ...variants[0]!, width: 0, height: 240 }]), /width and height/, 'a half-zero size is still refused')
  })

  it('renders the DASH manifest from windows: audio in its own AdaptationSet, segments without an init left out', () => {
    const inits = new Map([['240p', { size: 20, sha: 'a'.repeat(64) }], ['audio', { size: 20, sha: 'b'.repeat(64) }]])
    const segs = [0, 1].map(seq => ({ seq, durationSec: 2, uri: `${seq}.m4s`, pdtMs: 1_700_000_000_000 + seq * 2000 }))
    const mpd = renderDash(new DashManifest(), {
      nowMs: 1_700_000_005_000,
      ended: false,
      targetDurationSec: 2,
      renditions: [
        { rendition: { name: '240p', width: 426, height: 240, bandwidth: 500_000, codecs: 'avc1.64001e' }, segments: segs },
        { rendition: { name: 'audio', width: 0, height: 0, bandwidth: 130_000, codecs: 'mp4a.40.2' }, segments: segs }
      ],
      info: seq => ({ mediaTime: 90_000 + seq * 180_000, inits })
    })
    assert.match(mpd, /initialization="240p\/init-aaaaaaaa.mp4" media="240p\/\$Number\$\.m4s"/)
    assert.match(mpd, /<AdaptationSet id="1" contentType="audio"[^>]*>\s*<Representation id="audio" bandwidth="130000" codecs="mp4a.40.2">/)
    assert.match(mpd, /<S t="90000" d="180000" r="1"\/>/)
  })
})
