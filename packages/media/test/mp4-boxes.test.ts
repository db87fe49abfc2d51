import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import {
  MAX_INIT_BYTES,
  Mp4BoxError,
  canonicalizeInit,
  cmafParts,
  listBoxes,
  remuxToCmaf,
  splitFragmentedMp4,
  toStoredCmaf,
  transcodeSegment
} from '../src/index.js'
import { ff, makeSourceFile, tempDir } from './fixtures.js'

const run = promisify(execFile)

function box (type: string, payload: Uint8Array | number[] = []): Uint8Array {
  const p = Uint8Array.from(payload)
  const out = new Uint8Array(8 + p.byteLength)
  new DataView(out.buffer).setUint32(0, out.byteLength)
  out.set(Buffer.from(type, 'latin1'), 4)
  out.set(p, 8)
  return out
}
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts))

describe('mp4 boxes: bounded parsing of hostile input', () => {
  it('lists well-formed boxes, 32- and 64-bit sizes', () => {
    const big = new Uint8Array(16 + 4)
    const v = new DataView(big.buffer)
    v.setUint32(0, 1)
    big.set(Buffer.from('mdat', 'latin1'), 4)
    v.setBigUint64(8, 20n)
    const boxes = listBoxes(cat(box('ftyp', [1, 2, 3, 4]), big))
    assert.deepEqual(boxes.map((b) => [b.type, b.start, b.payload, b.end]), [['ftyp', 0, 8, 12], ['mdat', 12, 28, 32]])
  })

  it('refuses truncated, oversized, undersized and garbage boxes with Mp4BoxError', () => {
    const ftyp = box('ftyp', [0, 0, 0, 0])
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['truncated header', ftyp.subarray(0, 5), /truncated box header/],
      ['size past the end', (() => { const b = box('moov', [1, 2]); new DataView(b.buffer).setUint32(0, 1000); return b })(), /only 10 left/],
      ['size below its header', (() => { const b = box('moov', [1, 2]); new DataView(b.buffer).setUint32(0, 4); return b })(), /< its header/],
      ['64-bit size past the end', (() => { const b = new Uint8Array(16); const v = new DataView(b.buffer); v.setUint32(0, 1); b.set(Buffer.from('mdat', 'latin1'), 4); v.setBigUint64(8, 2n ** 62n); return b })(), /only 16 left/],
      ['binary type', Uint8Array.from([0, 0, 0, 8, 0, 1, 2, 3]), /bad box type/]
    ]
    for (const [what, bytes, msg] of cases) {
      assert.throws(() => listBoxes(bytes), (e: Error) => e instanceof Mp4BoxError && e.name === 'Mp4BoxError' && msg.test(e.message), what)
    }
    assert.throws(() => listBoxes(cat(...Array.from({ length: 5 }, () => box('free'))), 0, 40, 4), /more than 4 boxes/)
  })

  it('splitFragmentedMp4 wants ftyp, moov, then moof + mdat, and a bounded init', () => {
    const ftyp = box('ftyp', [0x69, 0x73, 0x6f, 0x6d])
    const moov = box('moov', [0, 0, 0, 0])
    const moof = box('moof')
    const mdat = box('mdat', [1, 2, 3])
    const split = splitFragmentedMp4(cat(ftyp, moov, moof, mdat, box('mfra', [9])))
    assert.deepEqual(Buffer.from(split.init), Buffer.from(cat(ftyp, moov)))
    assert.deepEqual(Buffer.from(split.media), Buffer.from(cat(moof, mdat)), 'mfra is dropped')
    assert.throws(() => splitFragmentedMp4(cat(moov, ftyp, moof, mdat)), /expected ftyp first/)
    assert.throws(() => splitFragmentedMp4(cat(ftyp, moof, mdat)), /expected moov after ftyp/)
    assert.throws(() => splitFragmentedMp4(cat(ftyp, moov)), /no moof \+ mdat/)
    assert.throws(() => splitFragmentedMp4(cat(ftyp, moov, moof, box('udta'), mdat)), /unexpected top-level box udta/)
    assert.throws(() => splitFragmentedMp4(cat(ftyp, box('moov', new Uint8Array(MAX_INIT_BYTES)), moof, mdat)), /more than 65536/)
    assert.throws(() => splitFragmentedMp4(cat(ftyp, moov, moof, mdat).subarray(0, 30)), Mp4BoxError)
  })
})

