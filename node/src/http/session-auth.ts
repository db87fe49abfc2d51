/**
 * Who a request is, for broadcaster accounts (issue 17): the session behind
 * its cookie, and the route guards that let a session (not only the API
 * token) into a mutating route. For other routes to use:
 *
 * - `sessionUser(req)`: the logged-in username of this request, or undefined
 *   (any route under /api; resolved once per request from the cookie);
 *   `lookupSessionUser(ctx, req)` for routes outside /api.
 * - `config: withAuth('apiTokenOrOwner')` on a route with an `:id` stream
 *   param: the API token, or the session of the stream's owner (403 for
 *   another user). `withAuth('session')`: any logged-in user (the handler
 *   checks the rest); `withAuth('public')`: anyone (login, registration).
 *   Cross-site requests without the token are refused (csrf.ts) for all three.
 * - `isApiTokenRequest(req, ctx)`: whether it carries the API token.
 *
 * A route without `withAuth` stays token-only (auth.ts).
 */
import { Counter } from 'prom-client'
import { bearerMatches } from './auth.js'
import { readCookie } from './cookies.js'
import { crossSiteRefusal } from './csrf.js'
import { header } from './role-guards.js'
import type { AuthAlternative } from './auth.js'
import type { HttpContext } from './context.js'
import type { AccountStore, SessionRecord } from '../accounts/account-store.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export const AUTH_POLICIES = ['public', 'session', 'apiTokenOrOwner'] as const
export type AuthPolicy = typeof AUTH_POLICIES[number]

/** Route options' `config` naming who may call a mutating route besides the API token holder. */
export const withAuth = (auth: AuthPolicy): { auth: AuthPolicy } => ({ auth })

/** Why a request was refused: csrf, no_session, not_owner, bad_credentials, rate_limited, busy. */
export type RefusalReason = 'csrf' | 'no_session' | 'not_owner' | 'bad_credentials' | 'rate_limited' | 'busy'

export const AUTH_REFUSALS_METRIC = 'diststream_auth_refusals_total'

/** `diststream_auth_refusals_total{reason}`, once per registry. */
export function authRefusals (registry: Registry): Counter<'reason'> {
  return registry.getSingleMetric(AUTH_REFUSALS_METRIC) as Counter<'reason'> | undefined ??
    new Counter({ name: AUTH_REFUSALS_METRIC, help: 'Account and session requests refused, by reason (csrf, no_session, not_owner, bad_credentials, rate_limited, busy)', labelNames: ['reason'], registers: [registry] })
}

const sessions = new WeakMap<FastifyRequest, SessionRecord>()

/** The logged-in username of this request (its cookie's live session), or undefined. */
export function sessionUser (req: FastifyRequest): string | undefined {
  return sessions.get(req)?.username
}

/**
 * The logged-in username for a request outside /api too (a chat socket, a
 * page): the session resolved for /api, else looked up from its cookie now.
 */
export async function lookupSessionUser (ctx: Pick<HttpContext, 'accounts'>, req: FastifyRequest): Promise<string | undefined> {
  const known = sessions.get(req)
  if (known != null || ctx.accounts == null) return known?.username
  const token = readCookie(header(req.headers.cookie))
  return token == null ? undefined : (await ctx.accounts.sessionFor(token))?.username
}

/** Whether the request carries the node's API token. */
export function isApiTokenRequest (req: FastifyRequest, ctx: Pick<HttpContext, 'apiToken'>): boolean {
  return bearerMatches(req.headers.authorization, ctx.apiToken)
}

const policyOf = (req: FastifyRequest): AuthPolicy | undefined => {
  const auth = (req.routeOptions.config as { auth?: unknown } | undefined)?.auth
  return AUTH_POLICIES.find(p => p === auth)
}

function refuse (reply: FastifyReply, status: number, error: string): 'refused' {
  // The body is left unread (onRequest): close the connection, as auth.ts does.
  void reply.code(status).header('connection', 'close').send({ error })
  return 'refused'
}

/**
 * Resolves the session cookie of every request under /api (so handlers and
 * guards can ask `sessionUser`), and returns the guard auth.ts runs when a
 * mutating request has no valid API token.
 */
export function registerSessionAuth (app: FastifyInstance, accounts: AccountStore, registry: Registry, logger: Logger): AuthAlternative {
  const refusals = authRefusals(registry)
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api')) return
    const token = readCookie(header(req.headers.cookie))
    if (token == null) return
    const s = await accounts.sessionFor(token)
    if (s != null) sessions.set(req, s)
  })
  return async (req, reply) => {
    const policy = policyOf(req)
    if (policy == null) return 'none'
    const crossSite = crossSiteRefusal({ secFetchSite: header(req.headers['sec-fetch-site']), origin: header(req.headers.origin), host: header(req.headers.host) })
    if (crossSite != null) {
      refusals.inc({ reason: 'csrf' })
      // Whether a live session came along tells an attack on a user from a stray cross-site call.
      logger.info({ route: req.routeOptions.url, method: req.method, why: crossSite, session: sessions.has(req) }, 'cross-site request refused')
      return refuse(reply, 403, `cross-site request refused (${crossSite}); send the API token, or call from this node's own pages`)
    }
    if (policy === 'public') return 'allow'
    const s = sessions.get(req)
    if (s == null) {
      // auth.ts answers: the same 401 (WWW-Authenticate: Bearer) as a route that takes only the token.
      refusals.inc({ reason: 'no_session' })
      return 'none'
    }
    if (policy === 'session') return 'allow'
    const id = (req.params as { id?: unknown }).id
    const owner = typeof id === 'string' ? await accounts.streamOwner(id) : undefined
    if (owner?.owner !== s.username) {
      refusals.inc({ reason: 'not_owner' })
      return refuse(reply, 403, 'not your stream: only its owner or the API token may change it')
    }
    return 'allow'
  }
}
