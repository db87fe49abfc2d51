import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { P2PNode } from '@diststream/p2p'

/**
 * Publishes `data` on `topic` through `node`'s own gossipsub connections, but
 * signed by a fresh key (a Sybil identity): what a hostile peer relays for
 * thousands of made-up peers. gossipsub signs with its `publishConfig`
 * (StrictSign: author, public key, private key), swapped here for one
 * publish. Sequential: the config is read when the message is built.
 */
export async function publishAsFreshKey (node: P2PNode, topic: string, data: Uint8Array): Promise<string> {
  const key = await generateKeyPair('Ed25519')
  const author = peerIdFromPrivateKey(key)
  const pubsub = node.services.pubsub as unknown as { publishConfig: unknown }
  const own = pubsub.publishConfig
  pubsub.publishConfig = { type: 0 /* PublishConfigType.Signing */, author, key: publicKeyToProtobuf(key.publicKey), privateKey: key }
  try {
    await node.services.pubsub.publish(topic, data)
  } finally {
    pubsub.publishConfig = own
  }
  return author.toString()
}
