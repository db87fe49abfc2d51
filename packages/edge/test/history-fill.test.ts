import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fillHistoryInBackground } from '../src/history-fill.js'

const log = { debug: () => {}, info: () => {}, warn: () => {} }

describe('fillHistoryInBackground', () => {
  it('asks again until the INDEX is had, then stops', async () => {
    let calls = 0
    await fillHistoryInBackground(async () => { if (++calls < 4) throw new Error('busy ingest') }, { signal: new AbortController().signal, log, streamId: 's', baseMs: 1, maxPauseMs: 4 })
    assert.equal(calls, 4)
  })

  it('gives up after its tries, and at once when the stream is closed', async () => {
    let calls = 0
    await fillHistoryInBackground(async () => { calls++; throw new Error('gone') }, { signal: new AbortController().signal, log, streamId: 's', baseMs: 1, maxPauseMs: 2, attempts: 5 })
    assert.equal(calls, 5)
    const ctl = new AbortController()
    calls = 0
    const p = fillHistoryInBackground(async () => { calls++; throw new Error('busy') }, { signal: ctl.signal, log, streamId: 's', baseMs: 60_000 })
    await new Promise(resolve => setTimeout(resolve, 10))
    ctl.abort()
    await p
    assert.equal(calls, 1, 'no try after the close')
  })
})
