import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { resolveFfmpeg } from '@diststream/media'
import { checkSegmentInput, InputMismatchError } from '../src/input-check.js'

describe('checkSegmentInput: the segment is what its job declared', () => {
  let dir = ''
  let segment: Uint8Array
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'worker-input-'))
    const file = join(dir, 'seg.ts')
    await promisify(execFile)(resolveFfmpeg().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-f', 'mpegts', file])
    segment = new Uint8Array(await readFile(file))
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('passes the declared size and duration (a GOP-rounded cut may run a little long)', () => {
    checkSegmentInput(segment, { width: 320, height: 180, durationMs: 1000 })
    checkSegmentInput(segment, { width: 640, height: 360, durationMs: 700 })
  })

  it('refuses more pixels, a far longer span, and what is not H.264 MPEG-TS', () => {
    assert.throws(() => checkSegmentInput(segment, { width: 160, height: 90, durationMs: 1000 }), (e: Error) => e instanceof InputMismatchError && /320x180, the job declared 160x90/.test(e.message))
    assert.throws(() => checkSegmentInput(segment, { width: 320, height: 180, durationMs: 300 }), /spans 1.00 s, the job declared 0.3 s/)
    assert.throws(() => checkSegmentInput(new Uint8Array(4096), { width: 320, height: 180, durationMs: 1000 }), InputMismatchError)
  })
})
