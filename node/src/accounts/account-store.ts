/**
 * Broadcaster accounts, sessions, channels and stream ownership in the node's
 * level store. Writes that check-then-put (a username taken, a channel name
 * taken, a user's session list) run one at a time on this node, so two
 * concurrent registrations of one name cannot both win.
 */
import { createHash, randomBytes } from 'node:crypto'
import { systemClock } from '@diststream/util'
import { MAX_CHANNELS_PER_USER, MAX_STREAMS_PER_CHANNEL, MAX_SESSIONS_PER_USER, MAX_USERS, SESSION_TOKEN_BYTES } from './constants.js'
import { PasswordHasher } from './passwords.js'
import type { ChannelInput } from './validate.js'
import type { Store } from '@diststream/store'
import type { Clock } from '@diststream/util'

export interface UserRecord { username: string, passwordHash: string, createdAt: number, sessions: string[], channels: string[] }
export interface SessionRecord { id: string, username: string, createdAt: number, expiresAt: number }
export interface ChannelRecord { name: string, title: string, avatarUrl?: string, owner: string, createdAt: number, streams?: string[] }
export interface StreamOwnerRecord { streamId: string, owner: string, channel: string }

/** A refusal with its HTTP status (409 taken, 403 not yours, 503 a bound reached). */
export class AccountError extends Error {
  static readonly NAME = 'AccountError'
  override name = AccountError.NAME
  constructor (readonly statusCode: number, message: string) { super(message) }
}

/** The sha256 of a session token, hex: the session's key in the store (a stolen database holds no usable token). */
export const sessionIdOf = (token: string): string => createHash('sha256').update(token).digest('hex')

const isUser = (v: any): v is UserRecord => typeof v?.username === 'string' && typeof v.passwordHash === 'string' && Array.isArray(v.sessions) && Array.isArray(v.channels)
const isSession = (v: any): v is SessionRecord => typeof v?.id === 'string' && typeof v.username === 'string' && typeof v.expiresAt === 'number'
const isChannel = (v: any): v is ChannelRecord => typeof v?.name === 'string' && typeof v.owner === 'string' && typeof v.title === 'string'
const isOwner = (v: any): v is StreamOwnerRecord => typeof v?.streamId === 'string' && typeof v.owner === 'string'

export interface AccountStoreOptions {
  /** Session lifetime (ms). */
  sessionTtlMs: number
  clock?: Clock
  hasher?: PasswordHasher
}

export class AccountStore {
  readonly hasher: PasswordHasher
  readonly sessionTtlMs: number
  readonly #clock: Clock
  #serial: Promise<unknown> = Promise.resolve()
  #userCount?: number

  constructor (private readonly store: Pick<Store, 'users' | 'sessions' | 'channels' | 'streamOwners'>, opts: AccountStoreOptions) {
    this.sessionTtlMs = opts.sessionTtlMs
    this.#clock = opts.clock ?? systemClock
    this.hasher = opts.hasher ?? new PasswordHasher()
  }

