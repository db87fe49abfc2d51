/**
 * `--log-format`: pretty gives one readable (non-JSON) line per event, json
 * one JSON object per line, and a piped node defaults to json (what this
 * cluster helper and log shippers read). Edge-only nodes: no ffmpeg.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Cluster, waitUntil } from './helpers/cluster.js'
import type { NodeProcess } from './helpers/cluster.js'

/** The node's log lines once it logged that it started (the API token notice is not a log line). */
async function logLines (node: NodeProcess): Promise<string[]> {
  await waitUntil(async () => node.logs.some(l => l.includes('node started')), 15_000, `${node.name} to log its start`)
  return node.logs.filter(l => l.trim() !== '' && !l.startsWith('API token'))
}

const isJson = (line: string): boolean => {
  try {
    return typeof JSON.parse(line) === 'object'
  } catch {
    return false
  }
}

describe('--log-format', { timeout: 60_000 }, () => {
  const cluster = new Cluster()
  after(async () => { await cluster.stop() })

  it('pretty: one readable line per event, none of them JSON', async () => {
    const lines = await logLines(await cluster.start('pretty', ['--role', 'edge', '--log-format', 'pretty']))
    assert.ok(lines.length >= 2, lines.join('\n'))
    assert.deepEqual(lines.filter(isJson), [], 'no JSON lines')
    assert.match(lines.find(l => l.includes('node started'))!, /^\[\d\d:\d\d:\d\d\] INFO: node started \{.*"http":"http:\/\/127\.0\.0\.1:\d+"/)
  })

  it('json: every line is one JSON object with a level and a message', async () => {
    const lines = await logLines(await cluster.start('json', ['--role', 'edge', '--log-format', 'json']))
    assert.deepEqual(lines.filter(l => !isJson(l)), [], 'only JSON lines')
    const started = lines.map(l => JSON.parse(l)).find(j => j.msg === 'node started')
    assert.equal(started.level, 30)
    assert.match(started.http, /^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('piped without --log-format: json', async () => {
    const lines = await logLines(await cluster.start('default', ['--role', 'edge']))
    assert.deepEqual(lines.filter(l => !isJson(l)), [])
  })
})
