import Fastify from 'fastify'
import { registerDashboard } from './dashboard.js'
import { registerEventRoutes } from './events.js'
import { registerNodeRoutes } from './node-routes.js'
import { registerStreamRoutes } from './stream-routes.js'
import { registerLiveRoutes } from './live-routes.js'
import { registerApiAuth } from './auth.js'
import { registerUploadRoutes } from './upload-routes.js'
import type { DistNode } from '../node.js'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'

export class HttpError extends Error {
  constructor (readonly statusCode: number, message: string) {
    super(message)
  }
}

/** The node's HTTP server: API, HLS, metrics and dashboard, for the roles it has. */
export async function startHttp (node: DistNode, version: string): Promise<{ app: FastifyInstance, url: string }> {
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
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode ?? (err.name === 'NotFoundError' || err.name === 'StreamNotFoundError' ? 404 : 500)
    if (status >= 500) node.logger.error({ err }, 'HTTP handler failed')
    void reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message })
  })
  app.setNotFoundHandler((_req, reply) => { void reply.code(404).send({ error: 'not found' }) })
  registerApiAuth(app, node.apiToken)
  registerNodeRoutes(app, node, version)
  registerStreamRoutes(app, node)
  registerUploadRoutes(app, node)
  registerLiveRoutes(app, node)
  registerEventRoutes(app, node, version)
  await registerDashboard(app, node.logger)
  const { httpHost, httpPort } = node.config
  await app.listen({ host: httpHost, port: httpPort })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : httpPort
  const host = httpHost === '0.0.0.0' || httpHost === '::' ? '127.0.0.1' : httpHost
  return { app, url: `http://${host}:${port}` }
}