  /** Runs `fn` after every earlier serial write has finished. */
  async #serially<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn)
    // The chain only orders the writes: the caller gets this write's error through `run`.
    this.#serial = run.catch(() => undefined)
    return await run
  }

  async getUser (username: string): Promise<UserRecord | undefined> {
    const u = await this.store.users.get(username)
    return isUser(u) ? u : undefined
  }

  /** A new account; the password is hashed before the name is checked, so the answer's time says nothing about the name. */
  async register (username: string, password: string): Promise<UserRecord> {
    const passwordHash = await this.hasher.hash(password)
    return await this.#serially(async () => {
      if (await this.store.users.get(username) != null) throw new AccountError(409, `username ${username} is taken`)
      this.#userCount ??= (await this.store.users.keys(MAX_USERS + 1)).length
      if (this.#userCount >= MAX_USERS) throw new AccountError(503, `this node has its limit of ${MAX_USERS} accounts`)
      const user: UserRecord = { username, passwordHash, createdAt: this.#clock.now(), sessions: [], channels: [] }
      await this.store.users.put(username, user)
      this.#userCount++
      return user
    })
  }

  /** The user if `password` is theirs; undefined otherwise, after the same Argon2 work for an unknown user. */
  async authenticate (username: string, password: string): Promise<UserRecord | undefined> {
    const user = await this.getUser(username)
    return await this.hasher.verify(user?.passwordHash, password) ? user : undefined
  }

  /** A new session for `username`: the token (for the cookie, never stored) and when it expires. Past MAX_SESSIONS_PER_USER the oldest ends. */
  async createSession (username: string): Promise<{ token: string, expiresAt: number }> {
    const token = randomBytes(SESSION_TOKEN_BYTES).toString('base64url')
    const id = sessionIdOf(token)
    const now = this.#clock.now()
    const session: SessionRecord = { id, username, createdAt: now, expiresAt: now + this.sessionTtlMs }
    await this.#serially(async () => {
      const user = await this.getUser(username)
      if (user == null) throw new AccountError(401, 'no such user')
      // Drop expired sessions from the list, then the oldest past the bound.
      const live: string[] = []
      for (const sid of user.sessions) {
        const s = await this.store.sessions.get(sid)
        if (isSession(s) && s.expiresAt > now) live.push(sid)
        else await this.store.sessions.delete(sid)
      }
      while (live.length >= MAX_SESSIONS_PER_USER) await this.store.sessions.delete(live.shift()!)
      await this.store.sessions.put(id, session)
      await this.store.users.put(username, { ...user, sessions: [...live, id] })
    })
    return { token, expiresAt: session.expiresAt }
  }

  /** The live session a token stands for, or undefined (unknown or expired: an expired one is deleted). */
  async sessionFor (token: string): Promise<SessionRecord | undefined> {
    const id = sessionIdOf(token)
    const s = await this.store.sessions.get(id)
    if (!isSession(s)) return undefined
    if (s.expiresAt <= this.#clock.now()) {
      await this.store.sessions.delete(id)
      return undefined
    }
    return s
  }

  /** Ends the session of `token` (nothing when there is none). */
  async endSession (token: string): Promise<void> {
    const s = await this.store.sessions.get(sessionIdOf(token))
    if (!isSession(s)) return
    await this.#serially(async () => {
      await this.store.sessions.delete(s.id)
      const user = await this.getUser(s.username)
      if (user != null) await this.store.users.put(user.username, { ...user, sessions: user.sessions.filter(x => x !== s.id) })
    })
  }

  async createChannel (owner: string, input: ChannelInput): Promise<ChannelRecord> {
    return await this.#serially(async () => {
      const user = await this.getUser(owner)
      if (user == null) throw new AccountError(401, 'no such user')
      if (await this.store.channels.get(input.name) != null) throw new AccountError(409, `channel ${input.name} is taken`)
      if (user.channels.length >= MAX_CHANNELS_PER_USER) throw new AccountError(409, `a user owns at most ${MAX_CHANNELS_PER_USER} channels`)
      const channel: ChannelRecord = { name: input.name, title: input.title, ...(input.avatarUrl != null && input.avatarUrl !== '' ? { avatarUrl: input.avatarUrl } : {}), owner, createdAt: this.#clock.now() }
      await this.store.channels.put(channel.name, channel)
      await this.store.users.put(owner, { ...user, channels: [...user.channels, channel.name] })
      return channel
    })
  }

  async getChannel (name: string): Promise<ChannelRecord | undefined> {
    const c = await this.store.channels.get(name)
    return isChannel(c) ? c : undefined
  }

  /** Up to `limit` channels, by name. */
  async listChannels (limit: number): Promise<ChannelRecord[]> {
    return (await this.store.channels.values(limit)).filter(isChannel)
  }

  /**
   * Whether `channel` has room for one more stream, after dropping the
   * streams `exists` says are gone (the ingest removed them).
   */
  async channelHasRoom (channel: string, exists: (streamId: string) => Promise<boolean>): Promise<boolean> {
    return await this.#serially(async () => {
      const c = await this.getChannel(channel)
      if (c == null) return false
      const streams: string[] = []
      for (const id of c.streams ?? []) {
        if (await exists(id)) streams.push(id)
        else await this.store.streamOwners.delete(id)
      }
      if (streams.length !== (c.streams ?? []).length) await this.store.channels.put(c.name, { ...c, streams })
      return streams.length < MAX_STREAMS_PER_CHANNEL
    })
  }

  /** Records that `rec.owner` owns stream `rec.streamId` in channel `rec.channel`. */
  async setStreamOwner (rec: StreamOwnerRecord): Promise<void> {
    await this.#serially(async () => {
      const c = await this.getChannel(rec.channel)
      if (c == null) throw new AccountError(404, `no channel ${rec.channel}`)
      await this.store.streamOwners.put(rec.streamId, rec)
      await this.store.channels.put(c.name, { ...c, streams: [...(c.streams ?? []), rec.streamId].slice(-MAX_STREAMS_PER_CHANNEL) })
    })
  }

  async streamOwner (streamId: string): Promise<StreamOwnerRecord | undefined> {
    const o = await this.store.streamOwners.get(streamId)
    return isOwner(o) ? o : undefined
  }
}
