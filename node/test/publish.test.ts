import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { progressLine } from '../src/publish.js'

describe('progressLine', () => {
  it('draws a bar with a percentage and the counts', () => {
    assert.equal(progressLine('segments', 0, 4, 8), '[........]   0% segments 0/4')
    assert.equal(progressLine('segments', 2, 4, 8), '[####....]  50% segments 2/4')
    assert.equal(progressLine('segments', 4, 4, 8), '[########] 100% segments 4/4')
    assert.equal(progressLine('segments', 9, 4, 8), '[########] 100% segments 9/4', 'clamped')
  })

  it('shows a plain count while the total is unknown', () => {
    assert.equal(progressLine('segments', 3, undefined), 'segments 3')
    assert.equal(progressLine('segments', 3, 0), 'segments 3')
  })
})
