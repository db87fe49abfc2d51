import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { defaultMaxJobs, parseConfig } from '../src/config.js'
import { createNode } from '../src/node.js'
import { benchRow, formatBench, rungSets } from '../src/bench-cmd.js'
import type { DistNode } from '../src/node.js'

const run = promisify(execFile)
const BIN = fileURLToPath(new URL('../../bin/diststream-node.js', import.meta.url))
/** The FAKE GPU ffmpeg of the media tests (a wrapper around the real ffmpeg; no GPU here). */
const FAKE_GPU_FFMPEG = fileURLToPath(new URL('../../../packages/media/test/fixtures/fake-gpu-ffmpeg.sh', import.meta.url))
const NODE_FLAGS = ((await readFile(BIN, 'utf8')).split('\n')[0]?.match(/node (.*)$/)?.[1] ?? '').split(' ').filter(Boolean)

/** Environment that makes the node use the fake GPU ffmpeg: NVENC listed, its one-frame test passes, real transcodes fail. */
const fakeNvenc = (log: string): NodeJS.ProcessEnv => ({
  FFMPEG_PATH: FAKE_GPU_FFMPEG, FAKE_GPU_LISTED: 'h264_nvenc', FAKE_GPU_HWACCELS: 'cuda', FAKE_GPU_TEST_PASS: 'h264_nvenc', FAKE_GPU_LOG: log
})

describe('market options', () => {
  it('--price, --calibrate, --max-jobs defaults', async () => {
    const d = await parseConfig([])
    assert.equal(d.price, 0)
    assert.equal(d.calibrate, true)
    assert.equal(d.maxJobsSet, false)
    assert.ok(d.maxJobs >= 1 && d.maxJobs <= 2)
    const c = await parseConfig(['--price', '7', '--no-calibrate', '--max-jobs', '3'])
    assert.deepEqual([c.price, c.calibrate, c.maxJobs, c.maxJobsSet], [7, false, 3, true])
    await assert.rejects(parseConfig(['--price', '-1']), /--price/)
    await assert.rejects(parseConfig(['--price', '1.5']), /--price/)
  })

  it('bench rows and table', () => {
    const ladder = [{ name: '720p', width: 1280, height: 720, videoKbps: 1 }, { name: '360p', width: 640, height: 360, videoKbps: 1 }]
    assert.deepEqual(rungSets(ladder).map(s => s.map(r => r.name).join(',')), ['720p,360p', '720p', '360p'])
    const row = benchRow({ ladder, fixedMs: 100, msPerMediaSec: 300, runs: [{ durationMs: 500, elapsedMs: 250 }, { durationMs: 2000, elapsedMs: 700 }] } as any, 2000)
    assert.deepEqual(row, { rungs: '720p,360p', segmentsPerSec: 1000 / 700, realtime: 2000 / 700, segmentMs: 700, fixedMs: 100, msPerMediaSec: 300 })
    assert.match(formatBench([row]), /^rungs\s+segments\/s\s+realtime.*\n720p,360p\s+1\.43\s+2\.86×\s+700 ms\s+100 ms\s+300 ms$/)
  })
})

describe('diststream-node bench (real ffmpeg)', () => {
  let dir = ''
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'bench-cmd-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('prints the calibration per rung set with the encoder, and caches it', async () => {
    const { stdout } = await run(process.execPath, [...NODE_FLAGS, BIN, 'bench', '--ladder', '240p', '--data-dir', join(dir, 'a')], { timeout: 120_000 })
    assert.match(stdout, /encoder libx264 \(cpu\)/)
    assert.match(stdout, /source 426x240/)
    assert.match(stdout, /\n240p\s+\d+\.\d\d\s+\d+\.\d\d×\s+\d+ ms/)
    const cached = JSON.parse(await readFile(join(dir, 'a', 'calibration.json'), 'utf8'))
    assert.equal(cached.encoder, 'libx264')
  })

  it('--gpu with a fake GPU that passes the test but fails real work: detected, then the CPU', async () => {
    const log = join(dir, 'fake-gpu.log')
    const { stdout } = await run(process.execPath, [...NODE_FLAGS, BIN, 'bench', '--gpu', '--ladder', '240p', '--data-dir', join(dir, 'b')], { timeout: 120_000, env: { ...process.env, ...fakeNvenc(log) } })
    assert.match(stdout, /--gpu: using hardware encoder h264_nvenc \(nvenc; decode and scale on cuda\)/)
    assert.match(stdout, /note: the hardware encoder failed during the bench; the figures are libx264's/)
    assert.match(stdout, /\n240p\s+\d+\.\d\d/)
    const runs = (await readFile(log, 'utf8')).split('\n').filter(l => l !== '' && !l.includes('-frames:v 1'))
    assert.equal(runs.length, 1, 'one hardware attempt, then the CPU for good')
  })
})

