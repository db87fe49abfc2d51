import assert from 'node:assert/strict'
import { chmod, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  FfmpegNotFoundError,
  bundledFfmpegPath,
  describeFfmpeg,
  ffmpegVersion,
  resolveFfmpeg,
  whichSync
} from '../src/index.js'
import { tempDir } from './fixtures.js'

const systemFfmpeg = whichSync('ffmpeg')
const systemFfprobe = whichSync('ffprobe')

describe('resolveFfmpeg', () => {
  let dir = ''
  let cleanup = async (): Promise<void> => {}
  before(async () => {
    ({ dir, cleanup } = await tempDir())
  })
  after(() => cleanup())

  it('prefers FFMPEG_PATH / FFPROBE_PATH', { skip: !systemFfmpeg || !systemFfprobe }, () => {
    const r = resolveFfmpeg({ FFMPEG_PATH: systemFfmpeg!, FFPROBE_PATH: systemFfprobe!, PATH: '' })
    assert.deepEqual(r, { ffmpeg: systemFfmpeg, ffprobe: systemFfprobe, source: 'env', ffprobeSource: 'env' })
  })

  it('finds ffprobe next to an env ffmpeg', async () => {
    const fakeFfmpeg = path.join(dir, 'ffmpeg')
    const fakeFfprobe = path.join(dir, 'ffprobe')
    for (const f of [fakeFfmpeg, fakeFfprobe]) {
      await writeFile(f, '#!/bin/sh\nexit 0\n')
      await chmod(f, 0o755)
    }
    const r = resolveFfmpeg({ FFMPEG_PATH: fakeFfmpeg, PATH: '' })
    assert.equal(r.ffprobe, fakeFfprobe)
    assert.equal(r.ffprobeSource, 'sibling')
  })

  it('throws naming a set-but-missing FFMPEG_PATH or FFPROBE_PATH', () => {
    const missing = path.join(dir, 'nope', 'ffmpeg')
    assert.throws(() => resolveFfmpeg({ FFMPEG_PATH: missing, PATH: '/usr/bin' }), (e: unknown) => {
      assert.ok(e instanceof FfmpegNotFoundError)
      assert.equal(e.name, 'FfmpegNotFoundError')
      assert.ok(e.message.includes(missing))
      assert.match(e.message, /FFMPEG_PATH/)
      return true
    })
    assert.throws(
      () => resolveFfmpeg({ FFPROBE_PATH: missing, PATH: '/usr/bin' }),
      (e: unknown) => e instanceof FfmpegNotFoundError && /FFPROBE_PATH/.test(e.message)
    )
  })

  it('uses PATH next', { skip: !systemFfmpeg }, () => {
    const r = resolveFfmpeg({ PATH: `${path.join(dir, 'empty')}:${path.dirname(systemFfmpeg!)}` })
    assert.equal(r.source, 'path')
    assert.equal(r.ffmpeg, systemFfmpeg)
    if (systemFfprobe && path.dirname(systemFfprobe) === path.dirname(systemFfmpeg!)) {
      assert.equal(r.ffprobe, systemFfprobe)
    }
    assert.match(describeFfmpeg(r), /\(path\)/)
  })

  it('falls back to the bundled binary, without ffprobe', { skip: bundledFfmpegPath() === null }, async () => {
    const r = resolveFfmpeg({ PATH: '' })
    assert.equal(r.source, 'bundled')
    assert.equal(r.ffmpeg, bundledFfmpegPath())
    assert.equal(r.ffprobe, null)
    assert.match(describeFfmpeg(r), /ffprobe: none/)
    assert.match(await ffmpegVersion(r.ffmpeg), /^\S+$/)
  })

  it('throws a helpful error when there is no ffmpeg at all', () => {
    assert.throws(() => resolveFfmpeg({ PATH: '' }, { bundled: false }), (e: unknown) => {
      assert.ok(e instanceof FfmpegNotFoundError)
      assert.match(e.message, /Install ffmpeg/)
      assert.match(e.message, /FFMPEG_PATH/)
      return true
    })
  })
})

describe('ffmpegVersion', () => {
  it('reads the version line', { skip: !systemFfmpeg }, async () => {
    const v = await ffmpegVersion(systemFfmpeg!)
    assert.match(v, /^\d+\.\d+/)
  })
  it('fails clearly for a non-binary', async () => {
    await assert.rejects(ffmpegVersion('/nonexistent/ffmpeg'), FfmpegNotFoundError)
  })
})
