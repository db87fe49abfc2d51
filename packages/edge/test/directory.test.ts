import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { StreamAnnounce, streamIdFor } from '@diststream/protocol'
import { FakeClock, Notifier } from '@diststream/util'
import { pino } from 'pino'
import { StreamDirectory } from '../src/directory.js'
import type { StreamDirectoryInit } from '../src/directory.js'
import type { IndexAnswer } from '../src/fetch-client.js'

// Real peer ids: stream ids commit to their ingest's (streamIdFor), so the directory can check an announcer.
const I = '12D3KooWDRKPgkPWtL5qDPPdNb52D6HMK2WXuagh2vSv3y2oeeA7'
const I1 = I
const I2 = '12D3KooWDZiFQJZU7mVUUuhR1nRnAJdwBfXMNHvVgBxokMf55LYS'
const P = I
const MALLORY = '12D3KooWR4zzXCXBNz8kzVbityJRukEAaDBzTVmS1ubgT6dE6z1G'

/** A test stream's salt, from its name. */
const saltOf = (name: string): Uint8Array<ArrayBuffer> => new Uint8Array(createHash('sha256').update(name).digest().subarray(0, 16))
/** A test stream's id: owned by `owner` (default I) with the salt of its name. */
const names = new Map<string, string>()
const s = (name: string, owner = I): string => {
  const id = streamIdFor(owner, saltOf(name))
  names.set(id, name)
  return id
}

const announce = (name: string, o: Partial<StreamAnnounce> = {}, owner = I): StreamAnnounce => {
  return { streamId: s(name, owner), name, state: StreamAnnounce.State.LIVE, renditions: [], targetDurationMs: 2000, lastSeq: 0, ingestMultiaddrs: [], updatedAtMs: 1, salt: saltOf(name), ...o }
}
/** The announce of a stream by its id (the default INDEX answer). */
const announceId = (id: string): StreamAnnounce => announce(names.get(id) ?? 'unknown')

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
        return await (o.index ?? (async () => ({ stream: announceId(id), segments: [] })))(peer, id)
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
const waitFor = async (cond: () => boolean): Promise<void> => { for (let i = 0; i < 100 && !cond(); i++) await tick() }

