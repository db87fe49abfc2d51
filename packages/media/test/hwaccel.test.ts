import assert from 'node:assert/strict'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import {
  HW_CANDIDATES,
  Transcoder,
  TranscodeError,
  buildTranscodeCommand,
  describeHwDetection,
  detectHwEncoder,
  parseEncoderList,
  parseHwaccelList,
  type HwEncoder,
  type RungSpec
} from '../src/index.js'
import { ff, makeSourceFile, tempDir } from './fixtures.js'

/** The FAKE GPU ffmpeg (a shell wrapper around the real one; see the script's header). */
const FAKE_GPU_FFMPEG = fileURLToPath(new URL('../../test/fixtures/fake-gpu-ffmpeg.sh', import.meta.url))

interface FakeGpu {
  listed?: string[];
  hwaccels?: string[];
  testPasses?: string[];
}

/** Writes a launcher that runs the fake GPU ffmpeg with this configuration; returns its path and log. */
async function fakeGpuFfmpeg (dir: string, name: string, cfg: FakeGpu): Promise<{ bin: string; log: string }> {
  const bin = path.join(dir, `fake-gpu-ffmpeg-${name}`)
  const log = path.join(dir, `fake-gpu-${name}.log`)
  await writeFile(bin, [
    '#!/bin/sh',
    `FAKE_GPU_REAL_FFMPEG='${ff.ffmpeg}'`,
    `FAKE_GPU_LISTED='${(cfg.listed ?? []).join(',')}'`,
    `FAKE_GPU_HWACCELS='${(cfg.hwaccels ?? []).join(',')}'`,
    `FAKE_GPU_TEST_PASS='${(cfg.testPasses ?? []).join(',')}'`,
    `FAKE_GPU_LOG='${log}'`,
    'export FAKE_GPU_REAL_FFMPEG FAKE_GPU_LISTED FAKE_GPU_HWACCELS FAKE_GPU_TEST_PASS FAKE_GPU_LOG',
    `exec '${FAKE_GPU_FFMPEG}' "$@"`,
    ''
  ].join('\n'))
  await chmod(bin, 0o755)
  return { bin, log }
}

async function hwRuns (log: string): Promise<string[]> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text.split('\n').filter((l) => l !== '')
}

const LADDER: RungSpec[] = [
  { name: '180p', width: 320, height: 180, videoKbps: 300 },
  { name: '144p', width: 256, height: 144, videoKbps: 200 }
]

function args (hw: HwEncoder | undefined, sourceCodec?: string): string[] {
  const { command } = buildTranscodeCommand({
    ffmpegPath: ff.ffmpeg, input: '/in.ts', outDir: '/out', ladder: LADDER, fpsMilli: 30000, durationSec: 2, hw, sourceCodec
  })
  return (command as unknown as { _getArguments(): string[] })._getArguments()
}

function after_ (list: string[], flag: string): string | undefined {
  const i = list.indexOf(flag)
  return i >= 0 ? list[i + 1] : undefined
}

const nvenc = (hwDecode = true): HwEncoder => ({ ...HW_CANDIDATES.find((c) => c.kind === 'nvenc')!, hwDecode })
const vaapi = (hwDecode = true): HwEncoder => ({ ...HW_CANDIDATES.find((c) => c.kind === 'vaapi')!, hwDecode })
const qsv = (hwDecode = true): HwEncoder => ({ ...HW_CANDIDATES.find((c) => c.kind === 'qsv')!, hwDecode })
const vt = (): HwEncoder => ({ ...HW_CANDIDATES.find((c) => c.kind === 'videotoolbox')!, hwDecode: true })

