/**
 * The RTP bridge: one ffmpeg per WHIP session that receives the decrypted
 * RTP on loopback (described by an SDP file), copies the H.264, transcodes
 * Opus to AAC, and writes MPEG-TS on its stdout, which the session's
 * segmenter reads exactly as it reads an RTMP publish.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { trackProcess } from '@diststream/media'
import { BRIDGE_AUDIO_PT, BRIDGE_VIDEO_PT, bridgeSdp, setPayloadType } from './sdp.js'

/** Tries at finding two free loopback UDP port pairs (RTP, RTCP = RTP + 1) for ffmpeg, before giving up. */
const PORT_TRIES = 20
/** AAC bitrate of the audio made from Opus (what an RTMP broadcaster typically sends). */
const AAC_BITRATE = '128k'
/** How long ffmpeg may probe the RTP before writing (µs): a keyframe is asked for at once, so 2 s is plenty. */
const ANALYZE_US = '2000000'
/** How long ffmpeg may take to exit after SIGTERM before it is killed (ms): it only has the last packets to write. */
const STOP_GRACE_MS = 2000
/** When a second SIGTERM follows the first (ms): enough for ffmpeg to finish by itself when packets still come. */
const SECOND_SIGNAL_MS = 200
/** Lines of ffmpeg's stderr kept for the log when it fails. */
const STDERR_LINES = 20

export interface BridgeOptions {
  ffmpegPath: string
  /** Where the SDP file goes (the session's work directory). */
  workDir: string
  audio: boolean
}

/** One running bridge: feed it RTP, read MPEG-TS from {@link output}. */
export class RtpBridge {
  readonly #proc: ChildProcess
  readonly #sock: Socket
  readonly #ports: { video: number, audio?: number }
  readonly #stderr: string[] = []
  /** Resolves once ffmpeg exited (or never started). */
  readonly #gone: Promise<void>
  #done = false
  readonly output: Readable & { attachedAt: number, fromStart: boolean }

  private constructor (proc: ChildProcess, sock: Socket, ports: { video: number, audio?: number }) {
    this.#proc = proc
    this.#sock = sock
    this.#ports = ports
    const out = proc.stdout as Readable
    // Not from the start: the segmenter dates the stream from its first segment's close.
    this.output = Object.assign(out, { attachedAt: Date.now(), fromStart: false })
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
      for (const l of d.split('\n')) if (l.trim() !== '') this.#stderr.push(l)
      this.#stderr.splice(0, Math.max(0, this.#stderr.length - STDERR_LINES))
    })
    this.#gone = new Promise<void>(resolve => {
      proc.once('exit', () => { resolve() })
      // A failed spawn (no ffmpeg there): the output ends empty, and the session reports what the segmenter saw.
      proc.once('error', (err) => { this.#stderr.push(`spawn: ${err.message}`); out.destroy(); resolve() })
    })
    void this.#gone.then(() => { this.#done = true; this.#sock.close() })
  }

  static async start (o: BridgeOptions): Promise<RtpBridge> {
    const video = await freePortPair()
    const ports = { video, ...(o.audio ? { audio: await freePortPair(video) } : {}) }
    const sdpPath = join(o.workDir, 'whip.sdp')
    await writeFile(sdpPath, bridgeSdp({ videoPort: ports.video, ...(ports.audio != null ? { audioPort: ports.audio } : {}) }))
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'warning',
      '-protocol_whitelist', 'file,udp,rtp',
      '-analyzeduration', ANALYZE_US,
      '-i', sdpPath,
      '-map', '0:v:0', ...(o.audio ? ['-map', '0:a:0', '-c:a', 'aac', '-b:a', AAC_BITRATE] : []),
      '-c:v', 'copy',
      '-f', 'mpegts', 'pipe:1'
    ]
    const proc = trackProcess(spawn(o.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
    const sock = createSocket('udp4')
    sock.on('error', () => { /* a send to a bridge that already exited: nothing to do */ })
    return new RtpBridge(proc, sock, ports)
  }

  /** Forwards one RTP packet (serialized, decrypted) of `kind`, with the bridge's payload type. */
  forward (kind: 'video' | 'audio', rtp: Buffer): void {
    const port = kind === 'video' ? this.#ports.video : this.#ports.audio
    if (port == null || this.#done) return
    this.#sock.send(setPayloadType(rtp, kind === 'video' ? BRIDGE_VIDEO_PT : BRIDGE_AUDIO_PT), port, '127.0.0.1')
  }

  /** Last lines ffmpeg wrote to stderr. */
  stderrTail (): string[] { return [...this.#stderr] }

  /** Stops ffmpeg and resolves once it exited (killed after {@link STOP_GRACE_MS}); its output has ended by then, so a reader sees the input end. */
  async stop (): Promise<void> {
    const proc = this.#proc
    if (this.#done) return
    proc.kill('SIGTERM')
    // ffmpeg's first signal is only seen between packets; with no RTP coming it waits in the read. The second interrupts the read (it still writes the end of its output).
    const again = setTimeout(() => { proc.kill('SIGTERM') }, SECOND_SIGNAL_MS)
    const timer = setTimeout(() => { proc.kill('SIGKILL') }, STOP_GRACE_MS)
    await this.#gone
    clearTimeout(again)
    clearTimeout(timer)
  }
}

/** An even UDP port on loopback, free along with the next one (ffmpeg binds RTP on it and RTCP on it + 1). */
async function freePortPair (taken?: number): Promise<number> {
  for (let i = 0; i < PORT_TRIES; i++) {
    const a = await bind(0)
    const port = a.address().port
    a.close()
    if (port % 2 !== 0 || port >= 65535 || port === taken) continue
    const both = await Promise.allSettled([bind(port), bind(port + 1)])
    for (const b of both) if (b.status === 'fulfilled') b.value.close()
    if (both.every(b => b.status === 'fulfilled')) return port
  }
  throw new Error(`found no free loopback UDP port pair in ${PORT_TRIES} tries`)
}

async function bind (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = createSocket('udp4')
    s.once('error', (err) => { s.close(); reject(err) })
    s.bind(port, '127.0.0.1', () => { resolve(s) })
  })
}
