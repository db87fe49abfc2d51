import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import {
  MAX_MAX_SEGMENT_SECONDS,
  MAX_SOURCE_SEGMENT_BYTES,
  MIN_MAX_SEGMENT_SECONDS,
  OpenSegmentWatch,
  Segmenter,
  checkSegment,
  segmentLimits,
  type SegmentInfo
} from '../src/index.js'
import { ff, tempDir } from './fixtures.js'

const run = promisify(execFile)

/** 320x180 H.264 FLV with keyframes only at the given seconds (none after): a huge-GOP publisher. */
async function hugeGop (file: string, seconds: number, keyframesAt: number[]): Promise<void> {
  await run(ff.ffmpeg, [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    '-g', '100000', '-x264-params', 'keyint=100000:min-keyint=100000:scenecut=0',
    ...(keyframesAt.length > 0 ? ['-force_key_frames', keyframesAt.join(',')] : []),
    '-f', 'flv', file
  ])
}

describe('segment limits (pure)', () => {
  it('scales the duration bound with the target length, within its floor and ceiling', () => {
    assert.deepEqual(segmentLimits(1), { maxBytes: MAX_SOURCE_SEGMENT_BYTES, maxSeconds: MIN_MAX_SEGMENT_SECONDS })
    assert.equal(segmentLimits(3).maxSeconds, 30)
    assert.equal(segmentLimits(10).maxSeconds, MAX_MAX_SEGMENT_SECONDS)
  })

  it('refuses a segment past either bound, size first', () => {
    const l = { maxBytes: 1000, maxSeconds: 10 }
    assert.equal(checkSegment(1000, 10, l), null)
    assert.equal(checkSegment(1001, 1, l)?.why, 'segment_too_large')
    assert.equal(checkSegment(10, 10.5, l)?.why, 'keyframe_interval')
    assert.match(checkSegment(10, 11, l)!.message, /keyframe interval too long/)
    assert.equal(checkSegment(2000, 11, l)?.why, 'segment_too_large')
  })

  it('counts the age of the open file from the poll that first saw it, again for each new file', () => {
    const w = new OpenSegmentWatch({ maxBytes: 1000, maxSeconds: 10 })
    assert.equal(w.observe(0, null, 0), null, 'no file yet: connecting does not count')
    assert.equal(w.observe(0, 0, 5000), null)
    assert.equal(w.observe(0, 10, 15_000), null, 'exactly 10 s')
    assert.equal(w.observe(0, 10, 15_001)?.why, 'keyframe_interval')
    assert.equal(w.observe(1, 0, 16_000), null, 'a new segment starts a new age')
    assert.equal(w.observe(1, 10, 25_000), null)
    assert.equal(w.observe(1, 1001, 25_000)?.why, 'segment_too_large')
  })
})

describe('Segmenter with a huge GOP (real ffmpeg)', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  before(async () => { ({ dir, cleanup } = await tempDir()) })
  after(() => cleanup())

  it('stops a live input once the open segment outlasts maxSeconds, keeping the segments cut before', async () => {
    const src = path.join(dir, 'late.flv')
    await hugeGop(src, 12, [0, 1, 2, 3])
    const outDir = path.join(dir, 'late')
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, inputArgs: ['-re'], outDir, segmentSeconds: 1, limits: { maxBytes: MAX_SOURCE_SEGMENT_BYTES, maxSeconds: 2 } })
    const segments: SegmentInfo[] = []
    seg.on('segment', (s) => segments.push(s))
    const t0 = performance.now()
    const end = await seg.start().done()
    const ms = performance.now() - t0
    assert.equal(end.refused?.why, 'keyframe_interval')
    assert.equal(end.signal, 'SIGKILL')
    assert.deepEqual(segments.map(s => s.index), [0, 1, 2], 'the segments cut before the keyframes stopped are emitted')
    // Keyframes stop at 3 s; the open segment is refused 2 s (+ a poll, + start-up) later, far before the 12 s input ends.
    assert.ok(ms < 9000, `stopped after ${Math.round(ms)} ms`)
  })

  it('refuses a segment over maxBytes at the cut without reading it, and emits nothing of it', async () => {
    const src = path.join(dir, 'big.flv')
    await hugeGop(src, 8, [])
    const outDir = path.join(dir, 'big')
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, outDir, segmentSeconds: 1, limits: { maxBytes: 50_000, maxSeconds: 50 } })
    const segments: SegmentInfo[] = []
    seg.on('segment', (s) => segments.push(s))
    const end = await seg.start().done()
    assert.equal(end.refused?.why, 'segment_too_large')
    assert.match(end.refused.message, /segment too large/)
    assert.equal(segments.length, 0)
    const sizes = await Promise.all((await readdir(outDir)).map(async f => (await stat(path.join(outDir, f))).size))
    assert.ok(sizes.length === 1 && sizes[0]! > 50_000, `one oversized file was written: ${sizes.join(',')}`)
  })

  it('stops a live input whose open segment passes maxBytes before it is cut', async () => {
    const src = path.join(dir, 'grow.flv')
    await hugeGop(src, 20, [])
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, inputArgs: ['-re'], outDir: path.join(dir, 'grow'), segmentSeconds: 1, limits: { maxBytes: 100_000, maxSeconds: 50 } })
    const t0 = performance.now()
    const end = await seg.start().done()
    assert.equal(end.refused?.why, 'segment_too_large')
    assert.equal(end.signal, 'SIGKILL')
    assert.ok(performance.now() - t0 < 15_000, 'stopped before the input ended')
  })
})
