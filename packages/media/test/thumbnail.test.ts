/**
 * makeThumbnail with the real ffmpeg: an MPEG-TS segment and a fragmented MP4
 * (init + media, as a CMAF rendition is stored) each give a 320 px JPEG of
 * their first keyframe; bytes that are neither are refused before ffmpeg
 * starts; a picture bigger than declared is refused by the decoder.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { makeThumbnail, MAX_THUMBNAIL_BYTES, ThumbnailError } from '../src/index.js'
import { ff, ffprobe, makeSourceFile, tempDir } from './fixtures.js'

const run = promisify(execFile)

async function probe (dir: string, jpeg: Buffer): Promise<string> {
  const file = path.join(dir, 'out.jpg')
  await writeFile(file, jpeg)
  const { stdout } = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file])
  return stdout.trim()
}

describe('makeThumbnail', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  let ts: Buffer
  let mp4: Buffer
  before(async () => {
    ({ dir, cleanup } = await tempDir())
    const src = path.join(dir, 'src.flv')
    await makeSourceFile(src, { seconds: 1, gopSeconds: 1, width: 640, height: 360 })
    await run(ff.ffmpeg, ['-v', 'error', '-y', '-i', src, '-c', 'copy', '-f', 'mpegts', path.join(dir, 'seg.ts')])
    await run(ff.ffmpeg, ['-v', 'error', '-y', '-i', src, '-an', '-c', 'copy', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', path.join(dir, 'seg.mp4')])
    ts = await readFile(path.join(dir, 'seg.ts'))
    mp4 = await readFile(path.join(dir, 'seg.mp4'))
  })
  after(() => cleanup())

  it('an MPEG-TS segment and an fMP4 one: a 320x180 JPEG each, small', async () => {
    for (const seg of [ts, mp4]) {
      const jpeg = await makeThumbnail(ff.ffmpeg, seg, { width: 640, height: 360 })
      assert.ok(jpeg.byteLength > 500 && jpeg.byteLength < MAX_THUMBNAIL_BYTES / 4, `${jpeg.byteLength} bytes`)
      assert.equal(jpeg[0], 0xff)
      assert.equal(jpeg[1], 0xd8)
      assert.equal(await probe(dir, jpeg), 'mjpeg,320,180')
    }
  })

  it('refuses bytes that are no segment before ffmpeg runs, and a picture bigger than declared', async () => {
    await assert.rejects(makeThumbnail(ff.ffmpeg, Buffer.from('<html>not video</html>')), (err: Error) => err.name === ThumbnailError.NAME)
    await assert.rejects(makeThumbnail(ff.ffmpeg, ts, { width: 160, height: 90 }), (err: Error) => err.name === ThumbnailError.NAME)
  })

  it('is bounded in time', async () => {
    await assert.rejects(makeThumbnail(ff.ffmpeg, ts, { timeoutMs: 1 }), (err: Error) => err.name === ThumbnailError.NAME)
  })
})