describe('a worker node reports its encoder (fake GPU) in /api/node and presence', () => {
  let dir = ''
  const nodes: DistNode[] = []
  const saved: NodeJS.ProcessEnv = {}
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'market-node-'))
    const env = fakeNvenc(join(dir, 'fake-gpu.log'))
    for (const [k, v] of Object.entries(env)) { saved[k] = process.env[k]; process.env[k] = v }
  })
  after(async () => {
    for (const n of nodes) await n.stop()
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v }
    await rm(dir, { recursive: true, force: true })
  })

  it('--gpu: h264_nvenc, more jobs at once by default, seen by a peer', async () => {
    const common = ['--http-port', '0', '--http-host', '127.0.0.1', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-calibrate', '--log-level', 'silent']
    const worker = await createNode(await parseConfig(['--role', 'worker', '--gpu', '--price', '3', '--data-dir', join(dir, 'w'), ...common]), pino({ level: 'silent' }))
    nodes.push(worker)
    const api = await (await fetch(`${worker.httpUrl}/api/node`)).json() as any
    assert.equal(api.ffmpeg.encoder, 'h264_nvenc')
    assert.deepEqual({ ...api.worker, calibration: undefined }, { activeJobs: 0, maxJobs: 4, encoder: 'h264_nvenc', gpu: true, hwKind: 'nvenc', price: 3, calibration: undefined })
    const addr = worker.libp2p.getMultiaddrs()[0]!.toString()
    const edge = await createNode(await parseConfig(['--role', 'edge', '--bootstrap', addr, '--data-dir', join(dir, 'e'), ...common]), pino({ level: 'silent' }))
    nodes.push(edge)
    let seen: any
    for (let i = 0; i < 100 && seen?.gpu !== true; i++) {
      await worker.presence.announce().catch(() => { /* the loop announces again */ })
      await new Promise(resolve => setTimeout(resolve, 200))
      const peers = (await (await fetch(`${edge.httpUrl}/api/node`)).json() as any).peers
      seen = peers.find((p: any) => p.peerId === worker.libp2p.peerId.toString() && p.roles.length > 0)
    }
    assert.deepEqual({ gpu: seen?.gpu, hwKind: seen?.hwKind, maxJobs: seen?.maxJobs }, { gpu: true, hwKind: 'nvenc', maxJobs: 4 })
  })

  it('a GPU that fails real work during calibration: the worker moves to the CPU and reports it', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (l: string) => { lines.push(l) } })
    const worker = await createNode(await parseConfig(['--role', 'worker', '--gpu', '--ladder', '240p', '--data-dir', join(dir, 'w2'), '--http-port', '0', '--http-host', '127.0.0.1', '--listen', '/ip4/127.0.0.1/tcp/0']), logger)
    nodes.push(worker)
    await worker.worker!.calibrated()
    const api = await (await fetch(`${worker.httpUrl}/api/node`)).json() as any
    assert.deepEqual([api.worker.encoder, api.worker.gpu, api.worker.hwKind, api.ffmpeg.encoder], ['libx264', false, 'cpu', 'libx264'])
    assert.equal(api.worker.maxJobs, defaultMaxJobs(false), 'back to CPU capacity')
    assert.equal(api.worker.calibration.encoder, 'libx264')
    assert.deepEqual(api.worker.calibration.ladder, ['240p'])
    const warnings = lines.map(l => JSON.parse(l)).filter(l => /failed at run time/.test(l.msg))
    assert.equal(warnings.length, 1)
    assert.match(warnings[0].msg, /hardware encoder h264_nvenc failed at run time; using the CPU \(libx264\) for this and every later job/)
  })
})
