/**
 * Tools of a hostile peer attacking stream ownership (hostile-ownership.test.ts):
 * capture and replay another peer's signed gossip, answer INDEX requests for
 * streams as the attacker likes, and read a node's resident memory.
 */
import { readFile } from 'node:fs/promises'
import { codecs, FetchRequest, FetchResponse, MessageChannel, TOPIC_STREAMS } from '@diststream/protocol'
import type { P2PNode } from '@diststream/p2p'
import type { FetchResponse as FetchResponseMsg } from '@diststream/protocol'
import type { Stream } from '@libp2p/interface'

/** A gossip message as it travels (signed by its author): replayable by anyone who saw it. */
export interface RawGossip { from?: Uint8Array, data?: Uint8Array, seqno?: Uint8Array, topic: string, signature?: Uint8Array, key?: Uint8Array }

/**
 * Records every valid StreamAnnounce message the peer receives, raw (with
 * its author's signature), by hooking gossipsub's message cache.
 */
export function captureStreamAnnounces (peer: P2PNode): RawGossip[] {
  const captured: RawGossip[] = []
  const ps = peer.services.pubsub as any
  const put = ps.mcache.put.bind(ps.mcache)
  ps.mcache.put = (id: unknown, msg: RawGossip, validated?: boolean) => {
    if (msg.topic === TOPIC_STREAMS) captured.push(msg)
    return put(id, msg, validated)
  }
  return captured
}

/** Sends an old signed gossip message to `to` again (gossipsub's own RPC, as a forwarder would). */
export function replay (peer: P2PNode, to: string, msg: RawGossip): boolean {
  const ps = peer.services.pubsub as any
  return ps.sendRpc(to, { subscriptions: [], messages: [msg], control: undefined })
}

/** The author (peer id bytes → string is not needed: compared as bytes) and the decoded announce of a captured message. */
export function decodeAnnounce (msg: RawGossip): ReturnType<typeof codecs.streamAnnounce.decode> | undefined {
  try {
    return msg.data == null ? undefined : codecs.streamAnnounce.decode(msg.data)
  } catch {
    return undefined // not a valid announce: not ours to replay
  }
}

/** A process's resident set size in bytes (Linux /proc). */
export async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024
}

/**
 * FETCH handler of a hostile "ingest" and fake holder: INDEX requests are
 * answered from `indexes` (by stream id; whatever the attacker wants to
 * claim), every SEGMENT request BUSY naming `busyHolders` (made-up holders),
 * or NOT_FOUND when there are none. `asked` counts requests per stream
 * (INDEX) and per `<stream>/segment`.
 */
export function indexHandler (indexes: Map<string, Pick<FetchResponseMsg, 'stream' | 'segments'>>, asked: Map<string, number>, busyHolders: string[] = []): (stream: Stream) => void {
  return (stream) => {
    void (async () => {
      const ch = new MessageChannel(stream)
      try {
        const req = await ch.read(codecs.fetchRequest, { signal: AbortSignal.timeout(5000) })
        const answer = req.kind === FetchRequest.Kind.INDEX ? indexes.get(req.streamId) : undefined
        const what = req.kind === FetchRequest.Kind.INDEX ? req.streamId : `${req.streamId}/segment`
        asked.set(what, (asked.get(what) ?? 0) + 1)
        if (req.kind === FetchRequest.Kind.SEGMENT && busyHolders.length > 0) {
          await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.BUSY, error: 'busy', size: 0, sha256: new Uint8Array(0), segments: [], busy: { holders: busyHolders } })
        } else if (answer == null) {
          await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.NOT_FOUND, error: 'no', size: 0, sha256: new Uint8Array(0), segments: [] })
        } else {
          await ch.write(codecs.fetchResponse, { status: FetchResponse.Status.OK, error: '', size: 0, sha256: new Uint8Array(0), ...answer })
        }
        await ch.close()
      } catch (err: any) {
        ch.abort(err)
      }
    })()
  }
}
