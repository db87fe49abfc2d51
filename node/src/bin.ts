import { hideBin } from 'yargs/helpers'
import yargs from 'yargs'
import { nodeOptions, toConfig } from './config.js'
import { createNode, VERSION } from './node.js'
import { logFormatOf } from './logging.js'
import type { DistNode } from './node.js'
import { runDev } from './dev.js'
import { publishFile, publishToken } from './publish.js'

/**
 * Runs `fn` until SIGINT/SIGTERM, then stops gracefully; a second signal
 * forces the exit.
 */
async function untilSignal (stop: () => Promise<void>): Promise<void> {
  await new Promise<void>(resolve => {
    let count = 0
    const onSignal = (sig: string): void => {
      count++
      if (count > 1) {
        process.stderr.write(`${sig} again: exiting now\n`)
        process.exit(130)
      }
      process.stderr.write(`${sig}: stopping (again to force)\n`)
      stop().then(resolve, (err) => { process.stderr.write(`stop failed: ${String(err)}\n`); process.exit(1) })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

/** For a person at a terminal (pretty logs): where to go, above the log lines that follow. */
function printUrls (node: DistNode): void {
  if (logFormatOf(node.config.logFormat, process.stdout.isTTY) !== 'pretty') return
  process.stdout.write([
    '',
    `DistStream node is up (${node.config.roles.join(', ')}).`,
    `  dashboard:   ${node.httpUrl}/`,
    `  API:         ${node.httpUrl}/api/node`,
    ...(node.hasRole('ingest') ? [`  publish:     rtmp://127.0.0.1:${node.config.rtmpPort}/live/<key> (create a stream with POST ${node.httpUrl}/api/streams)`] : []),
    ...(node.hasRole('edge') ? [`  playback:    ${node.httpUrl}/live/<stream-id>/index.m3u8`] : []),
    `  peer:        ${node.libp2p.getMultiaddrs()[0]?.toString() ?? ''}`,
    ''
  ].join('\n') + '\n')
}

await nodeOptions(yargs(hideBin(process.argv)))
  .scriptName('diststream-node')
  .usage('$0 [options]\n\nRuns a DistStream node with the given roles. Every option can also be set as DISTSTREAM_<NAME> in the environment (e.g. DISTSTREAM_HTTP_PORT) or in a JSON --config file.')
  .command('$0', 'Run a node', () => {}, async (argv) => {
    const node = await createNode(toConfig(argv as Record<string, unknown>))
    printUrls(node)
    await untilSignal(node.stop)
  })
  .command('dev', 'Run a local network on embedded defaults: one node with every role plus a synthetic broadcaster (ffmpeg test pattern)', () => {}, async (argv) => {
    await runDev(argv as Record<string, unknown>, untilSignal)
  })
  .command('bench', 'Measure this machine as a worker: the calibration (segments per second and realtime factor per ladder rung set, and the encoder used; --gpu to test the hardware encoder)', () => {}, async (argv) => {
    const { runBenchCommand } = await import('./bench-cmd.js')
    await runBenchCommand(argv as Record<string, unknown>)
  })
  .command('publish <file>', 'Push a local video file to an ingest: as a live stream (RTMP at its native rate, ended when the file ends) or, with --vod, as a VOD transcoded by the network at once (upload, progress, VOD playlist when ready)', (y) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'The video file' })
    .option('ingest', { type: 'string', default: 'http://127.0.0.1:8080', describe: 'The ingest\'s HTTP API base URL' })
    .option('vod', { type: 'boolean', default: false, describe: 'Video on demand: every segment transcoded at once across the network, a VOD playlist when done' })
    .option('name', { type: 'string', describe: 'Stream name (default: the file name)' }), async (argv) => {
    const ingest = String(argv.ingest)
    if (!/^https?:\/\/[^\s]+$/.test(ingest)) throw new Error(`--ingest must be an http(s) URL, got ${ingest}`)
    const ac = new AbortController()
    process.once('SIGINT', () => { ac.abort() })
    const res = await publishFile({
      file: String(argv.file),
      ingest,
      apiToken: await publishToken(argv['api-token'], String(argv['data-dir'])),
      vod: argv.vod === true,
      ...(typeof argv.name === 'string' ? { name: argv.name } : {}),
      segmentSeconds: Number(argv['segment-seconds'] ?? (argv['low-latency'] === true ? 1 : 2)),
      signal: ac.signal
    })
    process.stdout.write(JSON.stringify(res) + '\n')
  })
  .example('$0 publish talk.mp4 --vod --ingest http://127.0.0.1:8080 --api-token $TOKEN', 'Transcode a file as a VOD across the network')
  .example('$0 --role worker --gpu --bootstrap /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...', 'Donate a GPU to the network')
  .example('$0 --role ingest,edge --http-port 8080 --rtmp-port 1935', 'Run a broadcaster\'s ingest with its own edge')
  .strict()
  .fail((msg, err, y) => {
    process.stderr.write(`${err?.message ?? msg}\n\n`)
    if (err == null) y.showHelp()
    process.exit(2)
  })
  .help()
  .version(VERSION)
  .wrap(Math.min(110, process.stdout.columns ?? 100))
  .parseAsync()
