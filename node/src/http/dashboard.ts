/**
 * The dashboard: the static build of web/ (`@diststream/web`, built by
 * `pnpm build` into web/dist), served at `/` with its client-side routes.
 * Without a build the node still runs, and `/` says clearly what is missing.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

/** Client-side routes of the single-page app: each serves index.html. */
export const DASHBOARD_ROUTES = ['/', '/streams', '/streams/:id', '/network', '/jobs', '/account']

/** web/dist of the installed `@diststream/web`, or undefined if it cannot be found. */
export function dashboardDir (): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@diststream/web/package.json')), 'dist')
  } catch {
    // @diststream/web not installed: the caller serves the "not built" page
    return undefined
  }
}

const missingPage = (dir: string | undefined): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DistStream: dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:4rem auto;max-width:40rem;padding:0 1rem;color:#e6e8ef;background:#0f1117}code{background:#23262f;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>Dashboard assets are missing</h1>
<p>This node runs, but the dashboard was not built${dir != null ? ` (no <code>${dir.replace(/[&<>"']/g, '')}/index.html</code>)` : ''}.
Run <code>pnpm build</code> in the repository (it builds <code>web/</code> with Vite), then restart the node.</p>
<p>The JSON API works without it: <a href="/api/node" style="color:#8ab4ff">/api/node</a>.</p></body></html>`

export async function registerDashboard (app: FastifyInstance, logger: Logger, dir = dashboardDir()): Promise<void> {
  const index = dir != null ? join(dir, 'index.html') : undefined
  if (index == null || !existsSync(index)) {
    logger.warn({ dir }, 'dashboard assets missing: run `pnpm build` to build web/; / answers 503 until then')
    for (const route of DASHBOARD_ROUTES) {
      app.get(route, async (_req, reply) => {
        void reply.code(503).type('text/html; charset=utf-8')
        return missingPage(dir)
      })
    }
    return
  }
  const html = await readFile(index, 'utf8')
  const { default: fastifyStatic } = await import('@fastify/static')
  // Hashed assets under /assets/ are immutable; index.html is always revalidated.
  await app.register(fastifyStatic, {
    root: join(dir!, 'assets'),
    prefix: '/assets/',
    wildcard: true,
    index: false,
    immutable: true,
    maxAge: '365d'
  })
  for (const route of DASHBOARD_ROUTES) {
    app.get(route, async (_req, reply) => {
      void reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache')
      return html
    })
  }
}
