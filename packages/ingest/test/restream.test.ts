import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FakeClock } from '@diststream/util'
import { backoffMs, connected, failed, initialStatus, retryDue, start, stop } from '../src/restream/output-state.js'
import { outputFormat, parseOutputUrl, redactIn, redactOutputUrl, REDACTED } from '../src/restream/output-url.js'
import { OutputRelay } from '../src/restream/relay.js'
import type { BackoffPolicy, OutputState } from '../src/restream/output-state.js'
import type { RelayAttempt } from '../src/restream/relay.js'

const policy: BackoffPolicy = { baseMs: 1000, maxMs: 8000, maxFailures: 6 }

describe('restream: output URLs', () => {
  it('accepts rtmp, rtmps and srt with a host', () => {
    assert.equal(parseOutputUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl'), 'rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl')
    assert.equal(parseOutputUrl('rtmps://live.twitch.tv:443/app/live_123_xyz'), 'rtmps://live.twitch.tv:443/app/live_123_xyz')
    assert.equal(parseOutputUrl('srt://127.0.0.1:9000?streamid=secret'), 'srt://127.0.0.1:9000?streamid=secret')
  })

  it('refuses other schemes, no host, no path, credentials, whitespace and overlong URLs', () => {
    for (const bad of ['http://x/live/k', 'file:///etc/passwd', 'rtmp:///live/k', 'rtmp://host', 'rtmp://host/', 'rtmp://u:p@host/live/k', 'rtmp://host/live/k x', 'rtmp://host/live/\u0000', 'not a url', `rtmp://h/live/${'k'.repeat(2100)}`]) {
      assert.throws(() => parseOutputUrl(bad), (err: Error & { statusCode?: number }) => err.statusCode === 400, bad)
    }
  })

  it('redacts the key (last path segment) and secret query parameters, keeps host and app', () => {
    assert.equal(redactOutputUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh'), `rtmp://a.rtmp.youtube.com/live2/${REDACTED}`)
    assert.equal(redactOutputUrl('rtmp://h:1935/app/key/'), `rtmp://h:1935/app/${REDACTED}/`)
    assert.equal(redactOutputUrl('srt://h:9000?streamid=s3cret&latency=200'), `srt://h:9000?streamid=${REDACTED}&latency=200`)
    const line = 'rtmp://h/app/sekretkey: Connection refused (sekretkey)'
    assert.ok(!redactIn(line, 'rtmp://h/app/sekretkey').includes('sekretkey'))
  })

  it('writes FLV to RTMP and MPEG-TS to SRT', () => {
    assert.equal(outputFormat('rtmps://h/app/k'), 'flv')
    assert.equal(outputFormat('srt://h:1'), 'mpegts')
  })
})

describe('restream: the output state machine', () => {
  it('idle → connecting → live; a failure retries with exponential backoff, capped', () => {
    let s = start(initialStatus(0), 0)
    assert.equal(s.state, 'connecting')
    s = connected(s, 10)
    assert.equal(s.state, 'live')
    const waits: number[] = []
    for (let i = 0; i < 5; i++) {
      s = failed(s, 100, 'boom', policy)
      assert.equal(s.state, 'retrying')
      waits.push(s.retryAt! - 100)
      assert.equal(retryDue(s, s.retryAt! - 1), s, 'not before its time')
      s = retryDue(s, s.retryAt!)
      assert.equal(s.state, 'connecting')
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 8000])
    assert.equal(backoffMs(30, policy), 8000)
  })

  it('gives up after maxFailures in a row; live again resets the count; a new start revives a failed output', () => {
    let s = start(initialStatus(0), 0)
    for (let i = 1; i < policy.maxFailures; i++) s = retryDue(failed(s, 0, 'x', policy), 1e9)
    s = connected(s, 0)
    assert.equal(s.failures, 0)
    for (let i = 1; i <= policy.maxFailures; i++) {
      s = failed(s, 0, `x${i}`, policy)
      if (s.state === 'retrying') s = retryDue(s, 1e9)
    }
    assert.equal(s.state, 'failed')
    assert.equal(s.lastError, `x${policy.maxFailures}`)
    assert.equal(start(s, 5).state, 'connecting')
    assert.equal(stop(s, 5).state, 'idle')
  })
})

/** A fake attempt the test ends by hand. */
function fakeRunner (): { run: (onMedia: () => void) => RelayAttempt, attempts: Array<{ media: () => void, end: (why: string) => void, killed: boolean }> } {
  const attempts: Array<{ media: () => void, end: (why: string) => void, killed: boolean }> = []
  return {
    attempts,
    run: (onMedia) => {
      let end!: (why: string) => void
      const ended = new Promise<string>(resolve => { end = resolve })
      const a = { media: onMedia, end, killed: false }
      attempts.push(a)
      return { ended, kill: () => { a.killed = true; end('killed') } }
    }
  }
}

describe('restream: the relay, with a fake clock', () => {
  const make = (clock: FakeClock, r: ReturnType<typeof fakeRunner>, states: OutputState[]): OutputRelay =>
    new OutputRelay({ clock, policy, connectTimeoutMs: 5000, stallMs: 3000, run: r.run, onChange: s => states.push(s.state) })

  it('reconnects after each failure with growing waits, then goes live again', async () => {
    const clock = new FakeClock(0)
    const r = fakeRunner()
    const states: OutputState[] = []
    const relay = make(clock, r, states)
    relay.start()
    r.attempts[0]!.media()
    assert.equal(relay.status.state, 'live')
    r.attempts[0]!.end('Connection reset by peer')
    await clock.advanceAsync(0)
    assert.equal(relay.status.state, 'retrying')
    assert.equal(relay.status.lastError, 'Connection reset by peer')
    await clock.advanceAsync(999)
    assert.equal(r.attempts.length, 1, 'no attempt before the first backoff (1 s)')
    await clock.advanceAsync(1)
    assert.equal(r.attempts.length, 2)
    r.attempts[1]!.end('Connection refused')
    await clock.advanceAsync(1999)
    assert.equal(r.attempts.length, 2, 'second wait is 2 s')
    await clock.advanceAsync(1)
    assert.equal(r.attempts.length, 3)
    r.attempts[2]!.media()
    assert.equal(relay.status.state, 'live')
    assert.equal(relay.status.failures, 0)
    assert.deepEqual(states, ['connecting', 'live', 'retrying', 'connecting', 'retrying', 'connecting', 'live'])
  })

  it('ends a connect that hangs and a live output that stalls', async () => {
    const clock = new FakeClock(0)
    const r = fakeRunner()
    const relay = make(clock, r, [])
    relay.start()
    await clock.advanceAsync(5000)
    assert.equal(r.attempts[0]!.killed, true)
    assert.equal(relay.status.state, 'retrying')
    assert.match(relay.status.lastError ?? '', /no media/)
    await clock.advanceAsync(1000)
    r.attempts[1]!.media()
    await clock.advanceAsync(2000)
    r.attempts[1]!.media()
    await clock.advanceAsync(2999)
    assert.equal(relay.status.state, 'live', 'media moving keeps it live')
    await clock.advanceAsync(1)
    assert.equal(r.attempts[1]!.killed, true)
    assert.match(relay.status.lastError ?? '', /stalled/)
  })

  it('stop ends the attempt and cancels a pending retry; a late end changes nothing', async () => {
    const clock = new FakeClock(0)
    const r = fakeRunner()
    const relay = make(clock, r, [])
    relay.start()
    r.attempts[0]!.end('refused')
    await clock.advanceAsync(0)
    relay.stop()
    assert.equal(relay.status.state, 'idle')
    await clock.advanceAsync(60_000)
    assert.equal(r.attempts.length, 1)
    assert.equal(clock.pendingTimers, 0)
    relay.start()
    relay.stop()
    assert.equal(r.attempts[1]!.killed, true)
    await clock.advanceAsync(0)
    assert.equal(relay.status.state, 'idle')
  })
})
