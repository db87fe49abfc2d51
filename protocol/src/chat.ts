/**
 * Live chat on the wire (PROTOCOL.md §10): a viewer's signed message, the
 * stream owner's moderation state, and the JSON codec of the chat topic.
 *
 * A message is signed by the viewer's Ed25519 key over its canonical bytes:
 *
 *     utf8(JSON.stringify(["diststream/chat/v1", stream, key, name, text, ts, id]))
 *
 * `JSON.stringify` of strings and integers is the same in every engine, so a
 * browser and a node compute the same bytes without a canonicalisation library.
 */
import { createPublicKey, verify } from 'node:crypto'
import { ProtocolError } from './errors.js'
import {
  CHAT_ID_PATTERN, CHAT_KEY_PATTERN, CHAT_SIG_PATTERN, ID_PATTERN, MAX_CHAT_BANS, MAX_CHAT_DELETED,
  MAX_CHAT_GOSSIP_BYTES, MAX_CHAT_NAME_BYTES, MAX_CHAT_SLOW_SECONDS, MAX_CHAT_TEXT_BYTES
} from './limits.js'
import { utf8Length } from './validate.js'
import type { MessageCodec } from './codecs.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Gossip topic of one stream's chat: viewers' messages relayed by edges, and the owner's moderation state. */
export function chatTopic (streamId: string): string {
  if (!ID_PATTERN.test(streamId)) throw new ProtocolError('invalid', 'invalid stream id')
  return `/diststream/chat/${streamId}/1.0.0`
}

/** The signing domain: a chat signature can never be taken for any other signed thing. */
export const CHAT_DOMAIN = 'diststream/chat/v1'

/** A viewer's chat message, as POSTed to an edge and relayed on the chat topic. */
export interface ChatMessage {
  /** The stream id (the chat's topic). */
  stream: string
  /** The viewer's Ed25519 public key, raw 32 bytes, base64url. */
  key: string
  /** Display name the viewer chose (not unique, not verified). */
  name: string
  text: string
  /** The viewer's clock when it was written (ms since the epoch). */
  ts: number
  /** Random id (16 bytes, base64url): dedupe and the handle for a deletion. */
  id: string
  /** Ed25519 signature of {@link chatSigningBytes}, base64url. */
  sig: string
}

/** The owner's moderation of one stream's chat: the whole state, so a late edge needs one message. */
export interface ChatModeration {
  stream: string
  /** Increases with every change (the owner's clock, ms): an edge keeps the newest it has seen. */
  version: number
  /** Least seconds between two messages of one viewer; 0 is off. */
  slowSeconds: number
  /** Banned viewer keys, at most MAX_CHAT_BANS. */
  bans: string[]
  /** Deleted message ids, newest last, at most MAX_CHAT_DELETED. */
  deleted: string[]
}

/** What travels on a chat topic. */
export type ChatGossip = { t: 'msg', m: ChatMessage } | { t: 'mod', s: ChatModeration }

/**
 * Why a chat input was refused: the label of `diststream_chat_refused_total`.
 * Wire checks (this file) give the first four; edges add the stateful ones.
 */
export type ChatRefusalReason =
  | 'too_large' | 'malformed' | 'bad_signature' | 'wrong_stream'
  | 'stale' | 'future' | 'duplicate' | 'banned' | 'slow_mode' | 'rate_key' | 'rate_edge' | 'rate_peer'
  | 'unknown_stream' | 'not_owner' | 'no_room' | 'old_moderation'

export class ChatRefusal extends ProtocolError {
  readonly chatReason: ChatRefusalReason
  constructor (chatReason: ChatRefusalReason, message: string) {
    super(chatReason === 'too_large' ? 'too_large' : chatReason === 'malformed' ? 'malformed' : 'invalid', message)
    this.chatReason = chatReason
  }
}

/** The bytes a viewer signs. */
export function chatSigningBytes (m: Omit<ChatMessage, 'sig'>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([CHAT_DOMAIN, m.stream, m.key, m.name, m.text, m.ts, m.id]))
}

// C0 and C1 controls and the Unicode line/paragraph separators; bidi overrides would let a name or text spoof another.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/ // eslint-disable-line no-control-regex

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v != null && !Array.isArray(v)
}

function onlyKeys (o: Record<string, unknown>, keys: string[]): boolean {
  const ks = Object.keys(o)
  return ks.length === keys.length && ks.every(k => keys.includes(k))
}

const MESSAGE_KEYS = ['stream', 'key', 'name', 'text', 'ts', 'id', 'sig']

