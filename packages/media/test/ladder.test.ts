import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  LadderError,
  RUNGS,
  codecString,
  gopFrames,
  ladderForSource,
  parseCsvListLine,
  parseLadder
} from '../src/index.js'

describe('parseLadder', () => {
  it('trims, dedupes and sorts by height, highest first', () => {
    const l = parseLadder(' 360p,720P , 480p,360p ')
    assert.deepEqual(l.map((r) => r.name), ['720p', '480p', '360p'])
    assert.deepEqual(l[0], { name: '720p', width: 1280, height: 720, videoKbps: 2800 })
  })
  it('knows the whole table', () => {
    assert.deepEqual(
      RUNGS.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoKbps}`),
      ['1080p 1920x1080 5000', '720p 1280x720 2800', '480p 854x480 1400', '360p 640x360 800', '240p 426x240 400']
    )
  })
  it('rejects unknown rungs naming the valid ones, and empty ladders', () => {
    assert.throws(() => parseLadder('720p,4k'), (e: unknown) => {
      assert.ok(e instanceof LadderError)
      assert.equal(e.name, 'LadderError')
      assert.match(e.message, /"4k"/)
      assert.match(e.message, /1080p, 720p, 480p, 360p, 240p/)
      return true
    })
    assert.throws(() => parseLadder(' , '), LadderError)
  })
  it('returns copies, not the shared table', () => {
    const l = parseLadder('720p')
    l[0]!.width = 1
    assert.equal(RUNGS[1]!.width, 1280)
  })
})

describe('ladderForSource', () => {
  const all = parseLadder('1080p,720p,480p,360p,240p')
  it('drops rungs taller than the source and keeps 16:9 widths', () => {
    const l = ladderForSource(all, 1280, 720)
    assert.deepEqual(l.map((r) => `${r.width}x${r.height}`), ['1280x720', '854x480', '640x360', '426x240'])
  })
  it('computes even widths from a 4:3 source', () => {
    const l = ladderForSource(all, 640, 480)
    assert.deepEqual(l.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoKbps}`), [
      '480p 640x480 1400',
      '360p 480x360 800',
      '240p 320x240 400'
    ])
  })
  it('handles portrait sources and odd aspect ratios', () => {
    const l = ladderForSource(all, 720, 1280)
    for (const r of l) assert.equal(r.width % 2, 0)
    assert.deepEqual(l[0], { name: '1080p', width: 608, height: 1080, videoKbps: 5000 })
    const odd = ladderForSource(parseLadder('360p'), 1000, 400)
    assert.deepEqual(odd[0], { name: '360p', width: 900, height: 360, videoKbps: 800 })
  })
  it('returns [] for a source smaller than every rung, and rejects bad sizes', () => {
    assert.deepEqual(ladderForSource(all, 320, 180), [])
    assert.throws(() => ladderForSource(all, 0, 720), LadderError)
  })
})

describe('codecString', () => {
  it('maps profile and level to RFC 6381', () => {
    const table: Array<[string, number, boolean, string]> = [
      ['Constrained Baseline', 30, false, 'avc1.42e01e'],
      ['Baseline', 31, true, 'avc1.42e01f,mp4a.40.2'],
      ['Main', 40, true, 'avc1.4d4028,mp4a.40.2'],
      ['High', 30, true, 'avc1.64001e,mp4a.40.2'],
      ['High', 31, false, 'avc1.64001f'],
      ['High', 41, false, 'avc1.640029'],
      ['High', 12, false, 'avc1.64000c'],
      ['high', 51, true, 'avc1.640033,mp4a.40.2']
    ]
    for (const [p, l, a, want] of table) assert.equal(codecString(p, l, a), want, `${p} ${l}`)
  })
  it('rejects unknown profiles and levels', () => {
    assert.throws(() => codecString('Ultra', 30, false), RangeError)
    assert.throws(() => codecString('High', 0, false), RangeError)
  })
})

describe('small helpers', () => {
  it('parses segment list CSV lines', () => {
    assert.deepEqual(parseCsvListLine('000001.ts,2.067000,4.067000'), { name: '000001.ts', start: 2.067, end: 4.067 })
    assert.deepEqual(parseCsvListLine('"a,""b"".ts",1,2'), { name: 'a,"b".ts', start: 1, end: 2 })
    assert.equal(parseCsvListLine('garbage'), null)
  })
  it('computes GOP = frames per segment', () => {
    assert.equal(gopFrames(30000, 2), 60)
    assert.equal(gopFrames(29970, 2.002), 60)
    assert.equal(gopFrames(25000, 3), 75)
  })
})
