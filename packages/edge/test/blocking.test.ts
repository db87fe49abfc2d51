import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock } from '@diststream/scheduler'
import {
  blockingDecision, blockingTimeoutMs, NotifyingWindow, parseDeliveryDirectives, PlaylistWaiters
} from '../src/blocking.js'
import { DeliveryDirectiveError } from '../src/errors.js'

describe('parseDeliveryDirectives', () => {
  it('reads _HLS_msn and _HLS_part and leaves other parameters alone', () => {
    assert.deepEqual(parseDeliveryDirectives({}), {})
    assert.deepEqual(parseDeliveryDirectives(undefined), {})
    assert.deepEqual(parseDeliveryDirectives({ _HLS_msn: '42', t: 'cachebuster' }), { msn: 42 })
    assert.deepEqual(parseDeliveryDirectives({ _HLS_msn: '0', _HLS_part: '3' }), { msn: 0, part: 3 })
    assert.deepEqual(parseDeliveryDirectives({ _HLS_msn: '7', _HLS_skip: 'YES' }), { msn: 7 })
    assert.deepEqual(parseDeliveryDirectives({ _HLS_skip: 'v2' }), {})
  })

  it('rejects malformed values with a 400 error', () => {
    for (const q of [
      { _HLS_msn: '' }, { _HLS_msn: '-1' }, { _HLS_msn: '1.5' }, { _HLS_msn: 'abc' }, { _HLS_msn: '1e3' },
      { _HLS_msn: '9999999999999' }, { _HLS_msn: ['1', '2'] }, { _HLS_part: '1' }, { _HLS_msn: '1', _HLS_part: 'x' },
      { _HLS_msn: '1', _HLS_skip: 'NO' }
    ]) {
      assert.throws(() => parseDeliveryDirectives(q), (err: any) => err.name === DeliveryDirectiveError.NAME && err.statusCode === 400, JSON.stringify(q))
    }
  })
})

describe('blockingDecision', () => {
  it('answers at once without msn, for a listed msn, and once ended', () => {
    assert.deepEqual(blockingDecision({ msn: undefined, lastSeq: 5, ended: false }), { kind: 'now' })
    assert.deepEqual(blockingDecision({ msn: 5, lastSeq: 5, ended: false }), { kind: 'now' })
    assert.deepEqual(blockingDecision({ msn: 2, lastSeq: 5, ended: false }), { kind: 'now' }, 'already slid out: the whole current playlist')
    assert.deepEqual(blockingDecision({ msn: 7, lastSeq: 5, ended: true }), { kind: 'now' })
  })

  it('holds up to two segments past the live edge and refuses further', () => {
    assert.deepEqual(blockingDecision({ msn: 6, lastSeq: 5, ended: false }), { kind: 'wait' })
    assert.deepEqual(blockingDecision({ msn: 7, lastSeq: 5, ended: false }), { kind: 'wait' })
    assert.equal(blockingDecision({ msn: 8, lastSeq: 5, ended: false }).kind, 'too-far')
    assert.deepEqual(blockingDecision({ msn: 0, lastSeq: -1, ended: false }), { kind: 'wait' }, 'empty playlist of a new stream')
  })

  it('times out after three target durations, bounded', () => {
    assert.equal(blockingTimeoutMs(1), 3000)
    assert.equal(blockingTimeoutMs(2), 6000)
    assert.equal(blockingTimeoutMs(0.1), 1000)
    assert.equal(blockingTimeoutMs(60), 30_000)
  })
})

