import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startTestSource } from '@diststream/media'
import { toConfig } from './config.js'
import { createNode } from './node.js'
import { API_TOKEN_FILE } from './http/auth.js'
import type { AccountStore } from './accounts/account-store.js'

/**
 * `pnpm start`: one node with every role on the embedded defaults, a stream
 * created through the ingest, and ffmpeg's test pattern published to it over
 * real RTMP, so a newcomer sees a live stream at once.
 */
export async function runDev (raw: Record<string, unknown>, untilSignal: (stop: () => Promise<void>) => Promise<void>): Promise<void> {
  // dev is a local network: private addresses allowed unless the user said otherwise.
  const config = toConfig({ ...raw, 'allow-private-addrs': raw['allow-private-addrs'] ?? true, role: 'ingest,worker,edge', 'data-dir': raw['data-dir'] === './.diststream' ? './.diststream/dev' : raw['data-dir'] })
  const node = await createNode(config)
  const ingest = node.ingest!
  // Keys are stored only as hashes: a stream kept from the last run gets a new one.
  const kept = (await ingest.listStreams()).find(s => s.name === 'test pattern' && s.state !== 'ended' && s.sourceUrl == null)
  const stream = kept != null ? await ingest.rotateKey(kept.id) : await ingest.createStream('test pattern')
  const demo = node.accounts != null ? await demoBroadcaster(node.accounts, config.dataDir, stream.id) : undefined
  const rtmpUrl = `rtmp://127.0.0.1:${node.config.rtmpPort}/live/${stream.key}`
  const playback = `${node.httpUrl}/live/${stream.id}/index.m3u8`
  process.stdout.write([
    '',
    'DistStream local network is up.',
    `  dashboard:   ${node.httpUrl}/`,
    `  watch:       ${node.httpUrl}/watch   (the live directory, follows and chat)`,
    ...(demo != null ? [`  broadcaster: ${node.httpUrl}/account   (user ${DEMO_USER}, password ${demo}; owns the test pattern's channel)`] : []),
    `  playback:    ${playback}   (hls.js, VLC, Safari; first segments in a few seconds)`,
    `  publish:     ${`rtmp://127.0.0.1:${node.config.rtmpPort}/live/<key>`} (create a stream with POST ${node.httpUrl}/api/streams)`,
    `  peer:        ${node.libp2p.getMultiaddrs()[0]?.toString() ?? ''}`,
    `  api token:   ${config.apiToken != null ? 'as given by --api-token' : `in ${join(config.dataDir, API_TOKEN_FILE)}`} (send Authorization: Bearer <token> with POST/DELETE under /api)`,
    '  Ctrl+C stops it.',
    ''
  ].join('\n') + '\n')
  // After the URLs, so they stay at the top, above the publish's log lines.
  const source = startTestSource({ ffmpegPath: node.ffmpeg!.ffmpeg, url: rtmpUrl, width: 1280, height: 720, fps: 30, gopSeconds: config.segmentSeconds })
  await untilSignal(async () => {
    await source.stop()
    await node.stop()
  })
}

/** The demo broadcaster `pnpm start` makes, who owns the test pattern (its channel and stream). */
export const DEMO_USER = 'demo'
const DEMO_PASSWORD_FILE = 'dev-demo-password.txt'

/** Makes (or keeps) the demo account and channel, and gives it the stream; returns its password (kept in the data dir: a local network only). */
async function demoBroadcaster (accounts: AccountStore, dataDir: string, streamId: string): Promise<string> {
  const file = join(dataDir, DEMO_PASSWORD_FILE)
  let password = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (await accounts.getUser(DEMO_USER) == null) {
    password = randomBytes(12).toString('base64url')
    await accounts.register(DEMO_USER, password)
    await writeFile(file, password + '\n', { mode: 0o600 })
  } else if (password === '') {
    password = '(set in an earlier run; remove the data dir to start afresh)'
  }
  if (await accounts.getChannel(DEMO_USER) == null) await accounts.createChannel(DEMO_USER, { name: DEMO_USER, title: 'Test pattern' })
  await accounts.setStreamOwner({ streamId, owner: DEMO_USER, channel: DEMO_USER })
  return password
}
