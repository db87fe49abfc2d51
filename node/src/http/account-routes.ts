/**
 * Broadcaster accounts on an ingest (issue 17): register, log in, who am I,
 * log out. Login answers the same (401, same body, same Argon2 work) for an
 * unknown user as for a wrong password, and is rate-limited per username and
 * per address (429 with Retry-After).
 */
import { LOGIN_PER_ADDRESS, LOGIN_PER_USER, MAX_PASSWORD_LENGTH, MAX_RATE_LIMIT_KEYS, REGISTER_PER_ADDRESS } from '../accounts/constants.js'
import { addressKey, TokenBuckets } from '../accounts/rate-limit.js'
import { passwordProblem, usernameProblem } from '../accounts/validate.js'
import { clearSessionCookie, readCookie, sessionCookie } from './cookies.js'
import { HttpError, httpStatusOf } from './errors.js'
import { header } from './role-guards.js'
import { authRefusals, sessionUser, withAuth } from './session-auth.js'
import type { AccountStore, UserRecord } from '../accounts/account-store.js'
import type { TakeResult } from '../accounts/rate-limit.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The one answer to a failed login, whether the user exists or not. */
export const LOGIN_FAILED = 'wrong username or password'

const CREDENTIALS = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 2 }
  }
} as const

interface Credentials { username: string, password: string }

export function userView (u: UserRecord): { username: string, createdAt: string, channels: string[] } {
  return { username: u.username, createdAt: new Date(u.createdAt).toISOString(), channels: u.channels }
}

const isHttps = (req: FastifyRequest): boolean => req.protocol === 'https'

export function registerAccountRoutes (app: FastifyInstance, ctx: HttpContext, accounts: AccountStore): void {
  const refusals = authRefusals(ctx.registry)
  const loginPerUser = new TokenBuckets(LOGIN_PER_USER, MAX_RATE_LIMIT_KEYS)
  const loginPerAddress = new TokenBuckets(LOGIN_PER_ADDRESS, MAX_RATE_LIMIT_KEYS)
  const registerPerAddress = new TokenBuckets(REGISTER_PER_ADDRESS, MAX_RATE_LIMIT_KEYS)
  void accounts.hasher.warmUp().catch(err => { ctx.logger.warn({ err }, 'could not make the dummy password hash') })

  const limited = (reply: FastifyReply, ...results: TakeResult[]): boolean => {
    const waits = results.flatMap(r => r.ok ? [] : [r.retryAfterMs])
    if (waits.length === 0) return false
    refusals.inc({ reason: 'rate_limited' })
    void reply.code(429).header('retry-after', String(Math.ceil(Math.max(...waits) / 1000))).send({ error: 'too many attempts; try again later' })
    return true
  }
  // A hasher at its bound (503) is counted; the error handler answers it.
  const countBusy = (err: unknown): never => {
    if (httpStatusOf(err) === 503) refusals.inc({ reason: 'busy' })
    throw err
  }

  app.post<{ Body: Credentials }>('/api/users', { config: withAuth('public'), schema: { body: CREDENTIALS } }, async (req, reply) => {
    const { username, password } = req.body
    const problem = usernameProblem(username) ?? passwordProblem(password, username)
    if (problem != null) throw new HttpError(400, problem)
    if (limited(reply, registerPerAddress.take(addressKey(req.ip), Date.now()))) return reply
    const user = await accounts.register(username, password).catch(countBusy)
    void reply.code(201)
    return userView(user)
  })

  app.post<{ Body: Credentials }>('/api/sessions', { config: withAuth('public'), schema: { body: CREDENTIALS } }, async (req, reply) => {
    const { username, password } = req.body
    const now = Date.now()
    // Both buckets are charged, so the per-address limit also counts attempts at a limited name.
    if (limited(reply, loginPerAddress.take(addressKey(req.ip), now), loginPerUser.take(username.toLowerCase(), now))) return reply
    const user = await accounts.authenticate(username, password).catch(countBusy)
    if (user == null) {
      refusals.inc({ reason: 'bad_credentials' })
      throw new HttpError(401, LOGIN_FAILED)
    }
    const { token, expiresAt } = await accounts.createSession(user.username)
    void reply.code(201).header('set-cookie', sessionCookie(token, expiresAt, Date.now(), isHttps(req)))
    return { ...userView(user), expiresAt: new Date(expiresAt).toISOString() }
  })

  app.get('/api/me', async (req) => {
    const username = sessionUser(req)
    const user = username == null ? undefined : await accounts.getUser(username)
    if (user == null) throw new HttpError(401, 'not logged in')
    return userView(user)
  })

  // Logged out either way: the session (if any) ends and the cookie is cleared.
  app.delete('/api/sessions', { config: withAuth('public') }, async (req, reply) => {
    const token = readCookie(header(req.headers.cookie))
    if (token != null) await accounts.endSession(token)
    void reply.code(204).header('set-cookie', clearSessionCookie(isHttps(req))).send()
    return reply
  })
}
