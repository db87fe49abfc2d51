import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StreamAnnounce } from '@diststream/protocol'
import { FakeClock, Notifier } from '@diststream/util'
import { pino } from 'pino'
import { StreamDirectory } from '../src/directory.js'
import type { StreamDirectoryInit } from '../src/directory.js'
import type { IndexAnswer } from '../src/fetch-client.js'

const announce = (streamId: string, o: Partial<StreamAnnounce> = {}): StreamAnnounce => ({
  streamId, name: streamId, state: StreamAnnounce.State.LIVE, renditions: [], targetDurationMs: 2000, lastSeq: 0, ingestMultiaddrs: [], updatedAtMs: 1, ...o
})

function setup (o: Partial<StreamDirectoryInit> & { followed?: Set<string>, index?: (peer: string, id: string) => Promise<IndexAnswer> } = {}) {
  const clock = new FakeClock(1_000_000)
  const notifier = new Notifier<string>()
  const errors: string[] = []
  const lookups: string[] = []
  const indexCalls: string[] = []
  const shutdown = new AbortController()
  const followed = o.followed ?? new Set<string>()
  const dir = new StreamDirectory({
    notifier,
    clock,
    logger: pino({ level: 'silent' }),
    signal: shutdown.signal,
    isFollowed: id => followed.has(id),
    onProtocolError: (_reason, where) => { errors.push(where) },
    onLookup: outcome => { lookups.push(outcome) },
    client: {
      index: async (peer, id) => {
        indexCalls.push(`${peer}:${id}`)
        return await (o.index ?? (async () => ({ stream: announce(id), segments: [] })))(peer, id)
      }
    },
    ...o
  })
  return { dir, clock, notifier, errors, lookups, indexCalls, shutdown }
}