describe('CMAF from real ffmpeg output', { timeout: 120_000 }, () => {
  let dir: string
  let cleanup: () => Promise<void>
  const segments: string[] = []

  before(async () => {
    ({ dir, cleanup } = await tempDir('cmaf-test-'))
    const flv = path.join(dir, 'src.flv')
    await makeSourceFile(flv, { seconds: 4, width: 320, height: 180, gopSeconds: 1 })
    await run(ff.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', flv, '-c', 'copy', '-f', 'segment', '-segment_time', '1', '-segment_format', 'mpegts', '-reset_timestamps', '0', path.join(dir, 'seg%03d.ts')])
    segments.push(...[0, 1, 2].map((i) => path.join(dir, `seg00${i}.ts`)))
  })
  after(async () => { await cleanup() })

  it('worker fMP4 of different segments share one canonical init; their media joins at the PTS', async () => {
    const parts: Array<ReturnType<typeof cmafParts>> = []
    for (const [i, input] of segments.entries()) {
      const out = path.join(dir, `out${i}`)
      const res = await transcodeSegment({ ffmpegPath: ff.ffmpeg, input, outDir: out, ladder: [{ name: '90p', width: 160, height: 90, videoKbps: 150 }], fpsMilli: 30_000, durationSec: 1, container: 'cmaf', preset: 'ultrafast' })
      assert.equal(path.basename(res.renditions[0]!.path), '90p.mp4')
      parts.push(cmafParts(await readFile(res.renditions[0]!.path)))
    }
    assert.equal(new Set(parts.map((p) => p.initSha256)).size, 1, 'byte-identical canonical inits')
    // tfdt on the 90 kHz timeline: consecutive segments are one GOP (1 s) apart.
    assert.deepEqual(parts.slice(1).map((p, i) => p.firstDecodeTime! - parts[i]!.firstDecodeTime!), [90_000, 90_000])
    for (const p of parts) assert.equal(Buffer.from(p.media.subarray(4, 8)).toString('latin1'), 'moof')
  })

  it('the ingest remuxes the source into video and audio tracks, each with its own init', async () => {
    const video = await remuxToCmaf({ ffmpegPath: ff.ffmpeg, input: segments[1]!, track: 'video', scratch: path.join(dir, 'v.mp4') })
    const audio = await remuxToCmaf({ ffmpegPath: ff.ffmpeg, input: segments[1]!, track: 'audio', scratch: path.join(dir, 'a.mp4') })
    const again = await remuxToCmaf({ ffmpegPath: ff.ffmpeg, input: segments[2]!, track: 'audio', scratch: path.join(dir, 'a2.mp4') })
    assert.notEqual(video.initSha256, audio.initSha256)
    assert.equal(again.initSha256, audio.initSha256, 'audio inits of two segments are identical once canonical')
    assert.equal(video.firstDecodeTime, await firstVideoPts(segments[1]!), 'tfdt = the MPEG-TS PTS of the first frame')
    assert.deepEqual(toStoredCmaf(video.bytes).bytes, video.bytes, 'the stored form is a fixed point')
  })

  it('canonicalizeInit zeroes exactly the informational bitrates (btrt, esds)', async () => {
    const { stdout } = await run(ff.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', segments[0]!, '-map', '0:a', '-c', 'copy', '-bsf:a', 'aac_adtstoasc', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })
    const file = Uint8Array.from(stdout)
    const raw = splitFragmentedMp4(file).init
    const audio = cmafParts(file)
    const diff = [...raw].flatMap((b, i) => (b !== audio.init[i] ? [i] : []))
    assert.ok(diff.length > 0 && diff.length <= 16, `${diff.length} bytes changed`)
    assert.ok(diff.every((i) => audio.init[i] === 0), 'only zeroed')
    assert.deepEqual(canonicalizeInit(audio.init), audio.init, 'idempotent')
    assert.throws(() => canonicalizeInit(audio.init.subarray(0, audio.init.byteLength - 3)), Mp4BoxError)
  })
})

async function firstVideoPts (file: string): Promise<number> {
  const { stdout } = await run(ff.ffprobe ?? 'ffprobe', ['-v', 'error', '-select_streams', 'v', '-read_intervals', '%+#1', '-show_entries', 'packet=pts', '-of', 'csv=p=0', file])
  return Number.parseInt(stdout.trim().split('\n')[0]!, 10)
}
