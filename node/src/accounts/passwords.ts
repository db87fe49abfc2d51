/**
 * Password hashing with Argon2id (@node-rs/argon2: a maintained napi-rs
 * binding with prebuilt binaries). At most MAX_CONCURRENT_HASHES run at once;
 * past that a caller gets {@link HasherBusyError} (503) instead of queueing
 * without bound. A verify for an unknown user runs against a dummy hash so
 * the answer takes the same time as for a wrong password.
 */
import { randomBytes } from 'node:crypto'
import { ARGON2_PARAMS, MAX_CONCURRENT_HASHES } from './constants.js'

type Argon2 = typeof import('@node-rs/argon2')
let argon2: Promise<Argon2> | undefined
/** The native module, loaded on first use: only an ingest's accounts hash passwords, and loaded it is resident memory on every node. */
const lib = async (): Promise<Argon2> => await (argon2 ??= import('@node-rs/argon2'))

async function hash (password: string): Promise<string> {
  const a = await lib()
  return await a.hash(password, { algorithm: a.Algorithm.Argon2id, ...ARGON2_PARAMS })
}

async function verify (phc: string, password: string): Promise<boolean> {
  return await (await lib()).verify(phc, password)
}

export class HasherBusyError extends Error {
  static readonly NAME = 'HasherBusyError'
  override name = HasherBusyError.NAME
  readonly statusCode = 503
  constructor () { super('too many logins at once; try again in a second') }
}

export class PasswordHasher {
  #active = 0
  #dummy?: Promise<string>

  constructor (readonly maxConcurrent = MAX_CONCURRENT_HASHES) {}

  /** An Argon2id PHC string (`$argon2id$v=19$m=...`) for `password`, with a random salt. */
  async hash (password: string): Promise<string> {
    return await this.#bounded(async () => await hash(password))
  }

  /** Whether `password` matches `phc`; with `phc` undefined (no such user), a dummy verify that takes as long and answers false. */
  async verify (phc: string | undefined, password: string): Promise<boolean> {
    // The dummy hash is made once, outside the bound (it is ours, not a request's).
    const target = phc ?? await (this.#dummy ??= hash(randomBytes(16).toString('hex')))
    const ok = await this.#bounded(async () => {
      try {
        return await verify(target, password)
      } catch {
        return false // a malformed stored hash: no login, never a 500 that tells the user apart
      }
    })
    return ok && phc != null
  }

  /** Makes the dummy hash now, so the first unknown-user login is not slower than a wrong password. */
  async warmUp (): Promise<void> { await (this.#dummy ??= hash(randomBytes(16).toString('hex'))) }

  async #bounded<T> (fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.maxConcurrent) throw new HasherBusyError()
    this.#active++
    try {
      return await fn()
    } finally {
      this.#active--
    }
  }
}