/** A discovery stub whose lookups finish when the test says so. */
function deferredDiscovery () {
  const calls: Array<{ id: string, finish: (peers: string[]) => void }> = []
  return {
    calls,
    discovery: {
      provideStream: async () => {},
      findStreamProviders: async (id: string) => await new Promise<string[]>(resolve => { calls.push({ id, finish: resolve }) })
    }
  }
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('StreamDirectory: which ingest owns which stream', () => {
  it('binds a stream to the first ingest that announces it; another ingest is refused and counted; older news is ignored', () => {
    const { dir, errors } = setup()
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 10 }), 'I1'), true)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 20 }), 'I2'), false)
    assert.deepEqual(errors, ['streams:foreign-announce'])
    assert.equal(dir.get('a')?.ingest, 'I1')
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 5, lastSeq: 9 }), 'I1'), false)
    assert.equal(dir.get('a')?.announce.updatedAtMs, 10)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 30, lastSeq: 9 }), 'I1'), true)
    assert.equal(dir.get('a')?.announce.lastSeq, 9)
  })

  it('is bounded: past maxEntries the oldest stream not followed is evicted', () => {
    const { dir } = setup({ maxEntries: 3, followed: new Set(['s0']) })
    for (let i = 0; i < 5; i++) dir.onAnnounce(announce(`s${i}`), 'I')
    assert.equal(dir.size, 3)
    assert.ok(dir.get('s0') != null, 'a followed stream is never evicted')
    assert.equal(dir.get('s1'), undefined)
    assert.equal(dir.get('s2'), undefined)
    assert.ok(dir.get('s3') != null && dir.get('s4') != null)
  })

  it('remembers when a stream was dropped, so a late "ended" does not bring it back; a new live one does', () => {
    const { dir, clock } = setup({ maxDropped: 2 })
    dir.onAnnounce(announce('a'), 'I')
    clock.advance(500)
    dir.drop('a')
    assert.equal(dir.get('a'), undefined)
    assert.equal(dir.droppedAt('a'), 1_000_500)
    assert.equal(dir.onAnnounce(announce('a', { state: StreamAnnounce.State.ENDED, updatedAtMs: 2 }), 'I'), false)
    assert.equal(dir.get('a'), undefined)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 3 }), 'I'), true)
    assert.equal(dir.droppedAt('a'), undefined)
    // bounded too
    for (const id of ['x', 'y', 'z']) dir.drop(id)
    assert.equal(dir.droppedAt('x'), undefined)
    assert.equal(dir.droppedAt('z'), 1_000_500)
  })

  it('resolve waits for a stream to appear (gossip), or gives up after its timeout', async () => {
    const { dir } = setup()
    const waiting = dir.resolve('late', { timeoutMs: 5000 })
    await tick()
    dir.onAnnounce(announce('late'), 'I')
    assert.equal((await waiting)?.ingest, 'I')
    assert.equal(await dir.resolve('never', { timeoutMs: 20 }), undefined)
    const stop = new AbortController()
    const stopped = dir.resolve('never2', { timeoutMs: 60_000, signal: stop.signal })
    stop.abort()
    assert.equal(await stopped, undefined)
  })

  it('resolve finds an unknown stream on the DHT: the provider that answers its INDEX becomes its ingest', async () => {
    const d = deferredDiscovery()
    const { dir, lookups, indexCalls } = setup({ discovery: d.discovery })
    const waiting = dir.resolve('dht', { timeoutMs: 5000 })
    await tick()
    assert.equal(d.calls.length, 1)
    d.calls[0]!.finish(['P'])
    const entry = await waiting
    assert.equal(entry?.ingest, 'P')
    assert.deepEqual(indexCalls, ['P:dht'])
    assert.deepEqual(lookups, ['found'])
  })

  it('resolve waits past its timeout for a lookup whose provider has not answered its INDEX yet (a first request is not an error)', async () => {
    const d = deferredDiscovery()
    let answer: (a: IndexAnswer) => void = () => {}
    const { dir } = setup({ discovery: d.discovery, index: async () => await new Promise<IndexAnswer>(resolve => { answer = resolve }) })
    const waiting = dir.resolve('slow', { timeoutMs: 20 })
    await tick()
    d.calls[0]!.finish(['P'])
    await new Promise(resolve => setTimeout(resolve, 60)) // past the 20 ms timeout: the INDEX is still coming
    answer({ stream: announce('slow'), segments: [] })
    assert.equal((await waiting)?.ingest, 'P')
    // a lookup that ends without the stream ends the wait at once
    const d2 = deferredDiscovery()
    const { dir: dir2 } = setup({ discovery: d2.discovery })
    const none = dir2.resolve('none', { timeoutMs: 20 })
    await new Promise(resolve => setTimeout(resolve, 40))
    d2.calls[0]!.finish([])
    assert.equal(await none, undefined)
  })

  it('a provider that answers for another stream, or fails, is not taken', async () => {
    const d = deferredDiscovery()
    const { dir, lookups } = setup({
      discovery: d.discovery,
      index: async (peer) => {
        if (peer === 'bad') throw new Error('no')
        return { stream: announce('other'), segments: [] }
      }
    })
    const p = dir.lookup('x')
    await tick()
    d.calls[0]!.finish(['bad', 'liar'])
    await p
    assert.equal(dir.get('x'), undefined)
    assert.deepEqual(lookups, ['not_found'])
  })

  it('paces DHT lookups: one at a time per stream, then a pause (fake clock)', async () => {
    const d = deferredDiscovery()
    const { dir, clock } = setup({ discovery: d.discovery })
    const first = dir.lookup('s')
    const second = dir.lookup('s')
    await tick()
    assert.equal(d.calls.length, 1, 'a lookup in flight is not repeated')
    await second
    d.calls[0]!.finish([])
    await first
    clock.advance(999)
    await dir.lookup('s')
    assert.equal(d.calls.length, 1, 'not again within the pause')
    clock.advance(1)
    const third = dir.lookup('s')
    await tick()
    assert.equal(d.calls.length, 2, 'again after the pause')
    d.calls[1]!.finish([])
    await third
    // other streams are not held back
    const other = dir.lookup('t')
    await tick()
    assert.equal(d.calls.length, 3)
    d.calls[2]!.finish([])
    await other
  })

  it('stops asking providers once the edge is stopping', async () => {
    const d = deferredDiscovery()
    const { dir, shutdown, indexCalls } = setup({ discovery: d.discovery })
    const p = dir.lookup('s')
    await tick()
    shutdown.abort()
    d.calls[0]!.finish(['P'])
    await p
    assert.deepEqual(indexCalls, [])
  })
})
