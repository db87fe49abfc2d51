/** Worker as a Startable: isStarted() for /readyz, and stop() lets go of its handler and topics. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveFfmpeg } from '@diststream/media'
import { PROTOCOL_TRANSCODE } from '@diststream/protocol'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Worker } from '../src/index.js'

describe('Worker lifecycle', () => {
  it('is started between start() and stop(); stop() unhandles the protocol and unsubscribes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'worker-lifecycle-'))
    const handled = new Set<string>()
    let subscribed = 0
    const gossip = { subscribe: () => { subscribed++; return () => { subscribed-- } } }
    const protocols = {
      handle: async (p: string) => { handled.add(p) },
      unhandle: async (p: string) => { handled.delete(p) },
      dial: async () => { throw new Error('no network in this test') }
    }
    const worker = new Worker({ gossip: gossip as any, protocols: protocols as any, ffmpegPath: resolveFfmpeg().ffmpeg, maxJobs: 1, workDir: join(dir, 'work'), logger: pino({ level: 'silent' }), registry: new Registry() })
    try {
      assert.equal(worker.isStarted(), false)
      await worker.start()
      assert.equal(worker.isStarted(), true)
      assert.deepEqual([...handled], [PROTOCOL_TRANSCODE])
      assert.equal(subscribed, 2, 'streams and jobs topics')
      await worker.stop()
      assert.equal(worker.isStarted(), false)
      assert.deepEqual([...handled], [])
      assert.equal(subscribed, 0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
