import { TOPIC_JOBS, TOPIC_PRESENCE, TOPIC_STREAMS } from '@diststream/protocol'
import type { Penalties } from './penalties.js'
import type { PeerScoreParams, TopicScoreParams } from '@libp2p/gossipsub/score'

/**
 * P4, invalid message deliveries (a message our validator rejected: it did not decode. A penalised
 * author's message is ignored instead: gossip.ts): −10 × count², so three in a row (−90) pass gossipsub's
 * graylist threshold (−80) and the peer's RPCs are ignored. Decays by 1 % a second (halves in about
 * 70 s): one malformed message from a peer on an older version is forgiven within minutes.
 */
export const SCORE_INVALID_WEIGHT = -10
export const SCORE_INVALID_DECAY = 0.99

/**
 * Our topics' score parameters. Only P4 counts: P1/P2 (time in mesh, first deliveries) reward,
 * and with our quiet topics would only mask P4; P3 (too few mesh deliveries) would punish every
 * honest mesh peer of a topic that carries a message every few seconds (presence on change), so it
 * is off, as is P3b. Per-stream topics (segments, haves) come and go: they are not listed (js
 * gossipsub scores only listed topics), their offenders are caught by the app score.
 */
export function topicScoreParams (): Partial<TopicScoreParams> {
  return {
    topicWeight: 1,
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: SCORE_INVALID_WEIGHT,
    invalidMessageDeliveriesDecay: SCORE_INVALID_DECAY
  }
}

/**
 * gossipsub's score parameters: our topics scored (P4), an app-specific score of minus the
 * peer's penalty points (P5, weight 10: refusals the node blamed on it: origin checks, malformed
 * messages), and IP colocation (P6) with loopback exempt only when `localIps` (every node of a
 * loopback test network is on 127.0.0.1; elsewhere a loopback peer is a local proxy or tunnel and
 * counts like any other IP).
 */
export function peerScoreParams (opts: { penalties?: Penalties, localIps: boolean }): Partial<PeerScoreParams> {
  const topic = topicScoreParams() as TopicScoreParams
  return {
    topics: { [TOPIC_PRESENCE]: topic, [TOPIC_JOBS]: topic, [TOPIC_STREAMS]: topic },
    appSpecificScore: (peer: string) => -(opts.penalties?.points(peer) ?? 0),
    IPColocationFactorWhitelist: new Set(opts.localIps ? ['127.0.0.1', '::1'] : [])
  }
}
