/**
 * Live data for the dashboard: `GET /api/events` (server-sent events) and
 * `GET /api/dashboard` (the same snapshot, once). The data and the clients
 * are {@link DashboardFeed}'s (dashboard-feed.ts).
 *
 * Events (each `data:` is one JSON object, typed in views.ts):
 *   - `snapshot` every 2 s (and once on connect, with the recent jobs);
 *   - `job` as the ingest's job ledger changes: `{ kind, job }`
 *     (created | state | bid | attempt-start | attempt-end | evicted).
 */
import { DashboardFeed, MAX_CLIENTS, MAX_CLIENTS_PER_IP } from './dashboard-feed.js'
import { playerRequest } from './viewers.js'
import type { HttpContext } from './context.js'
import type { DashboardSnapshot } from './views.js'
import type { FastifyInstance } from 'fastify'

export function registerEventRoutes (app: FastifyInstance, ctx: HttpContext): DashboardFeed {
  const feed = new DashboardFeed(ctx)

  // Viewers of this edge: distinct clients fetching a stream's HLS or DASH recently (not its thumbnail).
  app.addHook('onResponse', async (req, reply) => {
    const id = playerRequest(req.url, reply.statusCode)
    if (id != null) feed.viewers.seen(id, `${req.ip} ${req.headers['user-agent'] ?? ''}`)
  })

  app.get('/api/dashboard', async (): Promise<DashboardSnapshot> => await feed.snapshot())

  app.get('/api/events', async (req, reply) => {
    const refused = feed.refuse(req.ip)
    if (refused === 'full') {
      void reply.code(503)
      return { error: `too many dashboard clients (${MAX_CLIENTS})` }
    }
    if (refused === 'per_ip') {
      void reply.code(429)
      return { error: `too many dashboard clients from your address (${MAX_CLIENTS_PER_IP})` }
    }
    reply.hijack()
    await feed.attach(reply, req.ip)
  })

  // Before the server closes: open event streams would otherwise keep it open.
  app.addHook('preClose', async () => { feed.close() })
  return feed
}