describe('PlaylistWaiters (fake clock)', () => {
  it('releases a parked request when its condition holds after a notify', async () => {
    const clock = new FakeClock()
    const waiters = new PlaylistWaiters({ clock })
    let last = 5
    const p = waiters.wait('s1', () => last >= 6, 3000)
    assert.equal(waiters.size, 1)
    waiters.notify('s1')
    waiters.notify('other')
    assert.equal(waiters.size, 1, 'not ready yet')
    last = 6
    waiters.notify('s1')
    assert.equal(await p, 'ready')
    assert.equal(waiters.size, 0)
    assert.equal(clock.pendingTimers, 0, 'its timer is cleared')
  })

  it('answers at once when already ready, and times out otherwise', async () => {
    const clock = new FakeClock()
    const waiters = new PlaylistWaiters({ clock })
    assert.equal(await waiters.wait('s', () => true, 3000), 'ready')
    let settled: string | undefined
    const p = waiters.wait('s', () => false, 3000).then(o => { settled = o; return o })
    await clock.advanceAsync(2999)
    assert.equal(settled, undefined)
    await clock.advanceAsync(1)
    assert.equal(await p, 'timeout')
    assert.equal(waiters.size, 0)
  })

  it('bounds the parked requests: past the limit a wait is refused at once', async () => {
    const clock = new FakeClock()
    const waiters = new PlaylistWaiters({ clock, maxWaiters: 2 })
    const a = waiters.wait('s', () => false, 1000)
    const b = waiters.wait('t', () => false, 1000)
    assert.equal(await waiters.wait('s', () => false, 1000), 'full')
    assert.equal(waiters.size, 2)
    await clock.advanceAsync(1000)
    assert.deepEqual(await Promise.all([a, b]), ['timeout', 'timeout'])
    const c = waiters.wait('s', () => false, 1000)
    assert.equal(waiters.size, 1, 'room again once they left')
    waiters.close()
    assert.equal(await c, 'closed')
    assert.equal(await waiters.wait('s', () => false, 1000), 'closed')
  })

  it('M5: bounds the parked requests per stream and per client, so one of either cannot take every slot', async () => {
    const clock = new FakeClock()
    const waiters = new PlaylistWaiters({ clock, maxWaiters: 10, maxPerKey: 3, maxPerClient: 2 })
    const parked = [waiters.wait('evil', () => false, 1000, undefined, 'a'), waiters.wait('evil', () => false, 1000, undefined, 'b'), waiters.wait('evil', () => false, 1000, undefined, 'c')]
    assert.equal(await waiters.wait('evil', () => false, 1000, undefined, 'd'), 'full', 'the stream has its share')
    parked.push(waiters.wait('s', () => false, 1000, undefined, 'a'))
    assert.equal(await waiters.wait('t', () => false, 1000, undefined, 'a'), 'full', 'client a has its share')
    parked.push(waiters.wait('t', () => false, 1000, undefined, 'viewer'))
    assert.equal(waiters.size, 5)
    await clock.advanceAsync(1000)
    await Promise.all(parked)
    assert.equal(waiters.size, 0)
    const again = waiters.wait('t', () => false, 1000, undefined, 'a')
    assert.equal(waiters.size, 1, 'client a may park again once its requests left')
    waiters.close()
    assert.equal(await again, 'closed')
  })

  it('lets a client that went away leave (abort signal)', async () => {
    const clock = new FakeClock()
    const waiters = new PlaylistWaiters({ clock })
    const ac = new AbortController()
    const p = waiters.wait('s', () => false, 3000, ac.signal)
    ac.abort()
    assert.equal(await p, 'aborted')
    assert.equal(waiters.size, 0)
    assert.equal(clock.pendingTimers, 0)
  })

  it('a NotifyingWindow wakes parked reloads as segments arrive, in order only', async () => {
    const clock = new FakeClock()
    const waiters = new PlaylistWaiters({ clock })
    const w = new NotifyingWindow({ windowSize: 3, firstSeq: 0 }, () => { waiters.notify('s') })
    const ready = (msn: number) => () => blockingDecision({ msn, lastSeq: w.lastSeq ?? w.mediaSequence - 1, ended: w.ended }).kind === 'now'
    const order: number[] = []
    const p0 = waiters.wait('s', ready(0), 3000).then(o => { order.push(0); return o })
    const p1 = waiters.wait('s', ready(1), 3000).then(o => { order.push(1); return o })
    w.add({ seq: 1, durationSec: 1, uri: '1.ts' }) // out of order: seq 0 is not listed yet
    await clock.advanceAsync(0)
    assert.deepEqual(order, [])
    w.add({ seq: 0, durationSec: 1, uri: '0.ts' })
    assert.deepEqual(await Promise.all([p0, p1]), ['ready', 'ready'])
    const p3 = waiters.wait('s', ready(3), 3000)
    w.end()
    assert.equal(await p3, 'ready', 'an ended playlist answers at once')
  })
})
