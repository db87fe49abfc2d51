import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { parseHandshake, rejectionReason, withCookie } from '../src/srt/handshake.js'
import { SrtRelay } from '../src/srt/relay.js'
import type { SrtRefusal } from '../src/srt/relay.js'
import type { Socket } from 'node:dgram'

/** A real ffmpeg 5.1 caller's packets (stream id publish:abcdefg, passphrase 0123456789abc); see srt-handshake.test.ts. */
const INDUCTION = Buffer.from('80000000000000000000006f0000000000000004000000024323021b000005dc00002000000000013f399843000000000100007f000000000000000000000000', 'hex')
const CONCLUSION = Buffer.from('8000000000000000000011830000000000000005000000074323021b000005dc00002000ffffffff3f399843123456780100007f0000000000000000000000000001000300010501000000bf00780000000500046c6275703a68736964636261006766650003000e122029010000000002000200000004044115eb09bccd27ddcf45ccd1394c659e518f2d66e0437abaf2b60a959af62fc4a69486139836e272', 'hex')
/** How long a test caller waits for an answer that should come (ms; loopback). */
const ANSWER_MS = 2000

/** A caller socket on loopback: sends a packet, returns the next answer (or undefined after `ms`). */
async function exchange (sock: Socket, port: number, pkt: Uint8Array, ms = ANSWER_MS): Promise<Buffer | undefined> {
  return await new Promise(resolve => {
    const timer = setTimeout(() => { sock.off('message', on); resolve(undefined) }, ms)
    const on = (msg: Buffer): void => { clearTimeout(timer); sock.off('message', on); resolve(msg) }
    sock.on('message', on)
    sock.send(pkt, port, '127.0.0.1')
  })
}

describe('SrtRelay: refusals at connect (loopback UDP, no ffmpeg)', () => {
  const refused: SrtRefusal[] = []
  const admitted: string[] = []
  let known = new Set<string>()
  let relay: SrtRelay
  const callers: Socket[] = []

  before(async () => {
    relay = new SrtRelay({
      port: 0,
      host: '127.0.0.1',
      passphrase: '0123456789abc',
      logger: pino({ level: 'silent' }),
      knows: (key) => known.has(key),
      // No ffmpeg here: an admitted caller is refused as if its listener never came up.
      admit: async (key) => { admitted.push(key); return undefined },
      onRefused: (r) => { refused.push(r) }
    })
    await relay.start()
  })
  after(async () => {
    await relay.stop()
    for (const s of callers) s.close()
  })

  async function caller (): Promise<Socket> {
    const s = createSocket('udp4')
    await new Promise<void>(resolve => { s.bind(0, '127.0.0.1', () => { resolve() }) })
    callers.push(s)
    return s
  }

  it('answers an induction with a cookie; a conclusion without it is ignored', async () => {
    const s = await caller()
    const r = parseHandshake((await exchange(s, relay.port, INDUCTION))!)!
    assert.equal(r.version, 5)
    assert.notEqual(r.cookie, 0)
    assert.equal(await exchange(s, relay.port, withCookie(CONCLUSION, r.cookie ^ 1), 300), undefined, 'wrong cookie: no answer, nothing starts')
    assert.deepEqual(refused, [])
  })

  it('refuses an unknown key with 1403, counted once however often the caller retransmits', async () => {
    const s = await caller()
    const { cookie } = parseHandshake((await exchange(s, relay.port, INDUCTION))!)!
    for (let i = 0; i < 3; i++) {
      const answer = parseHandshake((await exchange(s, relay.port, withCookie(CONCLUSION, cookie)))!)!
      assert.equal(rejectionReason(answer), 1403)
    }
    assert.deepEqual(refused, ['unknown_key'])
    assert.deepEqual(admitted, [])
  })

  it('checks the passphrase before anything starts; a right one is admitted', async () => {
    refused.length = 0
    known = new Set(['abcdefg'])
    const other = new SrtRelay({ port: 0, host: '127.0.0.1', passphrase: 'another-passphrase', logger: pino({ level: 'silent' }), knows: () => true, admit: async (key) => { admitted.push(key); return undefined }, onRefused: (r) => { refused.push(r) } })
    await other.start()
    try {
      const s = await caller()
      const { cookie } = parseHandshake((await exchange(s, other.port, INDUCTION))!)!
      assert.equal(rejectionReason(parseHandshake((await exchange(s, other.port, withCookie(CONCLUSION, cookie)))!)!), 10, 'SRT_REJ_BADSECRET')
      assert.deepEqual(refused, ['bad_passphrase'])
      assert.deepEqual(admitted, [])
    } finally {
      await other.stop()
    }
    const s = await caller()
    const { cookie } = parseHandshake((await exchange(s, relay.port, INDUCTION))!)!
    const answer = await exchange(s, relay.port, withCookie(CONCLUSION, cookie))
    assert.deepEqual(admitted, ['abcdefg'], 'the right key and passphrase reach admit')
    // admit gave no listener: refused as the stream being gone.
    assert.equal(rejectionReason(parseHandshake(answer!)!), 1403)
  })
})