describe('hardware encoder detection', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  before(async () => ({ dir, cleanup } = await tempDir('hwaccel-test-')))
  after(() => cleanup())

  it('parses ffmpeg -encoders and -hwaccels', () => {
    const enc = parseEncoderList([
      'Encoders:', ' V..... = Video', ' ------',
      ' V....D libx264              libx264 H.264',
      ' V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)',
      ' A....D aac                  AAC (Advanced Audio Coding)'
    ].join('\n'))
    assert.deepEqual([...enc], ['libx264', 'h264_nvenc', 'aac'])
    assert.deepEqual([...parseHwaccelList('Hardware acceleration methods:\ncuda\nvaapi\n\n')], ['cuda', 'vaapi'])
  })

  it('finds no working encoder in the real ffmpeg here, although it lists some (no GPU)', async () => {
    const d = await detectHwEncoder(ff.ffmpeg)
    assert.equal(d.selected, null)
    assert.equal(d.tried.length, HW_CANDIDATES.length)
    for (const t of d.tried) assert.equal(t.ok, false, t.encoder)
    const listed = d.tried.filter((t) => t.listed)
    // Debian's ffmpeg 5.1 lists NVENC, QSV and VAAPI: each test encode must fail, with ffmpeg's reason.
    for (const t of listed) assert.ok(t.error && t.error.length > 0, `${t.encoder} has a reason`)
    assert.match(describeHwDetection(d), /^no working hardware encoder: .*using the CPU \(libx264\)$/)
  })

  it('a listed encoder whose test encode fails is skipped: the next one that passes is selected', async () => {
    const fake = await fakeGpuFfmpeg(dir, 'vaapi', { listed: ['h264_nvenc', 'h264_vaapi'], hwaccels: ['vaapi'], testPasses: ['h264_vaapi'] })
    const d = await detectHwEncoder(fake.bin)
    assert.equal(d.selected?.encoder, 'h264_vaapi')
    assert.equal(d.selected?.kind, 'vaapi')
    assert.equal(d.selected?.hwDecode, true)
    const nv = d.tried.find((t) => t.encoder === 'h264_nvenc')!
    assert.equal(nv.listed, true)
    assert.equal(nv.ok, false)
    assert.match(nv.error ?? '', /Error initializing output stream|libcuda/)
    assert.equal(d.tried.find((t) => t.encoder === 'h264_qsv')?.listed, false)
    // Each listed candidate ran exactly one one-frame test; the unlisted one was not run.
    const runs = await hwRuns(fake.log)
    assert.equal(runs.length, 2)
    for (const r of runs) assert.match(r, /-frames:v 1/)
    assert.match(runs[1]!, /-vaapi_device \/dev\/dri\/renderD128 .*format=nv12,hwupload.*-c:v h264_vaapi/)
    assert.match(describeHwDetection(d), /using hardware encoder h264_vaapi \(vaapi; decode and scale on vaapi\)/)
  })

  it('prefers NVENC when it works; without the cuda hwaccel it decodes on the CPU', async () => {
    const fake = await fakeGpuFfmpeg(dir, 'nvenc', { listed: ['h264_nvenc', 'h264_vaapi'], testPasses: ['h264_nvenc', 'h264_vaapi'] })
    const d = await detectHwEncoder(fake.bin)
    assert.deepEqual({ encoder: d.selected?.encoder, hwDecode: d.selected?.hwDecode }, { encoder: 'h264_nvenc', hwDecode: false })
    assert.equal(d.tried.length, 1, 'stops at the first working encoder')
  })

  it('reports an ffmpeg that lists no hardware encoder', async () => {
    const fake = await fakeGpuFfmpeg(dir, 'none', {})
    const d = await detectHwEncoder(fake.bin)
    assert.equal(d.selected, null)
    assert.match(describeHwDetection(d), /lists none of h264_nvenc, h264_qsv, h264_vaapi, h264_videotoolbox/)
    assert.deepEqual(await hwRuns(fake.log), [])
  })
})

