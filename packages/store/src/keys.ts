import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const PEER_KEY_FILE = 'peer.key'

/** Loads the node's Ed25519 key from `<dataDir>/peer.key`, creating it (mode 0600) on first start. */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, PEER_KEY_FILE)
  try {
    return privateKeyFromProtobuf(await readFile(file))
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  const key = await generateKeyPair('Ed25519')
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  return key
}
