import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  comparePictures,
  measurePsnr,
  ProbeError,
  Segmenter,
  TranscodeError,
  measureJoins,
  probeMedia,
  transcodeSegment,
  verifyRendition,
  type RungSpec,
  type SegmentInfo,
  type SegmenterEnd
} from '../src/index.js'
import { ff, ffprobe, makeSourceFile, tempDir } from './fixtures.js'

const LADDER: RungSpec[] = [
  { name: '180p', width: 320, height: 180, videoKbps: 300 },
  { name: '144p', width: 256, height: 144, videoKbps: 200 }
]

function collect (seg: Segmenter): { segments: SegmentInfo[]; times: number[]; end: Promise<SegmenterEnd> } {
  const segments: SegmentInfo[] = []
  const times: number[] = []
  const t0 = performance.now()
  seg.on('segment', (s) => {
    segments.push(s)
    times.push(performance.now() - t0)
  })
  return { segments, times, end: new Promise((resolve) => seg.once('end', resolve)) }
}

describe('segment → transcode → verify → joins', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  let src = ''
  let segments: SegmentInfo[] = []

  before(async () => {
    ({ dir, cleanup } = await tempDir())
    src = path.join(dir, 'src.flv')
    await makeSourceFile(src, { seconds: 7, gopSeconds: 1 })
  })
  after(() => cleanup())

  it('Segmenter cuts a file into keyframe-aligned 2 s segments', async () => {
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, outDir: path.join(dir, 'seg'), segmentSeconds: 2 })
    const c = collect(seg)
    seg.start()
    const end = await c.end
    assert.equal(end.code, 0, end.stderrTail.join('\n'))
    segments = c.segments
    assert.deepEqual(segments.map((s) => s.index), [0, 1, 2, 3])
    assert.deepEqual(segments.map((s) => s.durationSec), [2, 2, 2, 1])
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!
      assert.ok(s.size > 0)
      const p = await probeMedia(s.path, { ffprobePath: ffprobe })
      assert.ok(p.keyframeStart, `segment ${i} starts with a keyframe`)
      assert.equal(p.startSec, s.startSec, 'startSec is the first video PTS of the file')
      assert.ok(Math.abs(p.durationSec - s.durationSec) < 0.002, `probe ${p.durationSec} vs ${s.durationSec}`)
      const next = segments[i + 1]
      if (next) assert.ok(Math.abs(next.startSec - s.endSec) < 1e-6, 'contiguous: endSec = next startSec')
    }
    const joins = await measureJoins(segments.map((s) => s.path), { ffprobePath: ffprobe })
    assert.ok(joins.maxVideoGapMs <= 1 && joins.maxAudioGapMs <= 1, JSON.stringify(joins))
  })

  it('Segmenter emits each segment as it closes, and the partial last one on stop()', async () => {
    const seg = new Segmenter({
      ffmpegPath: ff.ffmpeg,
      input: src,
      outDir: path.join(dir, 'seg-live'),
      segmentSeconds: 2,
      inputArgs: ['-re']
    })
    const c = collect(seg)
    seg.start()
    while (c.segments.length < 2) await new Promise((resolve) => setTimeout(resolve, 50))
    await seg.stop()
    const end = await c.end
    assert.ok(c.times[0]! < 4500, `first segment after ${c.times[0]} ms, expected ≈ 2 s + startup (not at the 7 s end)`)
    assert.ok(c.times[1]! - c.times[0]! > 1000, `second segment ${c.times[1]! - c.times[0]!} ms later, expected ≈ 2 s`)
    assert.equal(c.segments.length, 3, 'the partial segment is emitted on stop')
    assert.ok(c.segments[2]!.durationSec > 0 && c.segments[2]!.durationSec < 2)
    assert.ok(Array.isArray(end.stderrTail))
    await seg.stop() // idempotent
  })

  it('transcodeSegment: one run per segment, renditions verify and join seamlessly', async () => {
    const three = segments.slice(0, 3)
    const probe = await probeMedia(three[0]!.path, { ffprobePath: ffprobe })
    assert.equal(probe.fpsMilli, 30000)
    assert.equal(probe.codecs.split(',')[1], 'mp4a.40.2')
    const outs = []
    for (const s of three) {
      const r = await transcodeSegment({
        ffmpegPath: ff.ffmpeg,
        input: s.path,
        outDir: path.join(dir, 'out', String(s.index)),
        ladder: LADDER,
        fpsMilli: probe.fpsMilli,
        durationSec: s.durationSec,
        threads: 2
      })
      console.log(`# transcoded segment ${s.index} (${s.durationSec} s, 2 rungs) in ${r.elapsedMs} ms`)
      assert.equal(r.encoder, 'libx264')
      assert.deepEqual(r.renditions.map((x) => `${x.name} ${x.width}x${x.height}`), ['180p 320x180', '144p 256x144'])
      for (const rend of r.renditions) {
        const v = await verifyRendition(rend.path, { width: rend.width, height: rend.height, durationSec: s.durationSec }, { ffprobePath: ffprobe })
        assert.ok(v.ok, `${rend.path}: ${v.reason}`)
        assert.equal(v.probe!.videoFrames, 60)
        assert.equal(v.probe!.profile, 'High')
        assert.match(v.probe!.codecs, /^avc1\.6400[0-9a-f]{2},mp4a\.40\.2$/)
        assert.ok(Math.abs(v.probe!.startSec - s.startSec) < 0.001, 'timestamps carried over')
      }
      outs.push(r)
    }
    for (const rung of LADDER) {
      const files = outs.map((o) => o.renditions.find((x) => x.name === rung.name)!.path)
      const j = await measureJoins(files, { ffprobePath: ffprobe })
      console.log(`# joins ${rung.name}: video ${j.video.map((x) => x.gapMs)} ms, audio ${j.audio.map((x) => x.gapMs)} ms`)
      assert.equal(j.video.length, 2)
      assert.equal(j.audio.length, 2)
      assert.ok(j.maxVideoGapMs <= 50, `video gap ${j.maxVideoGapMs}`)
      assert.ok(j.maxAudioGapMs <= 50, `audio gap ${j.maxAudioGapMs}`)
      // In practice the joins are exact (MEDIA-NOTES: 0.0 ms).
      assert.ok(j.maxVideoGapMs < 1 && j.maxAudioGapMs < 1, JSON.stringify(j))
    }
  })

  it('measureJoins reports gaps and overlaps with sign', async () => {
    const [a, b, c] = segments
    const j = await measureJoins([a!.path, c!.path, b!.path], { ffprobePath: ffprobe })
    assert.ok(Math.abs(j.video[0]!.gapMs - 2000) < 1, `skipped segment: ${j.video[0]!.gapMs}`)
    assert.ok(Math.abs(j.video[1]!.gapMs + 4000) < 1, `going back: ${j.video[1]!.gapMs}`)
    assert.ok(j.maxVideoGapMs > 3999)
    assert.ok(j.audio[0]!.gapMs > 1900)
  })

  it('probe without ffprobe (ffmpeg fallback) matches ffprobe', async () => {
    const s = segments[1]!
    const a = await probeMedia(s.path, { ffprobePath: ffprobe, countFrames: true })
    const b = await probeMedia(s.path, { ffprobePath: null, ffmpegPath: ff.ffmpeg, countFrames: true })
    assert.deepEqual(b, a)
    const ja = await measureJoins([segments[0]!.path, s.path], { ffprobePath: ffprobe })
    const jb = await measureJoins([segments[0]!.path, s.path], { ffmpegPath: ff.ffmpeg })
    assert.deepEqual(jb, ja)
  })

  it('verifyRendition rejects junk and wrong sizes with a reason', async () => {
    const junk = path.join(dir, 'junk.ts')
    await writeFile(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)))
    const j = await verifyRendition(junk, { width: 320, height: 180, durationSec: 2 }, { ffprobePath: ffprobe })
    assert.equal(j.ok, false)
    assert.match(j.reason!, /cannot probe/)
    await assert.rejects(probeMedia(junk, { ffprobePath: ffprobe }), ProbeError)

    const rend = path.join(dir, 'out', '0', '144p.ts')
    const w = await verifyRendition(rend, { width: 320, height: 180, durationSec: 2 }, { ffprobePath: ffprobe })
    assert.equal(w.ok, false)
    assert.match(w.reason!, /256x144, expected 320x180/)
    const d = await verifyRendition(rend, { width: 256, height: 144, durationSec: 3 }, { ffprobePath: ffprobe })
    assert.equal(d.ok, false)
    assert.match(d.reason!, /duration/)
  })

  it('measurePsnr tells an honest rendition from a different picture', async () => {
    const rend = path.join(dir, 'out', '0', '144p.ts')
    const honest = await measurePsnr(rend, segments[0]!.path, { ffmpegPath: ff.ffmpeg, width: 256, height: 144 })
    const fake = path.join(dir, 'fake-144p.ts')
    await promisify(execFile)(ff.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'smptebars=size=256x144:rate=30', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', fake])
    const cheat = await measurePsnr(fake, segments[0]!.path, { ffmpegPath: ff.ffmpeg, width: 256, height: 144 })
    console.log(`# PSNR honest ${honest.toFixed(1)} dB, different picture ${cheat.toFixed(1)} dB`)
    assert.ok(honest > 30, `honest ${honest}`)
    assert.ok(cheat < 20, `cheat ${cheat}`)
  })

  it('comparePictures covers the whole segment: frames injected after the first ten are caught', async () => {
    const rend = path.join(dir, 'out', '0', '144p.ts')
    const source = segments[0]!.path
    // A rendition whose first 15 frames are a real transcode and the rest a red picture (review H1).
    const injected = path.join(dir, 'injected-144p.ts')
    await promisify(execFile)(ff.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', source, '-vf', "scale=256:144,drawbox=c=red:t=fill:enable='gte(n,15)'", '-c:v', 'libx264', '-preset', 'ultrafast', '-an', '-f', 'mpegts', injected])
    const [honest, cheat] = await comparePictures([{ file: rend, width: 256, height: 144 }, { file: injected, width: 256, height: 144 }], { file: source, width: 320, height: 180 }, { ffmpegPath: ff.ffmpeg, durationSec: 2 })
    console.log(`# honest mean ${honest!.meanDb.toFixed(1)} worst ${honest!.worstDb.toFixed(1)} dB; injected mean ${cheat!.meanDb.toFixed(1)} worst ${cheat!.worstDb.toFixed(1)} dB`)
    assert.ok(honest!.worstDb > 27, `honest ${JSON.stringify(honest)}`)
    assert.ok(cheat!.worstDb < 20, `injected ${JSON.stringify(cheat)}`)
    // A rendition larger than it declares is refused by the pinned decoder: no score, an error.
    await assert.rejects(comparePictures([{ file: rend, width: 64, height: 36 }], { file: source }, { ffmpegPath: ff.ffmpeg }))
  })

  it('transcodeSegment fails with TranscodeError and honours abort', async () => {
    const junk = path.join(dir, 'junk.ts')
    const base = { ffmpegPath: ff.ffmpeg, ladder: LADDER, fpsMilli: 30000, durationSec: 2 }
    await assert.rejects(
      transcodeSegment({ ...base, input: junk, outDir: path.join(dir, 'bad') }),
      (e: unknown) => e instanceof TranscodeError && e.stderrTail.length > 0
    )
    const ac = new AbortController()
    const p = transcodeSegment({ ...base, input: segments[0]!.path, outDir: path.join(dir, 'abort'), signal: ac.signal })
    setTimeout(() => ac.abort(new Error('stop now')), 30)
    await assert.rejects(p, /stop now/)
  })
})
