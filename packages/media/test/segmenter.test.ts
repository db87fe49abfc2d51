import assert from 'node:assert/strict'
import net from 'node:net'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  Segmenter,
  measureJoins,
  probeMedia,
  transcodeSegment,
  verifyRendition,
  type SegmentInfo
} from '../src/index.js'
import { ff, ffprobe, makeSourceFile, tempDir } from './fixtures.js'

describe('Segmenter edge cases', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  before(async () => {
    ({ dir, cleanup } = await tempDir())
  })
  after(() => cleanup())

  it('reports a missing input through end (code and stderr), no segments', async () => {
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: path.join(dir, 'missing.flv'), outDir: path.join(dir, 's1'), segmentSeconds: 2 })
    let count = 0
    seg.on('segment', () => count++)
    const end = await seg.start().done()
    assert.notEqual(end.code, 0)
    assert.equal(count, 0)
    assert.match(end.stderrTail.join('\n'), /No such file/)
  })

  it('reports an unusable ffmpeg binary through end', async () => {
    const seg = new Segmenter({ ffmpegPath: path.join(dir, 'no-ffmpeg'), input: 'x', outDir: path.join(dir, 's2'), segmentSeconds: 2 })
    const end = await seg.start().done()
    assert.equal(end.code, null)
    assert.match(end.stderrTail.join('\n'), /ENOENT/)
    assert.throws(() => seg.start(), /already started/)
  })

  it('gives up on a silent RTMP server after rwTimeoutMs', async () => {
    const server = net.createServer((s) => s.resume())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    try {
      const seg = new Segmenter({
        ffmpegPath: ff.ffmpeg,
        input: `rtmp://127.0.0.1:${port}/live/key`,
        outDir: path.join(dir, 's3'),
        segmentSeconds: 2,
        rwTimeoutMs: 1000
      })
      const t0 = performance.now()
      const end = await seg.start().done()
      const ms = performance.now() - t0
      assert.notEqual(end.code, 0)
      assert.ok(ms < 5000, `exited after ${ms} ms`)
    } finally {
      server.close()
    }
  })

  it('handles a source without audio end to end', async () => {
    const src = path.join(dir, 'noaudio.flv')
    await makeSourceFile(src, { seconds: 4, audio: false, gopSeconds: 2 })
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, outDir: path.join(dir, 's4'), segmentSeconds: 2 })
    const segments: SegmentInfo[] = []
    seg.on('segment', (s) => segments.push(s))
    const end = await seg.start().done()
    assert.equal(end.code, 0)
    assert.deepEqual(segments.map((s) => s.durationSec), [2, 2])
    const p = await probeMedia(segments[0]!.path, { ffprobePath: ffprobe })
    assert.equal(p.audioCodec, null)
    assert.match(p.codecs, /^avc1\.[0-9a-f]{6}$/)
    const files = []
    for (const s of segments) {
      const r = await transcodeSegment({
        ffmpegPath: ff.ffmpeg,
        input: s.path,
        outDir: path.join(dir, 'o4', String(s.index)),
        ladder: [{ name: '144p', width: 256, height: 144, videoKbps: 200 }],
        fpsMilli: p.fpsMilli,
        durationSec: s.durationSec
      })
      const v = await verifyRendition(r.renditions[0]!.path, { width: 256, height: 144, durationSec: s.durationSec }, { ffprobePath: ffprobe })
      assert.ok(v.ok, v.reason)
      assert.equal(v.probe!.audioCodec, null)
      files.push(r.renditions[0]!.path)
    }
    const j = await measureJoins(files, { ffprobePath: ffprobe })
    assert.equal(j.audio.length, 0)
    assert.equal(j.maxAudioGapMs, 0)
    assert.ok(j.maxVideoGapMs < 1)
  })
})
