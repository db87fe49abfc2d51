import { nodeInfoView } from './render-views.js'
import type { HttpContext } from './context.js'
import type { NodeInfoView } from './views.js'
import type { FastifyInstance } from 'fastify'

export function registerNodeRoutes (app: FastifyInstance, ctx: HttpContext): void {
  app.get('/healthz', async () => ({ ok: true }))

  // Ready to serve: libp2p started, every role started, the store open. 503 with the reasons otherwise.
  app.get('/readyz', async (_req, reply) => {
    const reasons = ctx.notReady()
    if (reasons.length > 0) void reply.code(503)
    return { ready: reasons.length === 0, reasons }
  })

  app.get('/api/node', async (): Promise<NodeInfoView> => nodeInfoView(ctx))

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', ctx.registry.contentType)
    return await ctx.registry.metrics()
  })
}