describe('StreamDirectory: which ingest owns which stream', () => {
  it('binds a stream to the first ingest that announces it; another ingest is refused and counted; older news is ignored', () => {
    const { dir, errors } = setup()
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 10 }), I1), true)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 20 }), I2), false, 'not the owner, however it came')
    assert.deepEqual(errors, ['streams:foreign-announce'])
    assert.equal(dir.get(s('a'))?.ingest, I1)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 5, lastSeq: 9 }), I1), false)
    assert.deepEqual(errors, ['streams:foreign-announce', 'streams:stale-announce'])
    assert.equal(dir.get(s('a'))?.announce.updatedAtMs, 10)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 30, lastSeq: 9 }), I1), true)
    assert.equal(dir.get(s('a'))?.announce.lastSeq, 9)
  })

  it('is bounded: past maxEntries the oldest stale stream not followed is evicted', () => {
    const { dir, clock } = setup({ maxEntries: 3, followed: new Set([s('s0')]) })
    for (let i = 0; i < 5; i++) { dir.onAnnounce(announce(`s${i}`), I); clock.advance(10_000) }
    assert.equal(dir.size, 3)
    assert.ok(dir.get(s('s0')) != null, 'a followed stream is never evicted')
    assert.equal(dir.get(s('s1')), undefined)
    assert.equal(dir.get(s('s2')), undefined)
    assert.ok(dir.get(s('s3')) != null && dir.get(s('s4')) != null)
  })

  it('remembers when a stream was dropped, so a late "ended" does not bring it back; a new live one does', () => {
    const { dir, clock } = setup({ maxDropped: 2 })
    dir.onAnnounce(announce('a'), I)
    clock.advance(500)
    dir.drop(s('a'))
    assert.equal(dir.get(s('a')), undefined)
    assert.equal(dir.droppedAt(s('a')), 1_000_500)
    assert.equal(dir.onAnnounce(announce('a', { state: StreamAnnounce.State.ENDED, updatedAtMs: 2 }), I), false)
    assert.equal(dir.get(s('a')), undefined)
    assert.equal(dir.onAnnounce(announce('a', { updatedAtMs: 3 }), I), true)
    assert.equal(dir.droppedAt(s('a')), undefined)
    // bounded too
    for (const id of ['x', 'y', 'z']) dir.drop(s(id))
    assert.equal(dir.droppedAt(s('x')), undefined)
    assert.equal(dir.droppedAt(s('z')), 1_000_500)
  })

  it('resolve waits for a stream to appear (gossip), or gives up after its timeout', async () => {
    const { dir } = setup()
    const waiting = dir.resolve(s('late'), { timeoutMs: 5000 })
    await tick()
    dir.onAnnounce(announce('late'), I)
    assert.equal((await waiting)?.ingest, I)
    assert.equal(await dir.resolve(s('never'), { timeoutMs: 20 }), undefined)
    const stop = new AbortController()
    const stopped = dir.resolve(s('never2'), { timeoutMs: 60_000, signal: stop.signal })
    stop.abort()
    assert.equal(await stopped, undefined)
  })

  it('resolve finds an unknown stream on the DHT: the provider that answers its INDEX becomes its ingest', async () => {
    const d = deferredDiscovery()
    const { dir, lookups, indexCalls } = setup({ discovery: d.discovery })
    const waiting = dir.resolve(s('dht'), { timeoutMs: 5000 })
    await tick()
    assert.equal(d.calls.length, 1)
    d.calls[0]!.finish([P])
    const entry = await waiting
    assert.equal(entry?.ingest, P)
    assert.deepEqual(indexCalls, [`${P}:${s('dht')}`])
    assert.deepEqual(lookups, ['found'])
  })

  it('resolve waits past its timeout for a lookup whose provider has not answered its INDEX yet (a first request is not an error)', async () => {
    const d = deferredDiscovery()
    let answer: (a: IndexAnswer) => void = () => {}
    const { dir } = setup({ discovery: d.discovery, index: async () => await new Promise<IndexAnswer>(resolve => { answer = resolve }) })
    const waiting = dir.resolve(s('slow'), { timeoutMs: 20 })
    await tick()
    d.calls[0]!.finish(['P'])
    await new Promise(resolve => setTimeout(resolve, 60)) // past the 20 ms timeout: the INDEX is still coming
    answer({ stream: announce('slow'), segments: [] })
    assert.equal((await waiting)?.ingest, 'P')
    // a lookup that ends without the stream ends the wait at once
    const d2 = deferredDiscovery()
    const { dir: dir2 } = setup({ discovery: d2.discovery })
    const none = dir2.resolve(s('none'), { timeoutMs: 20 })
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
    const p = dir.lookup(s('x'))
    await tick()
    d.calls[0]!.finish(['bad', 'liar'])
    await tick()
    await tick()
    d.calls[1]!.finish(['bad', 'liar']) // the second lookup, for a few more: none new
    await p
    assert.equal(dir.get(s('x')), undefined)
    assert.deepEqual(lookups, ['not_found'])
  })

  it('paces DHT lookups: one at a time per stream, then a pause (fake clock)', async () => {
    const d = deferredDiscovery()
    const { dir, clock } = setup({ discovery: d.discovery })
    const first = dir.lookup(s('s'))
    const second = dir.lookup(s('s'))
    await tick()
    assert.equal(d.calls.length, 1, 'a lookup in flight is not repeated')
    await second
    d.calls[0]!.finish([])
    await first
    clock.advance(999)
    await dir.lookup(s('s'))
    assert.equal(d.calls.length, 1, 'not again within the pause')
    clock.advance(1)
    const third = dir.lookup(s('s'))
    await tick()
    assert.equal(d.calls.length, 2, 'again after the pause')
    d.calls[1]!.finish([])
    await third
    // other streams are not held back
    const other = dir.lookup(s('t'))
    await tick()
    assert.equal(d.calls.length, 3)
    d.calls[2]!.finish([])
    await other
  })

  it('M6: at most MAX_CONCURRENT_LOOKUPS DHT lookups at once, over all streams; more are not started (counted busy)', async () => {
    const d = deferredDiscovery()
    const { dir, lookups } = setup({ discovery: d.discovery })
    const running = Array.from({ length: 9 }, async (_, i) => { await dir.lookup(s(`random${i}`)) })
    await tick()
    assert.equal(d.calls.length, 8)
    assert.deepEqual(lookups, ['busy'])
    for (const c of d.calls) c.finish([])
    await Promise.all(running)
  })

  it('stops asking providers once the edge is stopping', async () => {
    const d = deferredDiscovery()
    const { dir, shutdown, indexCalls } = setup({ discovery: d.discovery })
    const p = dir.lookup(s('s'))
    await tick()
    shutdown.abort()
    d.calls[0]!.finish([P])
    await p
    assert.deepEqual(indexCalls, [])
  })

  it('a peer that does not own a stream cannot bind it, even first (pre-announce), nor with its own salt for the id', () => {
    const { dir, errors } = setup()
    const forged = { ...announce('cam'), updatedAtMs: 50 }
    assert.equal(dir.onAnnounce(forged, MALLORY), false, 'the owner\'s salt, another signer')
    assert.equal(dir.onAnnounce({ ...forged, salt: saltOf('mallory') }, MALLORY), false, 'its own salt does not derive the id')
    assert.equal(dir.onAnnounce({ ...forged, salt: new Uint8Array(0) }, MALLORY), false, 'no salt')
    assert.deepEqual(errors, ['streams:foreign-announce', 'streams:foreign-announce', 'streams:foreign-announce'])
    assert.equal(dir.get(s('cam')), undefined)
    assert.equal(dir.onAnnounce(announce('cam', { updatedAtMs: 1 }), I), true, 'the owner binds it later all the same')
    assert.equal(dir.get(s('cam'))?.ingest, I)
  })

  it('an eviction flood never evicts a live binding: stale entries go first, then newcomers are refused and counted', () => {
    const { dir, clock, errors } = setup({ maxEntries: 4 })
    for (let i = 0; i < 2; i++) dir.onAnnounce(announce(`old${i}`), I)
    clock.advance(10_000) // old0, old1 are stale now
    dir.onAnnounce(announce('live', { updatedAtMs: 1 }), I)
    dir.onAnnounce(announce('live2', { updatedAtMs: 1 }), I)
    for (let i = 0; i < 5; i++) dir.onAnnounce(announce(`flood${i}`, {}, MALLORY), MALLORY)
    assert.equal(dir.size, 4)
    assert.equal(dir.get(s('live'))?.ingest, I)
    assert.equal(dir.get(s('live2'))?.ingest, I)
    assert.equal(dir.get(s('old0')), undefined)
    assert.ok(dir.get(s('flood0', MALLORY)) != null && dir.get(s('flood1', MALLORY)) != null, 'they took the stale slots')
    assert.equal(dir.get(s('flood2', MALLORY)), undefined)
    assert.deepEqual(errors, ['streams:directory-full', 'streams:directory-full', 'streams:directory-full'])
    // Once the flood's entries are stale and the live ones announced again, a newcomer takes a stale slot.
    clock.advance(10_000)
    dir.onAnnounce(announce('live', { updatedAtMs: 2 }), I)
    dir.onAnnounce(announce('live2', { updatedAtMs: 2 }), I)
    assert.equal(dir.onAnnounce(announce('new'), I), true)
    assert.equal(dir.get(s('flood0', MALLORY)), undefined)
  })

  it('DHT: providers that do not own the stream are skipped (the FETCH client refuses their INDEX); the owner is taken', async () => {
    const d = deferredDiscovery()
    const { dir, indexCalls } = setup({
      discovery: d.discovery,
      index: async (peer, id) => {
        if (peer === MALLORY) throw new Error('index: not the owner')
        return { stream: announceId(id), segments: [] }
      }
    })
    const p = dir.lookup(s('dht2'))
    await tick()
    d.calls[0]!.finish([MALLORY]) // the first provider, at once: it does not own the stream
    await waitFor(() => d.calls.length === 2)
    d.calls[1]!.finish([MALLORY, P]) // a few more: the one tried already is not asked again
    await p
    assert.equal(dir.get(s('dht2'))?.ingest, P)
    assert.deepEqual(indexCalls, [`${MALLORY}:${s('dht2')}`, `${P}:${s('dht2')}`])
  })
})
