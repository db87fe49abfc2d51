import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { probeMedia, startTestSource, testSourceArgs } from '../src/index.js'
import { ff, ffprobe, tempDir } from './fixtures.js'

describe('startTestSource', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  before(async () => {
    ({ dir, cleanup } = await tempDir())
  })
  after(() => cleanup())

  it('builds args without drawtext when asked', () => {
    const args = testSourceArgs({ ffmpegPath: 'ffmpeg', url: 'rtmp://127.0.0.1/live/x', overlay: false })
    assert.ok(!args.join(' ').includes('drawtext'))
    assert.ok(args.includes('-re'))
    assert.deepEqual(args.slice(-3), ['-f', 'flv', 'rtmp://127.0.0.1/live/x'])
    assert.equal(args[args.indexOf('-g') + 1], '60')
  })

  it('produces a real-time stream with fixed GOP and AAC audio', async () => {
    const file = path.join(dir, 'out.flv')
    const t0 = performance.now()
    const src = startTestSource({ ffmpegPath: ff.ffmpeg, url: file, width: 320, height: 180, gopSeconds: 1, durationSec: 2 })
    assert.equal(await src.done, 0, src.stderrTail().join('\n'))
    assert.ok(performance.now() - t0 > 1500, 'real time (-re)')
    const p = await probeMedia(file, { ffprobePath: ffprobe, countFrames: true })
    assert.equal(p.width, 320)
    assert.equal(p.height, 180)
    assert.equal(p.audioCodec, 'aac')
    assert.equal(p.fpsMilli, 30000)
    assert.equal(p.videoFrames, 60)
  })

  it('runs endlessly until stop()', async () => {
    const src = startTestSource({ ffmpegPath: ff.ffmpeg, url: path.join(dir, 'endless.flv'), width: 320, height: 180 })
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal(src.child.exitCode, null)
    await src.stop()
    assert.notEqual(src.child.exitCode ?? src.child.signalCode, null)
  })

  it('stops on abort', async () => {
    const ac = new AbortController()
    const src = startTestSource({ ffmpegPath: ff.ffmpeg, url: path.join(dir, 'abort.flv'), width: 320, height: 180, signal: ac.signal })
    setTimeout(() => ac.abort(), 300)
    const code = await src.done
    assert.equal(typeof code, 'number')
  })
})
