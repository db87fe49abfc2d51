import { join } from 'node:path'
import { startTestSource } from '@diststream/media'
import { toConfig } from './config.js'
import { createNode } from './node.js'
import { API_TOKEN_FILE } from './http/auth.js'

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
  const rtmpUrl = `rtmp://127.0.0.1:${node.config.rtmpPort}/live/${stream.key}`
  const playback = `${node.httpUrl}/live/${stream.id}/index.m3u8`
  process.stdout.write([
    '',
    'DistStream local network is up.',
    `  dashboard:   ${node.httpUrl}/`,
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
