/**
 * Stream keys at rest (security review M12), against a real ingest process:
 * the data directory never holds a key, a rotated key is refused by the RTMP
 * server while the new one publishes, and a restart keeps the key working
 * (it is checked against the stored hash).
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, describe, it } from 'node:test'
import { resolveFfmpeg, startTestSource } from '@diststream/media'
import { Cluster, callApi, getJson, waitUntil } from './helpers/cluster.js'
import { createStream } from './helpers/streams.js'
import type { NodeProcess } from './helpers/cluster.js'

/** Every file under `dir`, recursively (the data dir is small: a stream, no segments yet). */
async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await filesUnder(p))
    else if (e.isFile()) out.push(p)
  }
  return out
}

/** Whether any file under `dir` contains `needle` (LevelDB's log keeps fresh values as written). */
async function anyFileHolds (dir: string, needle: string): Promise<string | undefined> {
  for (const f of await filesUnder(dir)) {
    if ((await readFile(f)).includes(needle)) return f
  }
  return undefined
}

describe('stream keys', { timeout: 120_000 }, () => {
  const cluster = new Cluster({ exclusive: true })
  const ffmpeg = resolveFfmpeg()
  let failed = false
  afterEach((t) => { if ((t as { passed?: boolean }).passed === false) failed = true })
  after(async () => { await cluster.close(failed) })

  it('are stored only as hashes; a rotated key is refused, the new one publishes, also after a restart', async () => {
    let ingest: NodeProcess = await cluster.start('ingest', ['--role', 'ingest', '--segment-seconds', '1'])
    let { http, rtmpPort } = await ingest.info
    const created = await createStream(http, 'keys', cluster.apiToken)
    assert.match(created.key, /^[0-9a-f]{32}$/)

    const rotated = await callApi(`${http}/api/streams/${created.id}/key`, 'POST', cluster.apiToken)
    assert.equal(rotated.status, 200)
    const newKey: string = rotated.body.key
    assert.match(newKey, /^[0-9a-f]{32}$/)
    assert.notEqual(newKey, created.key)
    assert.ok(String(rotated.body.rtmpUrl).endsWith(`/live/${newKey}`))
    // GET never shows a key; rotating needs the API token.
    assert.equal((await getJson(`${http}/api/streams/${created.id}`)).body.key, undefined)
    assert.equal((await callApi(`${http}/api/streams/${created.id}/key`, 'POST', 'wrong-token')).status, 401)

    // The old key: the RTMP server refuses the publish and the stream stays idle.
    const old = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${created.key}`, width: 320, height: 180, fps: 15, gopSeconds: 1, durationSec: 3 })
    assert.notEqual(await old.done, 0, 'a publish with the rotated key must fail')
    assert.equal((await getJson(`${http}/api/streams/${created.id}`)).body.state, 'idle')

    await ingest.kill() // SIGTERM: a clean stop, so LevelDB has written what it holds
    for (const key of [created.key, newKey]) {
      assert.equal(await anyFileHolds(ingest.dataDir, key), undefined, 'no stream key in the data directory')
    }

    // After a restart the new key (checked against its stored hash) publishes.
    ingest = await cluster.restart(ingest)
    ;({ http, rtmpPort } = await ingest.info)
    const good = startTestSource({ ffmpegPath: ffmpeg.ffmpeg, url: `rtmp://127.0.0.1:${rtmpPort}/live/${newKey}`, width: 320, height: 180, fps: 15, gopSeconds: 1, durationSec: 4 })
    await waitUntil(async () => ((await getJson(`${http}/api/streams/${created.id}`)).body.lastSeq ?? -1) >= 0, 20_000, 'a segment from the new key')
    assert.equal(await good.done, 0)
  })
})
