/** roles.ts: the node's config → each role's options, without starting anything. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { parseConfig } from '../src/config.js'
import { edgeInit, ingestInit, sweepMsOf, workerInit } from '../src/roles.js'
import type { RoleServices } from '../src/roles.js'

/** Stand-ins for the services: the mappings only pass them on. */
const services = (): RoleServices => ({ gossip: {} as any, protocols: {} as any, discovery: {} as any, logger: pino({ level: 'silent' }), registry: new Registry(), onProtocolError: () => {} })

describe('roles: config → role options', () => {
  it('sweeps a quarter of the shortest limit, from 250 ms to 5 s', () => {
    assert.equal(sweepMsOf({ staleStreamSeconds: 120, dvrRetentionSeconds: 3600 }), 5000)
    assert.equal(sweepMsOf({ staleStreamSeconds: 4, dvrRetentionSeconds: 3600 }), 1000)
    assert.equal(sweepMsOf({ staleStreamSeconds: 1, dvrRetentionSeconds: 1 }), 250)
  })

  it('ingest: seconds become ms, the index covers the playlist window, a local worker when the node has one', async () => {
    const config = await parseConfig(['--role', 'ingest,worker', '--max-queue-seconds', '7', '--playlist-window', '100', '--stale-stream-seconds', '8', '--dvr-retention-seconds', '60', '--container', 'ts', '--bid-window-ms', '90', '--spot-check-rate', '0.5'])
    const s = services()
    const events: string[] = []
    const init = ingestInit(config, { ...s, libp2p: {} as any, presence: {} as any, store: {} as any, ffmpeg: { ffmpeg: 'ff', ffprobe: 'fp', source: 'path' } as any, rtmpPort: 1234, onEvent: (type) => { events.push(type) } })
    assert.equal(init.rtmpPort, 1234)
    assert.equal(init.maxQueueMs, 7000)
    assert.equal(init.indexWindow, 100)
    assert.equal(init.localWorker, true)
    assert.equal(init.container, 'ts')
    assert.equal(init.bidWindowMs, 90)
    assert.equal(init.spotCheckRate, 0.5)
    assert.deepEqual(init.lifecycle, { staleMs: 8000, retentionMs: 60_000, sweepMs: 2000 })
    assert.equal(init.gossip, s.gossip)
    assert.equal(init.registry, s.registry)
    init.onEvent?.('stream.started', { streamId: 'x', name: 'x' } as any)
    assert.deepEqual(events, ['stream.started'])
    const alone = ingestInit(await parseConfig(['--role', 'ingest']), { ...s, libp2p: {} as any, presence: {} as any, store: {} as any, ffmpeg: {} as any, rtmpPort: 1 })
    assert.equal(alone.localWorker, false)
    assert.equal(alone.indexWindow, 64, 'at least 64 segments')
  })

  it('edge: cache MiB in bytes, retention and staleness in ms, serves FETCH only without an ingest', async () => {
    const config = await parseConfig(['--role', 'edge', '--edge-cache-mb', '3', '--dvr-retention-seconds', '30', '--stale-stream-seconds', '20', '--low-latency', '--data-dir', '/tmp/x'])
    const init = edgeInit(config, services())
    assert.equal(init.maxMemoryBytes, 3 * 1024 * 1024)
    assert.equal(init.dvrRetentionMs, 30_000)
    assert.equal(init.staleMs, 20_000)
    assert.equal(init.sweepMs, 5000)
    assert.equal(init.lowLatency, true)
    assert.equal(init.serveFetch, true)
    assert.equal(init.dataDir, '/tmp/x')
    assert.equal(edgeInit(await parseConfig(['--role', 'ingest,edge']), services()).serveFetch, false)
  })

  it('worker: the encoder\'s capacity, limits from --max-rung-size, calibration only when asked', async () => {
    const config = await parseConfig(['--role', 'worker', '--max-rung-size', '1280x720', '--price', '5', '--ladder', '360p', '--data-dir', '/tmp/w'])
    const encoder = { transcoder: {} as any, maxJobs: 4, cpuMaxJobs: 2 }
    const elected = (): boolean => true
    const init = workerInit(config, { ...services(), ffmpegPath: '/bin/ffmpeg', ffmpegVersion: '7.1', encoder, elected })
    assert.equal(init.maxJobs, 4)
    assert.equal(init.cpuMaxJobs, 2)
    assert.equal(init.transcoder, encoder.transcoder)
    assert.equal(init.ffmpegPath, '/bin/ffmpeg')
    assert.equal(init.workDir, join('/tmp/w', 'work'))
    assert.equal(init.price, 5)
    assert.equal(init.elected, elected)
    assert.deepEqual(init.limits, { maxWidth: 1280, maxHeight: 720 })
    assert.deepEqual(init.calibrate, { dataDir: '/tmp/w', ladder: config.ladder, ffmpegVersion: '7.1' })
    const uncalibrated = workerInit(await parseConfig(['--role', 'worker', '--no-calibrate']), { ...services(), ffmpegPath: 'ff', ffmpegVersion: '', encoder, elected })
    assert.equal(uncalibrated.calibrate, undefined)
  })
})