describe('hardware pipelines (arguments only: no GPU here)', () => {
  it('CPU: libx264, CPU scale, no hwaccel, the join settings', () => {
    const a = args(undefined)
    assert.equal(a.includes('-hwaccel'), false)
    assert.equal(after_(a, '-c:v'), 'libx264')
    assert.match(after_(a, '-filter_complex')!, /\[0:v:0\]split=2\[s0\]\[s1\];\[s0\]scale=w=320:h=180\[z0\]/)
  })

  it('NVENC: CUDA decode, scale_cuda, seamless-join settings kept', () => {
    const a = args(nvenc())
    const i = a.indexOf('-i')
    assert.deepEqual(a.slice(a.indexOf('-hwaccel'), a.indexOf('-hwaccel') + 4), ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda'])
    assert.ok(a.indexOf('-hwaccel') < i && a.indexOf('-copyts') < i, 'hwaccel and -copyts are input options')
    const graph = after_(a, '-filter_complex')!
    assert.match(graph, /\[s0\]scale_cuda=w=320:h=180\[z0\]/)
    assert.match(graph, /\[s1\]scale_cuda=w=256:h=144\[z1\]/)
    assert.doesNotMatch(graph, /(^|;)\[s\d\]scale=/)
    // Per output: the encoder, 2 B-frames, GOP = 60 frames, no scene cuts, audio copied, timestamps kept.
    const outs = a.filter((x) => x === 'h264_nvenc').length
    assert.equal(outs, 2)
    for (const flag of [['-bf', '2'], ['-g', '60'], ['-no-scenecut', '1'], ['-forced-idr', '1'], ['-c:a', 'copy'], ['-muxdelay', '0'], ['-muxpreload', '0'], ['-mpegts_flags', '+initial_discontinuity']]) {
      assert.equal(after_(a, flag[0]!), flag[1], flag[0])
    }
    assert.equal(a.includes('-pix_fmt'), false, 'frames stay on the GPU')
  })

  it('NVENC without the CUDA hwaccel: CPU decode and scale, yuv420p into NVENC', () => {
    const a = args(nvenc(false))
    assert.equal(a.includes('-hwaccel'), false)
    assert.match(after_(a, '-filter_complex')!, /\[s0\]scale=w=320:h=180/)
    assert.equal(after_(a, '-pix_fmt'), 'yuv420p')
    assert.equal(after_(a, '-c:v'), 'h264_nvenc')
  })

  it('VAAPI: device, vaapi decode, scale_vaapi to nv12; CPU decode uploads after scaling', () => {
    const a = args(vaapi())
    assert.equal(after_(a, '-vaapi_device'), '/dev/dri/renderD128')
    assert.equal(after_(a, '-hwaccel'), 'vaapi')
    assert.equal(after_(a, '-hwaccel_output_format'), 'vaapi')
    assert.match(after_(a, '-filter_complex')!, /\[s0\]scale_vaapi=w=320:h=180:format=nv12\[z0\]/)
    assert.equal(after_(a, '-c:v'), 'h264_vaapi')
    const b = args(vaapi(false))
    assert.equal(after_(b, '-vaapi_device'), '/dev/dri/renderD128')
    assert.equal(b.includes('-hwaccel'), false)
    assert.match(after_(b, '-filter_complex')!, /\[s0\]scale=w=320:h=180\[z0\];\[z0\]format=nv12\[n0\];\[n0\]hwupload\[u0\];\[u0\]setsar=1\[v0\]/)
  })

  it('QSV: the QSV decoder for H.264/HEVC sources, scale_qsv; other sources decode on the CPU', () => {
    const a = args(qsv())
    assert.deepEqual(a.slice(a.indexOf('-hwaccel'), a.indexOf('-hwaccel') + 6), ['-hwaccel', 'qsv', '-hwaccel_output_format', 'qsv', '-c:v', 'h264_qsv'])
    assert.match(after_(a, '-filter_complex')!, /scale_qsv=w=320:h=180/)
    const b = args(qsv(), 'mpeg2video')
    assert.equal(b.includes('-hwaccel'), false)
    assert.match(after_(b, '-filter_complex')!, /\[s0\]scale=w=320/)
    assert.equal(after_(b, '-pix_fmt'), 'nv12')
  })

  it('VideoToolbox: hardware decode, CPU scale, h264_videotoolbox', () => {
    const a = args(vt())
    assert.equal(after_(a, '-hwaccel'), 'videotoolbox')
    assert.match(after_(a, '-filter_complex')!, /\[s0\]scale=w=320:h=180/)
    assert.equal(after_(a, '-c:v'), 'h264_videotoolbox')
    assert.equal(after_(a, '-realtime'), '1')
  })
})

describe('Transcoder falls back to the CPU when the GPU fails at run time', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  let src = ''
  before(async () => {
    ({ dir, cleanup } = await tempDir('hwaccel-fallback-'))
    src = path.join(dir, 'src.flv')
    await makeSourceFile(src, { seconds: 2, gopSeconds: 2 })
  })
  after(() => cleanup())

  it('retries the job on libx264, warns once, and stays on the CPU', async () => {
    const fake = await fakeGpuFfmpeg(dir, 'runtime', { listed: ['h264_nvenc'], hwaccels: ['cuda'], testPasses: ['h264_nvenc'] })
    const d = await detectHwEncoder(fake.bin)
    assert.equal(d.selected?.encoder, 'h264_nvenc', 'the fake passes the one-frame test')
    const warnings: Array<{ obj: object; msg: string }> = []
    const t = new Transcoder({ ffmpegPath: fake.bin, hw: d.selected, preset: 'ultrafast', logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } })
    assert.equal(t.encoder, 'h264_nvenc')
    assert.equal(t.hwKind, 'nvenc')
    const r1 = await t.transcode({ input: src, outDir: path.join(dir, 'o1'), ladder: LADDER, fpsMilli: 30000, durationSec: 2 })
    assert.equal(r1.encoder, 'libx264')
    assert.equal(r1.renditions.length, 2)
    for (const r of r1.renditions) assert.ok((await stat(r.path)).size > 0)
    assert.equal(t.fellBack, true)
    assert.equal(t.encoder, 'libx264')
    assert.equal(t.hwKind, 'cpu')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]!.msg, /hardware encoder h264_nvenc failed at run time; using the CPU \(libx264\) for this and every later job/)
    // The GPU run really was the hardware pipeline.
    const transcodes = (await hwRuns(fake.log)).filter((l) => !l.includes('-frames:v 1'))
    assert.equal(transcodes.length, 1)
    assert.match(transcodes[0]!, /-hwaccel cuda -hwaccel_output_format cuda .*-copyts .*scale_cuda/)
    const r2 = await t.transcode({ input: src, outDir: path.join(dir, 'o2'), ladder: LADDER, fpsMilli: 30000, durationSec: 2 })
    assert.equal(r2.encoder, 'libx264')
    assert.equal(warnings.length, 1, 'one warning, not one per job')
    assert.equal((await hwRuns(fake.log)).filter((l) => !l.includes('-frames:v 1')).length, 1, 'no later GPU attempt')
  })

  it('keeps the GPU when the CPU fails on the same segment (the segment is bad, not the GPU)', async () => {
    const fake = await fakeGpuFfmpeg(dir, 'bad-input', { listed: ['h264_nvenc'], testPasses: ['h264_nvenc'] })
    const bad = path.join(dir, 'garbage.ts')
    await writeFile(bad, Buffer.alloc(4096, 7))
    const warnings: string[] = []
    const t = new Transcoder({ ffmpegPath: fake.bin, hw: nvenc(false), logger: { warn: (_o, msg) => warnings.push(msg) } })
    await assert.rejects(t.transcode({ input: bad, outDir: path.join(dir, 'o3'), ladder: LADDER, fpsMilli: 30000, durationSec: 2 }), (err: Error) => err instanceof TranscodeError)
    assert.equal(t.encoder, 'h264_nvenc')
    assert.equal(t.fellBack, false)
    assert.deepEqual(warnings, [])
  })
})
