/**
 * The viewer's identity, without an account anywhere: an Ed25519 key pair
 * made in this browser (WebCrypto), the private key non-extractable and
 * kept in IndexedDB, and a display name. Chat messages are signed with it
 * (PROTOCOL.md §10: the canonical bytes below are the node's too).
 */

export interface Identity {
  /** The raw public key, base64url: the viewer's id in chat. */
  key: string
  name: string
  privateKey: CryptoKey
}

const DB = 'diststream-viewer'
const STORE = 'identity'
const SELF = 'self'
/** Longest display name in UTF-8 bytes (MAX_CHAT_NAME_BYTES in protocol/). */
export const MAX_NAME_BYTES = 64
/** Longest chat text in UTF-8 bytes (MAX_CHAT_TEXT_BYTES in protocol/). */
export const MAX_TEXT_BYTES = 500

interface Stored { key: string, name: string, privateKey: CryptoKey }

async function db (): Promise<IDBDatabase> {
  return await new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => { req.result.createObjectStore(STORE) }
    req.onsuccess = () => { resolve(req.result) }
    req.onerror = () => { reject(req.error ?? new Error('IndexedDB unavailable')) }
  })
}

async function tx<T> (mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const d = await db()
  try {
    return await new Promise((resolve, reject) => {
      const req = fn(d.transaction(STORE, mode).objectStore(STORE))
      req.onsuccess = () => { resolve(req.result as T) }
      req.onerror = () => { reject(req.error ?? new Error('IndexedDB request failed')) }
    })
  } finally {
    d.close()
  }
}

export function b64url (bytes: ArrayBuffer | Uint8Array): string {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let s = ''
  for (const b of u8) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function randomId (): string {
  return b64url(crypto.getRandomValues(new Uint8Array(16)))
}

function defaultName (key: string): string {
  return `viewer-${key.slice(0, 6)}`
}

/** The identity kept in this browser, made on first use. */
export async function loadIdentity (): Promise<Identity> {
  const stored = await tx<Stored | undefined>('readonly', s => s.get(SELF))
  if (stored != null) return stored
  if (crypto.subtle == null) throw new Error('this page is not a secure context (use https or localhost): no WebCrypto for a chat key')
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']) as CryptoKeyPair
  const key = b64url(await crypto.subtle.exportKey('raw', pair.publicKey))
  const id: Stored = { key, name: defaultName(key), privateKey: pair.privateKey }
  await tx('readwrite', s => s.put(id, SELF))
  return id
}

export async function saveName (id: Identity, name: string): Promise<Identity> {
  const next = { ...id, name: name.trim() === '' ? defaultName(id.key) : name.trim() }
  await tx('readwrite', s => s.put(next, SELF))
  return next
}

export interface SignedMessage { stream: string, key: string, name: string, text: string, ts: number, id: string, sig: string }

/** A signed chat message for `stream` (the canonical bytes of PROTOCOL.md §10). */
export async function signMessage (id: Identity, stream: string, text: string): Promise<SignedMessage> {
  const m = { stream, key: id.key, name: id.name, text, ts: Date.now(), id: randomId() }
  const bytes = new TextEncoder().encode(JSON.stringify(['diststream/chat/v1', m.stream, m.key, m.name, m.text, m.ts, m.id]))
  const sig = b64url(await crypto.subtle.sign({ name: 'Ed25519' }, id.privateKey, bytes))
  return { ...m, sig }
}
