/**
 * The probation check (review H1) with real ffmpeg: a real 240p transcode of a segment passes;
 * one that is a real transcode for 10 frames and then a solid colour (what passed the old
 * 10-frame PSNR) is refused as invalid before it is served; each verdict is counted.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { resolveFfmpeg } from '@diststream/media'
import { AttemptInvalidError } from '@diststream/scheduler'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { createIngestMetrics } from '../src/metrics.js'
import { checkOnProbation } from '../src/session/probation.js'
import type { ProbationCheckDeps } from '../src/session/probation.js'
import type { AttemptOutput } from '../src/transcode-client.js'
import type { JobAnnounce } from '@diststream/protocol'

const run = promisify(execFile)
const ff = resolveFfmpeg()

describe('checkOnProbation', () => {
  let dir = ''
  let source = ''
  const registry = new Registry()
  const metrics = createIngestMetrics(registry)
  const job: JobAnnounce = { jobId: 'j', streamId: 's', seq: 0, durationMs: 2000, size: 0, width: 640, height: 360, videoCodec: 'h264', audioCodec: 'aac', fpsMilli: 30_000, ladder: [{ name: '240p', width: 426, height: 240, videoKbps: 400 }], deadlineMs: 0, issuedAtMs: 0 }
  let deps: ProbationCheckDeps

  /** A 240p rendition of the source through `filter` after the scale. */
  async function rendition (name: string, filter: string): Promise<AttemptOutput> {
    const file = join(dir, `${name}.ts`)
    await run(ff.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', source, '-vf', `scale=426:240,setsar=1${filter}`, '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '400k', '-c:a', 'copy', '-f', 'mpegts', file])
    return { worker: name, elapsedMs: 0, discard: async () => {}, renditions: [{ file, record: { name: '240p', width: 426, height: 240, bandwidth: 0, codecs: '', size: 0, sha256: '' } }] }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ds-probation-'))
    source = join(dir, 'source.ts')
    await run(ff.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '2', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-c:a', 'aac', '-f', 'mpegts', source])
    deps = { ctx: { store: { files: { path: () => source } } as never, ffmpeg: ff, metrics }, log: pino({ level: 'silent' }), sourceTsName: 'source' }
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const count = async (verdict: string): Promise<number> => (await metrics.probationChecks.get()).values.find(v => v.labels.verdict === verdict)?.value ?? 0

  it('passes an honest transcode', async () => {
    await checkOnProbation(deps, job, await rendition('honest', ''), AbortSignal.timeout(30_000))
    assert.equal(await count('pass'), 1)
  })

  it('refuses a picture injected after the first 10 frames, as invalid', async () => {
    const out = await rendition('injector', ",drawbox=c=magenta:t=fill:enable='gte(n,10)'")
    await assert.rejects(checkOnProbation(deps, job, out, AbortSignal.timeout(30_000)), (err: unknown) => err instanceof AttemptInvalidError && /240p \d+\.\d dB/.test(err.message))
    assert.equal(await count('bad'), 1)
  })

  it('a check that cannot run refuses the result (not as invalid) and counts an error', async () => {
    const out = await rendition('honest2', '')
    out.renditions[0]!.file = join(dir, 'missing.ts')
    await assert.rejects(checkOnProbation(deps, job, out, AbortSignal.timeout(30_000)), (err: unknown) => !(err instanceof AttemptInvalidError))
    assert.equal(await count('error'), 1)
  })
})
