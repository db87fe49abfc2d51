import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { access, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { Mp4BoxError, Segmenter, remuxToCmaf, splitTracks, storedTracks, type SegmentInfo } from '../src/index.js'
import { ff, ffprobe, makeSourceFile, tempDir } from './fixtures.js'

const run = promisify(execFile)

/** Cuts `src` with the fMP4 output on; every segment must have both files listed. */
async function cut (src: string, outDir: string): Promise<SegmentInfo[]> {
  const seg = new Segmenter({ ffmpegPath: ff.ffmpeg, input: src, outDir, segmentSeconds: 1, fmp4: true })
  const segments: SegmentInfo[] = []
  seg.on('segment', (s) => segments.push(s))
  const end = await seg.start().done()
  assert.equal(end.code, 0, end.stderrTail.join('\n'))
  return segments
}

describe('the segmenter writes the CMAF tracks itself (fmp4)', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  before(async () => { ({ dir, cleanup } = await tempDir()) })
  after(() => cleanup())

  it('gives each segment tracks equal to a remux of its .ts: same video init and tfdt, audio within a millisecond', async () => {
    const src = path.join(dir, 'src.flv')
    await makeSourceFile(src, { seconds: 4, gopSeconds: 1 })
    const segments = await cut(src, path.join(dir, 'a'))
    assert.equal(segments.length, 4)
    const inits = new Set<string>()
    for (const s of segments) {
      assert.ok(s.fmp4Path != null, `segment ${s.index} has its fMP4`)
      const tracks = await storedTracks(s.fmp4Path)
      await assert.rejects(access(s.fmp4Path), 'storedTracks removes the file')
      const video = await remuxToCmaf({ ffmpegPath: ff.ffmpeg, input: s.path, track: 'video', scratch: path.join(dir, `v${s.index}.mp4`) })
      const audio = await remuxToCmaf({ ffmpegPath: ff.ffmpeg, input: s.path, track: 'audio', scratch: path.join(dir, `a${s.index}.mp4`) })
      assert.ok(tracks.video != null)
      assert.equal(tracks.video.initSha256, video.initSha256, 'byte-identical canonical video init')
      assert.equal(tracks.video.firstDecodeTime, video.firstDecodeTime, 'video tfdt to the tick (90 kHz)')
      assert.ok(tracks.audio != null)
      assert.ok(Math.abs(tracks.audio.firstDecodeTime! - audio.firstDecodeTime!) <= 48, `audio tfdt ${tracks.audio.firstDecodeTime} vs ${audio.firstDecodeTime} (48 kHz)`)
      inits.add(tracks.audio.initSha256)
      // Each track decodes on its own, one track per file.
      const f = path.join(dir, `t${s.index}.mp4`)
      await writeFile(f, tracks.video.bytes)
      const { stdout } = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', f])
      assert.equal(stdout.trim(), 'video')
    }
    assert.equal(inits.size, 1, 'one audio init for the stream')
  })

  it('writes video only for a source without audio', async () => {
    const src = path.join(dir, 'noaudio.flv')
    await makeSourceFile(src, { seconds: 2, gopSeconds: 1, audio: false })
    const segments = await cut(src, path.join(dir, 'b'))
    const tracks = await storedTracks(segments[0]!.fmp4Path!)
    assert.equal(tracks.audio, undefined)
    assert.ok(tracks.video != null && tracks.video.bytes.byteLength > 1000)
  })

  it('refuses what is not a separate_moof fMP4', async () => {
    const flv = await readFile(path.join(dir, 'noaudio.flv'))
    assert.throws(() => splitTracks(new Uint8Array(64), 1.4), Mp4BoxError)
    assert.throws(() => splitTracks(flv, 1.4), Mp4BoxError)
  })
})
