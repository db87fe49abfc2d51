import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { judgeSpotCheck, shouldSpotCheck } from '../src/index.js'

describe('judgeSpotCheck', () => {
  it('tolerates encoder differences', () => {
    assert.equal(judgeSpotCheck(38.2, 33.1), 'agree')
    assert.equal(judgeSpotCheck(Infinity, 41), 'agree')
  })
  it('blames the worker far below the other or below the floor', () => {
    assert.equal(judgeSpotCheck(9.5, 36), 'first-bad')
    assert.equal(judgeSpotCheck(36, 12), 'second-bad')
    assert.equal(judgeSpotCheck(24, 40), 'first-bad') // above the floor but 16 dB worse
    assert.equal(judgeSpotCheck(10, 11), 'both-bad')
    assert.equal(judgeSpotCheck(NaN, 35), 'first-bad')
  })
  it('samples at the rate', () => {
    assert.equal(shouldSpotCheck(0, () => 0), false)
    assert.equal(shouldSpotCheck(1, () => 0.999), true)
    assert.equal(shouldSpotCheck(0.1, () => 0.05), true)
    assert.equal(shouldSpotCheck(0.1, () => 0.5), false)
  })
})
