import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Segmenter, TranscodeError, probeMedia, transcodeSegment, verifyRendition, type SegmentInfo } from '../src/index.js'
import { sniffFormat, untrustedInputArgs, untrustedProbeArgs } from '../src/untrusted.js'
import { ff, ffprobe, makeSourceFile, tempDir } from './fixtures.js'

describe('ffmpeg pinned on peer bytes (security review H5)', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  let seg: SegmentInfo
  before(async () => {
    ({ dir, cleanup } = await tempDir())
    const src = path.join(dir, 'src.flv')
    await makeSourceFile(src, { seconds: 1, gopSeconds: 1, width: 640, height: 360 })
    const s = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, outDir: path.join(dir, 'seg'), segmentSeconds: 1 })
    const all: SegmentInfo[] = []
    s.on('segment', (x) => all.push(x))
    await s.start().done()
    seg = all[0]!
  })
  after(() => cleanup())

  it('forces the container, whitelists protocols and decoders, caps threads, pixels and length', () => {
    const a = untrustedInputArgs({ format: 'mpegts', width: 320, height: 180, durationSec: 2 })
    assert.deepEqual(a, ['-f', 'mpegts', '-protocol_whitelist', 'file,pipe', '-codec_whitelist', 'h264,aac', '-threads', '2', '-max_pixels', String(320 * 192), '-t', '3'])
    assert.deepEqual(untrustedProbeArgs({ format: 'mp4', durationSec: 2 }).slice(-2), ['-read_intervals', '%+3'])
    assert.equal(sniffFormat(new Uint8Array([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70])), 'mp4')
    assert.equal(sniffFormat(new Uint8Array([0x47, 1])), 'mpegts')
    assert.equal(sniffFormat(new Uint8Array([1, 2, 3])), null)
  })

  it('a transcode of bytes with more pixels than declared fails fast; the declared size works', async () => {
    const ladder = [{ name: '144p', width: 256, height: 144, videoKbps: 150 }]
    const base = { ffmpegPath: ff.ffmpeg, input: seg.path, ladder, fpsMilli: 30_000, durationSec: 1, preset: 'ultrafast' }
    const t0 = performance.now()
    await assert.rejects(transcodeSegment({ ...base, outDir: path.join(dir, 'big'), untrusted: { width: 320, height: 180 } }), TranscodeError)
    const ms = performance.now() - t0
    const ok = await transcodeSegment({ ...base, outDir: path.join(dir, 'ok'), untrusted: { width: 640, height: 360 } })
    assert.equal(ok.renditions.length, 1)
    assert.ok(ms < 5000, `refused after ${Math.round(ms)} ms`)
  })

  it('the pinned decode refuses a rendition whose frames are larger than the rung', async () => {
    const r = await verifyRendition(seg.path, { width: 320, height: 180, durationSec: 1 }, { ffprobePath: ffprobe, decode: true })
    assert.equal(r.ok, false)
    // The probe itself, pinned to 320x180, cannot decode a 640x360 frame.
    const p = await probeMedia(seg.path, { ffprobePath: ffprobe, countFrames: true, untrusted: { format: 'mpegts', width: 320, height: 180 } }).catch(() => null)
    assert.ok(p == null || (p.videoFrames ?? 0) === 0, `decoded ${p?.videoFrames} frames`)
  })
})
