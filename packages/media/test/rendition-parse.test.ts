import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import {
  Segmenter,
  parseRendition,
  parseSps,
  probeMedia,
  transcodeSegment,
  verifyRendition,
  type SegmentInfo
} from '../src/index.js'
import { ff, ffprobe, makeSourceFile, tempDir } from './fixtures.js'

const execFileAsync = promisify(execFile)

describe('verification by parsing (fMP4 boxes, MPEG-TS packets, the SPS)', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  const files: Record<string, string> = {}
  before(async () => {
    ({ dir, cleanup } = await tempDir())
    const src = path.join(dir, 'src.flv')
    await makeSourceFile(src, { seconds: 2, gopSeconds: 1, width: 640, height: 360 })
    const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, outDir: path.join(dir, 'seg'), segmentSeconds: 1 })
    const segments: SegmentInfo[] = []
    seg.on('segment', (s) => segments.push(s))
    await seg.start().done()
    files.source = segments[0]!.path
    // 426x240 and 256x144 are not multiples of 16: the SPS crops them.
    const ladder = [{ name: '240p', width: 426, height: 240, videoKbps: 300 }, { name: '144p', width: 256, height: 144, videoKbps: 150 }]
    for (const container of ['ts', 'cmaf'] as const) {
      const res = await transcodeSegment({ ffmpegPath: ff.ffmpeg, input: segments[0]!.path, outDir: path.join(dir, container), ladder, fpsMilli: 30_000, durationSec: 1, container, preset: 'ultrafast' })
      for (const r of res.renditions) files[`${container}-${r.name}`] = r.path
    }
  })
  after(() => cleanup())

  it('reads what ffprobe reads: size from the SPS, frames, IDR start, span', async () => {
    for (const [name, file] of Object.entries(files)) {
      const parsed = parseRendition(await readFile(file))
      const probe = await probeMedia(file, { ffprobePath: ffprobe })
      assert.equal(parsed.videoCodec, 'h264', name)
      assert.deepEqual([parsed.width, parsed.height], [probe.width, probe.height], name)
      assert.equal(parsed.frames, probe.videoPackets, name)
      assert.equal(parsed.keyframeStart, true, name)
      assert.equal(parsed.levelIdc, probe.level, name)
      assert.ok(Math.abs(parsed.durationSec - probe.durationSec) < 0.002, `${name}: ${parsed.durationSec} vs ${probe.durationSec}`)
    }
  })

  it('verifyRendition passes honest output by parsing and by decoding, with the same codecs string', async () => {
    for (const container of ['ts', 'cmaf']) {
      const file = files[`${container}-240p`]!
      const parsed = await verifyRendition(file, { width: 426, height: 240, durationSec: 1 }, { ffprobePath: ffprobe, random: () => 1 })
      const decoded = await verifyRendition(file, { width: 426, height: 240, durationSec: 1 }, { ffprobePath: ffprobe, decode: true })
      assert.ok(parsed.ok && decoded.ok, `${container}: ${parsed.reason ?? ''} ${decoded.reason ?? ''}`)
      assert.equal(parsed.probe.codecs, decoded.probe.codecs)
    }
  })

  it('refuses a wrong size, a wrong duration, a non-IDR start and junk, each with its reason', async () => {
    const file = files['cmaf-144p']!
    const size = await verifyRendition(file, { width: 426, height: 240, durationSec: 1 }, { ffprobePath: ffprobe, random: () => 1 })
    assert.match(size.reason ?? '', /256x144, expected 426x240/)
    const long = await verifyRendition(file, { width: 256, height: 144, durationSec: 3 }, { ffprobePath: ffprobe, random: () => 1 })
    assert.match(long.reason ?? '', /duration/)
    // The first sample marked non-sync (sample_is_non_sync_sample in trun's first_sample_flags or tfhd's defaults): not a keyframe start.
    const bytes = new Uint8Array(await readFile(file))
    const moof = Buffer.from(bytes).indexOf('trun')
    assert.ok(moof > 0)
    const flags = new DataView(bytes.buffer).getUint32(moof + 4) & 0xffffff
    assert.ok(flags & 4, 'ffmpeg writes first_sample_flags')
    const firstFlagsAt = moof + 4 + 8 + (flags & 1 ? 4 : 0)
    bytes[firstFlagsAt + 1] = bytes[firstFlagsAt + 1]! | 1
    const bad = path.join(dir, 'nonsync.mp4')
    await writeFile(bad, bytes)
    const nk = await verifyRendition(bad, { width: 256, height: 144, durationSec: 1 }, { ffprobePath: ffprobe, random: () => 1 })
    assert.match(nk.reason ?? '', /not an IDR/)
    const junk = path.join(dir, 'junk.mp4')
    await writeFile(junk, Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('ftypisom'), Buffer.alloc(4000, 0x41)]))
    const j = await verifyRendition(junk, { width: 256, height: 144, durationSec: 1 }, { ffprobePath: ffprobe, random: () => 1 })
    assert.equal(j.ok, false)
  })

  it('refuses a rendition of too many tiny frames by the parse alone (M10), before any decode', async () => {
    const many = path.join(dir, 'many-frames.ts')
    await execFileAsync(ff.ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=256x144:rate=300', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '300', '-f', 'mpegts', '-y', many])
    let decoded = false
    const res = await verifyRendition(many, { width: 256, height: 144, durationSec: 1 }, { ffprobePath: ffprobe, random: () => { decoded = true; return 0 } })
    assert.equal(res.ok, false)
    assert.match(res.reason ?? '', /more than 120 frames a second/)
    assert.equal(decoded, false, 'refused before the decode sample is drawn')
  })

  it('parseSps refuses hostile bytes without reading past them', () => {
    assert.throws(() => parseSps(new Uint8Array([0x67, 100, 0, 30])), /truncated|exp-Golomb/)
    assert.throws(() => parseSps(new Uint8Array([0x67, 100, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0])), /exp-Golomb|truncated/)
    assert.throws(() => parseSps(new Uint8Array([0x68, 1, 2, 3])), /not an SPS/)
    assert.throws(() => parseSps(new Uint8Array(2000).fill(0x67, 0, 1)), /SPS of 2000 bytes/)
  })
})
