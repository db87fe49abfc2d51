/**
 * Message counters from the node's own code (not estimated), for
 * `diststream_p2p_messages_total{kind,name,direction}`:
 *
 *  - `kind="gossip"`, name = topic (per-stream topics folded to `<id>`): every
 *    copy of a gossip message on the wire, duplicates included: in = every copy
 *    a peer sent us (gossipsub's pre-validation result: valid, duplicate,
 *    invalid), out = every copy we sent (our publishes and our forwards).
 *    `kind="gossip_duplicate"`, in: the duplicates among those copies.
 *  - `kind="gossip_control"`, name = ihave | iwant | graft | prune | idontwant:
 *    control entries sent and received (every topic together).
 *  - `kind="stream"`, name = protocol id: typed messages read (in) and
 *    written (out) with a MessageChannel on our request/response streams
 *    (bid, transcode, fetch); segment bytes are not messages and are not
 *    counted. Streams between roles of one node (in-memory pairs) are not
 *    network traffic and are not counted.
 *
 * Gossip copies come through gossipsub's own metrics hooks
 * ({@link gossipMetricsRegister}): every metric gossipsub would keep is a
 * no-op except the handful mapped here, so the cost is a label lookup and an
 * increment per copy.
 */
import type { Stream } from '@libp2p/interface'
import type { MetricsRegister } from '@libp2p/gossipsub/metrics'

export type MessageKind = 'gossip' | 'gossip_duplicate' | 'gossip_control' | 'stream'
export type MessageDirection = 'in' | 'out'

/** Counts `n` messages of one kind, name and direction. */
export type CountMessages = (kind: MessageKind, name: string, direction: MessageDirection, n: number) => void

/** Topics whose middle part is a stream id: folded so a label never carries a stranger's id. */
const PER_STREAM_TOPIC = /^\/diststream\/(stream|have)\/[^/]+\/([0-9.]+)$/
/** Topics we name as they are: our fixed topics (and the sim's measure topics). */
const FIXED_TOPIC = /^\/diststream(-measure)?\/(presence|jobs|streams|viewers)\/[0-9.]+$/

/**
 * The label of a topic: fixed topics as they are, per-stream topics with the
 * id folded to `<id>`, anything else (a topic a peer made up) `other`: the
 * label set stays bounded whatever peers send.
 */
export function topicLabel (topic: string): string {
  const m = PER_STREAM_TOPIC.exec(topic)
  if (m != null) return `/diststream/${m[1]!}/<id>/${m[2]!}`
  return FIXED_TOPIC.test(topic) ? topic : 'other'
}

interface Counting { inc: (labels?: any, value?: number) => void }

/** gossipsub gauge name → what it counts (its label `topic` is the topic string). */
const GOSSIP_MAP: Record<string, (count: CountMessages, labels: any, n: number) => void> = {
  gossipsub_pre_validation_valid_total: (c, l, n) => { c('gossip', topicLabel(l.topic), 'in', n) },
  gossipsub_pre_validation_invalid_total: (c, l, n) => { c('gossip', topicLabel(l.topic), 'in', n) },
  gossipsub_pre_validation_unknown_status_total: (c, l, n) => { c('gossip', topicLabel(l.topic), 'in', n) },
  gossipsub_pre_validation_duplicate_total: (c, l, n) => { c('gossip', topicLabel(l.topic), 'in', n); c('gossip_duplicate', topicLabel(l.topic), 'in', n) },
  gossipsub_msg_publish_peers_total: (c, l, n) => { c('gossip', topicLabel(l.topic), 'out', n) },
  gossipsub_msg_forward_peers_total: (c, l, n) => { c('gossip', topicLabel(l.topic), 'out', n) },
  gossipsub_rpc_recv_ihave_total: (c, _l, n) => { c('gossip_control', 'ihave', 'in', n) },
  gossipsub_rpc_recv_iwant_total: (c, _l, n) => { c('gossip_control', 'iwant', 'in', n) },
  gossipsub_rpc_recv_graft_total: (c, _l, n) => { c('gossip_control', 'graft', 'in', n) },
  gossipsub_rpc_recv_prune_total: (c, _l, n) => { c('gossip_control', 'prune', 'in', n) },
  gossipsub_rpc_sent_ihave_total: (c, _l, n) => { c('gossip_control', 'ihave', 'out', n) },
  gossipsub_rpc_sent_iwant_total: (c, _l, n) => { c('gossip_control', 'iwant', 'out', n) },
  gossipsub_rpc_sent_graft_total: (c, _l, n) => { c('gossip_control', 'graft', 'out', n) },
  gossipsub_rpc_sent_prune_total: (c, _l, n) => { c('gossip_control', 'prune', 'out', n) },
  gossipsub_rpc_sent_idontwant_total: (c, _l, n) => { c('gossip_control', 'idontwant', 'out', n) }
}

const NOOP = { inc () {}, set () {}, addCollect () {}, observe () {}, reset () {}, startTimer: () => () => {} }

/**
 * A gossipsub `metricsRegister` that feeds `count` from the few gossipsub
 * metrics in {@link GOSSIP_MAP} and keeps none of the others.
 */
export function gossipMetricsRegister (count: CountMessages): MetricsRegister {
  const gauge = (config: { name: string }): any => {
    const map = GOSSIP_MAP[config.name]
    if (map == null) return NOOP
    const g: Counting = {
      // Label-less gauges are called inc(value); labelled ones inc(labels, value).
      inc: (a?: any, b?: number) => {
        if (typeof a === 'object' && a != null) map(count, a, b ?? 1)
        else map(count, {}, a ?? 1)
      }
    }
    return { ...NOOP, ...g }
  }
  return { gauge, histogram: () => NOOP as any, avgMinMax: () => NOOP as any }
}

/** The message counter of each stream handed out by {@link Protocols}, for {@link messageChannel}. */
const streamCounters = new WeakMap<Stream, (direction: MessageDirection) => void>()

/** Marks `stream` (of `protocol`) so that messages on its MessageChannel are counted by `count`. */
export function countStream (stream: Stream, protocol: string, count: CountMessages | undefined): void {
  if (count != null) streamCounters.set(stream, (direction) => { count('stream', protocol, direction, 1) })
}

/** The counter {@link countStream} gave `stream`, if any. */
export function streamCounter (stream: Stream): ((direction: MessageDirection) => void) | undefined {
  return streamCounters.get(stream)
}
