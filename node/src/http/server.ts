import Fastify from 'fastify'
import { registerDashboard } from './dashboard.js'
import { httpStatusOf } from './errors.js'
import { registerEventRoutes } from './events.js'
import { registerNodeRoutes } from './node-routes.js'
import { registerStreamRoutes } from './stream-routes.js'
import { registerLiveRoutes } from './live-routes.js'
import { registerThumbnailRoutes } from './thumbnail-routes.js'
import { registerApiAuth } from './auth.js'
import { registerAccounts } from './accounts.js'
import { registerUploadRoutes } from './upload-routes.js'
import { registerRestreamRoutes } from './restream-routes.js'
import { registerChatRoutes } from './chat-routes.js'
import { registerDirectoryRoutes } from './directory-routes.js'
import { registerWhipRoutes } from './whip-routes.js'
import { registerPrivatePlayback } from './private-playback.js'
import { registerTokenRoutes } from './token-routes.js'
import type { HttpContext } from './context.js'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'

export { HttpError, httpStatusOf } from './errors.js'
export type { HttpContext } from './context.js'

/** The node's HTTP server, listening: API, HLS, metrics and dashboard, for the roles it has. */
export interface HttpServer {
  app: FastifyInstance
  /** Base URL clients on this host can use (loopback for a wildcard bind). */
  url: string
  port: number
}

/** Builds the server with every route for `ctx`'s roles (not listening yet). */
export async function buildHttp (ctx: HttpContext): Promise<FastifyInstance> {
  // No type coercion: a JSON body with the wrong types is a 400, not silently converted.
  // removeAdditional: false, so `additionalProperties: false` rejects unknown keys instead of dropping them.
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Bad percent-encoding or an overlong path segment: a 400 in our error format.
    frameworkErrors: (err, _req, reply) => { void (reply as unknown as FastifyReply).code(400).send({ error: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'path segment too long' : 'malformed URL' }) }
  })
  // The status comes from the error's `statusCode` (HttpError, the roles' errors, fastify's own), never from its name.
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = httpStatusOf(err)
    // 503: a bound was reached (a refusal the caller may retry, with its reason), not a failure of ours.
    if (status === 503) {
      void reply.code(503).header('retry-after', '1').send({ error: err.message })
      return
    }
    if (status >= 500) ctx.logger.error({ err }, 'HTTP handler failed')
    void reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message })
  })
  app.setNotFoundHandler((_req, reply) => { void reply.code(404).send({ error: 'not found' }) })
  registerApiAuth(app, ctx.apiToken, registerAccounts(app, ctx))
  registerNodeRoutes(app, ctx)
  registerStreamRoutes(app, ctx)
  registerTokenRoutes(app, ctx)
  registerPrivatePlayback(app, ctx)
  registerUploadRoutes(app, ctx)
  registerRestreamRoutes(app, ctx)
  registerLiveRoutes(app, ctx)
  registerThumbnailRoutes(app, ctx)
  registerEventRoutes(app, ctx)
  registerChatRoutes(app, ctx)
  registerDirectoryRoutes(app, ctx)
  registerWhipRoutes(app, ctx)
  await registerDashboard(app, ctx.logger)
  return app
}

/** Builds the server and listens on the configured host and port; closes it again if it cannot listen. */
export async function startHttp (ctx: HttpContext): Promise<HttpServer> {
  const app = await buildHttp(ctx)
  const { httpHost, httpPort } = ctx.config
  try {
    await app.listen({ host: httpHost, port: httpPort })
  } catch (err) {
    await app.close()
    throw err
  }
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : httpPort
  const host = httpHost === '0.0.0.0' || httpHost === '::' ? '127.0.0.1' : httpHost
  return { app, url: `http://${host}:${port}`, port }
}
