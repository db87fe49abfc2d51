/** Wires broadcaster accounts into the server when the node has them (ingest role); returns the session guard for auth.ts. */
import { registerAccountRoutes } from './account-routes.js'
import { registerChannelRoutes } from './channel-routes.js'
import { registerSessionAuth } from './session-auth.js'
import type { AuthAlternative } from './auth.js'
import type { HttpContext } from './context.js'
import type { FastifyInstance } from 'fastify'

export function registerAccounts (app: FastifyInstance, ctx: HttpContext): AuthAlternative | undefined {
  if (ctx.accounts == null) return undefined
  const guard = registerSessionAuth(app, ctx.accounts, ctx.registry, ctx.logger.child({ component: 'accounts' }))
  registerAccountRoutes(app, ctx, ctx.accounts)
  registerChannelRoutes(app, ctx, ctx.accounts)
  return guard
}
