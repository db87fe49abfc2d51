import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DECODE_WEIGHT, MAX_ESTIMATE_MS, DEFAULT_COST_MODEL, Estimator, fitCostLine, framePixels, loadFactor, serviceMs } from '../src/index.js'
import type { CostModel, JobShape } from '../src/index.js'

const LADDER_720 = [{ width: 1280, height: 720 }, { width: 854, height: 480 }, { width: 640, height: 360 }]
const job = (o: Partial<JobShape> = {}): JobShape => ({ durationMs: 2000, width: 1280, height: 720, fpsMilli: 30000, ladder: LADDER_720, ...o })
const model: CostModel = { fixedMs: 200, msPerMediaSec: 400, pixelsPerFrame: framePixels({ width: 1280, height: 720 }, LADDER_720), fps: 30 }

describe('cost model', () => {
  it('counts the source (weighted) and every rung', () => {
    assert.equal(framePixels({ width: 100, height: 10 }, [{ width: 10, height: 10 }, { width: 5, height: 2 }]), DECODE_WEIGHT * 1000 + 110)
  })

  it('fits fixed and per-second cost from two runs, and survives noise', () => {
    assert.deepEqual(fitCostLine([{ durationMs: 500, elapsedMs: 400 }, { durationMs: 2000, elapsedMs: 1000 }]), { fixedMs: 200, msPerMediaSec: 400 })
    // the longer clip was faster: the line would have a negative slope; the longest run decides
    assert.deepEqual(fitCostLine([{ durationMs: 500, elapsedMs: 900 }, { durationMs: 2000, elapsedMs: 800 }]), { fixedMs: 0, msPerMediaSec: 400 })
    // a negative intercept: the same
    assert.deepEqual(fitCostLine([{ durationMs: 1000, elapsedMs: 100 }, { durationMs: 2000, elapsedMs: 1000 }]), { fixedMs: 0, msPerMediaSec: 500 })
    assert.deepEqual(fitCostLine([{ durationMs: 2000, elapsedMs: 1000 }]), { fixedMs: 0, msPerMediaSec: 500 })
    assert.throws(() => fitCostLine([{ durationMs: 0, elapsedMs: 10 }]), RangeError)
  })

  it('scales with duration, pixels and frame rate', () => {
    assert.equal(serviceMs(model, job()), 200 + 800)
    assert.equal(serviceMs(model, job({ durationMs: 4000 })), 200 + 1600)
    assert.equal(serviceMs(model, job({ fpsMilli: 60000 })), 200 + 1600)
    // a quarter of the pixels (640x360 source, one 640x360 rung... vs the reference)
    const small = job({ width: 640, height: 360, ladder: [{ width: 640, height: 360 }] })
    const ratio = framePixels({ width: 640, height: 360 }, [{ width: 640, height: 360 }]) / model.pixelsPerFrame
    assert.ok(Math.abs(serviceMs(model, small) - (200 + 800 * ratio)) < 1e-9)
    // unknown source size: the largest rung stands in; unknown fps: the reference rate
    assert.equal(serviceMs(model, job({ width: 0, height: 0, fpsMilli: 0 })), 200 + 800)
  })

  it('load: shares the machine beyond its parallelism', () => {
    assert.equal(loadFactor(0, 1), 1)
    assert.equal(loadFactor(1, 1), 2)
    assert.equal(loadFactor(2, 1), 3)
    assert.equal(loadFactor(1, 2), 1)
    assert.equal(loadFactor(3, 2), 2)
    assert.equal(loadFactor(-4, 0), 1)
  })
})

describe('Estimator', () => {
  it('estimates from the model and the load (running + promised)', () => {
    const e = new Estimator({ model })
    assert.equal(e.estimate(job()), 1000)
    assert.equal(e.estimate(job(), { active: 1, pending: 0 }), 2000)
    assert.equal(e.estimate(job(), { active: 1, pending: 1 }), 3000)
    assert.equal(e.estimate(job({ durationMs: 60_000, ladder: Array(8).fill({ width: 8192, height: 8192 }) }), { active: 1e6, pending: 0 }), MAX_ESTIMATE_MS, 'fits the wire')
    const gpu = new Estimator({ model, parallelism: 2 })
    assert.equal(gpu.estimate(job(), { active: 1, pending: 0 }), 1000)
  })

  it('starts from the built-in model and switches to a calibration', () => {
    const e = new Estimator()
    assert.equal(e.model, DEFAULT_COST_MODEL)
    assert.equal(e.estimate(job()), 300 + 550)
    e.setModel(model)
    assert.equal(e.estimate(job()), 1000)
  })

  it('corrects itself from observed times, bounded', () => {
    const e = new Estimator({ model, alpha: 0.5 })
    e.observe(job(), 2000, 1) // twice as slow as predicted
    assert.equal(e.correction, 1.5)
    assert.equal(e.estimate(job()), 1500)
    // an observation under load is judged against the loaded prediction
    const f = new Estimator({ model, alpha: 0.5 })
    f.observe(job(), 2000, 2)
    assert.equal(f.correction, 1)
    // absurd observations are clamped
    for (let i = 0; i < 200; i++) e.observe(job(), 1e9, 1)
    assert.ok(e.correction <= 5 && e.correction > 4.99, String(e.correction))
    const c = e.correction
    e.observe(job(), 0, 1)
    assert.equal(e.correction, c, 'a zero time is ignored')
    e.setModel(model)
    assert.equal(e.correction, 1, 'a new calibration resets the correction')
  })
})
