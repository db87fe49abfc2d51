import { codecs } from '@diststream/protocol'
import { messageChannel } from '@diststream/p2p'
import { BID_EXCHANGE_TIMEOUT_MS } from '../constants.js'
import type { PeerComponents } from '@diststream/p2p'
import type { Auction, JobLedger } from '@diststream/scheduler'
import type { Stream } from '@libp2p/interface'

export interface BidHandlerDeps {
  components: Pick<PeerComponents, 'onProtocolError'>
  /** Open auctions by job id (the sessions' job runners open and close them). */
  auctions: Map<string, Auction>
  ledger: JobLedger
  /** The ingest's shutdown signal. */
  shutdown: AbortSignal
}

/**
 * The inbound half of `/diststream/bid`: a worker's bid for a job goes into
 * that job's open auction (if any), and the worker learns whether it was
 * accepted. A malformed, late or broken exchange aborts the stream.
 */
export async function handleBid (stream: Stream, peer: string, deps: BidHandlerDeps): Promise<void> {
  const ch = messageChannel(deps.components, stream, 'bid')
  try {
    const signal = AbortSignal.any([deps.shutdown, AbortSignal.timeout(BID_EXCHANGE_TIMEOUT_MS)])
    const bid = await ch.read(codecs.bid, { signal })
    const auction = deps.auctions.get(bid.jobId)
    const accepted = auction?.offer({ ...bid, peerId: peer, receivedAt: Date.now() }) ?? false
    if (accepted) deps.ledger.addBid(bid.jobId, { peerId: peer, estimateMs: bid.estimateMs })
    await ch.write(codecs.bidAck, { accepted, reason: accepted ? '' : 'auction closed' }, { signal })
    await ch.close({ signal })
  } catch (err: any) {
    // Malformed input is counted by the channel; the bidder sees the abort.
    ch.abort(err)
  }
}
