import { describe, it, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ffmpegVersion, resolveFfmpeg, Transcoder } from '@diststream/media'
import { CALIBRATION_FILE, calibrationKey, calibrationSource, Estimator, loadOrCalibrate, throughput } from '../src/index.js'
import type { RungSpec } from '@diststream/media'

const ff = resolveFfmpeg()
const SMALL: RungSpec[] = [{ name: '240p', width: 426, height: 240, videoKbps: 400 }]

describe('calibration (real ffmpeg, CPU)', () => {
  let dir = ''
  let version = ''
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calibrate-test-'))
    version = await ffmpegVersion(ff.ffmpeg)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const opts = (ladder: RungSpec[], dataDir: string) => ({
    dataDir,
    ffmpegPath: ff.ffmpeg,
    ffmpegVersion: version,
    ladder,
    transcoder: new Transcoder({ ffmpegPath: ff.ffmpeg, preset: 'veryfast' }),
    preset: 'veryfast',
    workDir: join(dir, 'work'),
    clipsSec: [0.5, 1]
  })

  it('measures, caches in the data dir, and reuses the cache for the same key', async () => {
    const dataDir = join(dir, 'a')
    const first = await loadOrCalibrate(opts(SMALL, dataDir))
    assert.equal(first.cached, false)
    const c = first.calibration
    assert.equal(c.encoder, 'libx264')
    assert.deepEqual(c.source, { width: 426, height: 240 })
    assert.deepEqual(c.ladder.map(r => r.name), ['240p'])
    assert.deepEqual(c.runs.map(r => r.durationMs), [500, 1000])
    for (const r of c.runs) assert.ok(r.elapsedMs > 0)
    assert.ok(c.msPerMediaSec > 0 && c.fixedMs >= 0 && c.fixedMs <= Math.min(...c.runs.map(r => r.elapsedMs)))
    assert.equal(c.key, calibrationKey({ ffmpegVersion: version, encoder: 'libx264', preset: 'veryfast', ladder: SMALL }))
    assert.match(c.key, new RegExp(`ffmpeg ${version.replace(/[.+]/g, '\\$&')}\\|libx264\\|veryfast\\|240p:426x240@400`))
    const file = JSON.parse(await readFile(join(dataDir, CALIBRATION_FILE), 'utf8'))
    assert.equal(file.key, c.key)
    // the model reproduces the measured runs' order of magnitude for a job like the clip
    const e = new Estimator({ model: c })
    const est = e.estimate({ durationMs: 1000, width: 426, height: 240, fpsMilli: 30000, ladder: SMALL })
    assert.equal(est, Math.max(1, Math.round(c.fixedMs + c.msPerMediaSec)))
    const second = await loadOrCalibrate(opts(SMALL, dataDir))
    assert.equal(second.cached, true)
    assert.deepEqual(second.calibration, c)
  })

  it('recalibrates when the ladder (part of the key) changes, or the cache is unreadable', async () => {
    const dataDir = join(dir, 'b')
    const a = await loadOrCalibrate(opts(SMALL, dataDir))
    const other: RungSpec[] = [{ name: '240p', width: 426, height: 240, videoKbps: 300 }]
    const b = await loadOrCalibrate(opts(other, dataDir))
    assert.equal(b.cached, false)
    assert.notEqual(b.calibration.key, a.calibration.key)
    await writeFile(join(dataDir, CALIBRATION_FILE), '{ not json')
    assert.equal((await loadOrCalibrate(opts(other, dataDir))).cached, false)
  })

  it('figures for bench: segments per second and realtime factor', () => {
    assert.deepEqual(throughput({ durationMs: 2000, elapsedMs: 500 }, 2000), { segmentsPerSec: 2, realtime: 4 })
    assert.deepEqual(throughput({ durationMs: 1000, elapsedMs: 500 }, 2000), { segmentsPerSec: 1, realtime: 2 })
    assert.deepEqual(calibrationSource([{ name: '720p', width: 1280, height: 720, videoKbps: 1 }, { name: '360p', width: 640, height: 360, videoKbps: 1 }]), { width: 1280, height: 720 })
  })
})