/** Checks the shape and bounds of a message (not its signature). Throws ChatRefusal('malformed' | 'too_large'). */
export function checkChatShape (v: unknown): ChatMessage {
  if (!isObject(v) || !onlyKeys(v, MESSAGE_KEYS)) throw new ChatRefusal('malformed', 'a chat message has exactly the fields ' + MESSAGE_KEYS.join(', '))
  const { stream, key, name, text, ts, id, sig } = v
  if (typeof stream !== 'string' || !ID_PATTERN.test(stream)) throw new ChatRefusal('malformed', 'bad stream id')
  if (typeof key !== 'string' || !CHAT_KEY_PATTERN.test(key)) throw new ChatRefusal('malformed', 'bad viewer key')
  if (typeof id !== 'string' || !CHAT_ID_PATTERN.test(id)) throw new ChatRefusal('malformed', 'bad message id')
  if (typeof sig !== 'string' || !CHAT_SIG_PATTERN.test(sig)) throw new ChatRefusal('malformed', 'bad signature encoding')
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) throw new ChatRefusal('malformed', 'bad ts')
  if (typeof name !== 'string' || typeof text !== 'string') throw new ChatRefusal('malformed', 'name and text are strings')
  if (utf8Length(name) > MAX_CHAT_NAME_BYTES) throw new ChatRefusal('too_large', `name over ${MAX_CHAT_NAME_BYTES} bytes`)
  if (utf8Length(text) > MAX_CHAT_TEXT_BYTES) throw new ChatRefusal('too_large', `text over ${MAX_CHAT_TEXT_BYTES} bytes`)
  if (name.trim() === '' || text.trim() === '') throw new ChatRefusal('malformed', 'empty name or text')
  if (CONTROL.test(name) || CONTROL.test(text)) throw new ChatRefusal('malformed', 'control characters in name or text')
  return { stream, key, name, text, ts, id, sig }
}

/** The viewer key as a node KeyObject (raw Ed25519 via JWK). */
function publicKey (key: string): ReturnType<typeof createPublicKey> {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key }, format: 'jwk' })
}

/** Whether `m.sig` is the viewer key's signature of the message. False, never a throw, for a key that is not a point. */
export function verifyChatSignature (m: ChatMessage): boolean {
  try {
    return verify(null, chatSigningBytes(m), publicKey(m.key), Buffer.from(m.sig, 'base64url'))
  } catch {
    return false // not a valid Ed25519 public key: no signature can be valid
  }
}

/** Shape, bounds and signature: the checks that need no state. Throws ChatRefusal. */
export function checkChatMessage (v: unknown): ChatMessage {
  const m = checkChatShape(v)
  if (!verifyChatSignature(m)) throw new ChatRefusal('bad_signature', 'the signature does not verify with the viewer key')
  return m
}

const MOD_KEYS = ['stream', 'version', 'slowSeconds', 'bans', 'deleted']

/** Checks a moderation state's shape and bounds (who sent it is the edge's check). Throws ChatRefusal. */
export function checkChatModeration (v: unknown): ChatModeration {
  if (!isObject(v) || !onlyKeys(v, MOD_KEYS)) throw new ChatRefusal('malformed', 'a moderation state has exactly the fields ' + MOD_KEYS.join(', '))
  const { stream, version, slowSeconds, bans, deleted } = v
  if (typeof stream !== 'string' || !ID_PATTERN.test(stream)) throw new ChatRefusal('malformed', 'bad stream id')
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw new ChatRefusal('malformed', 'bad version')
  if (typeof slowSeconds !== 'number' || !Number.isInteger(slowSeconds) || slowSeconds < 0 || slowSeconds > MAX_CHAT_SLOW_SECONDS) throw new ChatRefusal('malformed', 'bad slowSeconds')
  if (!Array.isArray(bans) || bans.length > MAX_CHAT_BANS || !bans.every(k => typeof k === 'string' && CHAT_KEY_PATTERN.test(k))) throw new ChatRefusal('malformed', 'bad bans')
  if (!Array.isArray(deleted) || deleted.length > MAX_CHAT_DELETED || !deleted.every(k => typeof k === 'string' && CHAT_ID_PATTERN.test(k))) throw new ChatRefusal('malformed', 'bad deleted')
  return { stream, version, slowSeconds, bans: bans as string[], deleted: deleted as string[] }
}

/** Decodes a chat gossip payload: size first, then JSON, then shape, bounds and (a message's) signature. */
export function decodeChatGossip (buf: Uint8Array | Uint8ArrayList): ChatGossip {
  if (buf.byteLength > MAX_CHAT_GOSSIP_BYTES) throw new ChatRefusal('too_large', `chat gossip over ${MAX_CHAT_GOSSIP_BYTES} bytes`)
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf instanceof Uint8Array ? buf : buf.subarray()))
  } catch {
    throw new ChatRefusal('malformed', 'chat gossip is not UTF-8 JSON')
  }
  if (isObject(v) && onlyKeys(v, ['t', 'm']) && v.t === 'msg') return { t: 'msg', m: checkChatMessage(v.m) }
  if (isObject(v) && onlyKeys(v, ['t', 's']) && v.t === 'mod') return { t: 'mod', s: checkChatModeration(v.s) }
  throw new ChatRefusal('malformed', 'chat gossip is {t:"msg",m} or {t:"mod",s}')
}

/** The chat topic's codec (for `Gossip`): JSON, bounded, checked both ways. */
export const chatGossipCodec: MessageCodec<ChatGossip> = {
  name: 'ChatGossip',
  maxBytes: MAX_CHAT_GOSSIP_BYTES,
  encode: (msg) => {
    const bytes = new TextEncoder().encode(JSON.stringify(msg))
    decodeChatGossip(bytes) // a sender finds its own bug here, not every receiver
    return bytes
  },
  decode: decodeChatGossip
}
