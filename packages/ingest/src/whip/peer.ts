/**
 * The WebRTC side of one WHIP session, on werift (WebRTC in pure TypeScript:
 * no native binary to build or fetch, where node-datachannel needs its
 * prebuilt one installed by a script this project does not run). It answers
 * the offer with H.264 and Opus only, gathers host candidates only (no STUN,
 * no TURN: the broadcaster reaches the ingest's own addresses), and hands
 * every received RTP packet on.
 */
import type * as Werift from 'werift'
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver } from 'werift'

/** werift, loaded at the first WHIP offer: it adds ~40 MB and 0.1 s to a process, which no node should pay before it needs it. */
let werift: Promise<typeof Werift> | undefined
let loaded: typeof Werift | undefined

/** How long gathering the ingest's host candidates may take before the answer goes out with what it has (ms). */
const GATHER_TIMEOUT_MS = 3000

/** What went wrong with a connection (the `stage` of `diststream_whip_failures_total`). */
export type PeerFailure = 'ice' | 'dtls'

export interface PeerEvents {
  /** One RTP packet (decrypted, serialized). */
  rtp: (kind: 'video' | 'audio', packet: Buffer) => void
  connected: () => void
  failed: (stage: PeerFailure) => void
}

export interface PeerOptions {
  /** Extra host addresses for ICE (e.g. loopback, which is left out by default). */
  hostAddresses?: string[]
}

export class WhipPeer {
  readonly #pc: RTCPeerConnection
  readonly #tracks: Array<{ track: MediaStreamTrack, transceiver: RTCRtpTransceiver }> = []
  #iceConnected = false
  #closed = false

  /** Loads werift (once); call before the first {@link WhipPeer}. */
  static async load (): Promise<void> { loaded = await (werift ??= import('werift')) }

  /** A peer for one offer; werift must be {@link load}ed. */
  static create (on: PeerEvents, o: PeerOptions = {}): WhipPeer {
    if (loaded == null) throw new Error('WhipPeer.load() first')
    return new WhipPeer(loaded, on, o)
  }

  private constructor ({ RTCPeerConnection, RTCRtpCodecParameters }: typeof Werift, private readonly on: PeerEvents, o: PeerOptions) {
    this.#pc = new RTCPeerConnection({
      iceServers: [],
      ...(o.hostAddresses != null && o.hostAddresses.length > 0 ? { iceAdditionalHostAddresses: o.hostAddresses } : {}),
      iceUseIpv4: true,
      iceUseIpv6: true,
      codecs: {
        video: [new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'
        })],
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })]
      }
    })
    this.#pc.ontrack = ({ track, transceiver }) => {
      const kind = track.kind === 'video' ? 'video' : 'audio'
      // One track of each kind is published (the bridge has one port for each); any other is ignored.
      if (this.#tracks.some(t => t.track.kind === track.kind)) return
      this.#tracks.push({ track, transceiver })
      track.onReceiveRtp.subscribe((rtp) => { if (!this.#closed) this.on.rtp(kind, rtp.serialize()) })
    }
    this.#pc.iceConnectionStateChange.subscribe((s) => {
      this.#iceConnected = s === 'connected' || s === 'completed'
      if (s === 'failed' && !this.#closed) this.on.failed('ice')
    })
    this.#pc.connectionStateChange.subscribe((s) => {
      if (this.#closed) return
      if (s === 'connected') this.on.connected()
      // ICE is up: what failed is DTLS (or the SRTP keys). An ICE failure was counted above.
      if (s === 'failed' && this.#iceConnected) this.on.failed('dtls')
    })
  }

  /** Sets the offer and returns the answer, with the ingest's host candidates in it (no trickle). */
  async answer (offer: string): Promise<string> {
    await this.#pc.setRemoteDescription({ type: 'offer', sdp: offer })
    const answer = await this.#pc.createAnswer()
    await this.#pc.setLocalDescription(answer)
    if (this.#pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, GATHER_TIMEOUT_MS)
        this.#pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') { clearTimeout(timer); resolve() } })
      })
    }
    const sdp = this.#pc.localDescription?.sdp
    if (sdp == null) throw new Error('no local description after the answer')
    return sdp
  }

  /** True when the answer took H.264 video (werift drops codecs it does not support). */
  hasVideo (): boolean {
    return this.#pc.getTransceivers().some(t => t.kind === 'video' && t.codecs.some(c => c.mimeType.toLowerCase() === 'video/h264'))
  }

  /** Asks the broadcaster for a keyframe (RTCP PLI on every video track). */
  requestKeyframe (): void {
    for (const { track, transceiver } of this.#tracks) {
      if (track.kind !== 'video' || track.ssrc == null) continue
      transceiver.receiver.sendRtcpPLI(track.ssrc).catch(() => { /* not connected yet, or closing: the next request follows */ })
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pc.close().catch(() => { /* closing: a failure to send the last packets changes nothing */ })
  }
}
