/** Route helpers: the role a route needs (404 on a node without it), and header values as one string. */
import { HttpError } from './errors.js'
import type { HttpContext } from './context.js'
import type { Edge } from '@diststream/edge'
import type { Ingest } from '@diststream/ingest'

export function ingestOf (ctx: Pick<HttpContext, 'ingest'>): Ingest {
  if (ctx.ingest == null) throw new HttpError(404, 'this node has no ingest role')
  return ctx.ingest
}

export function edgeOf (ctx: Pick<HttpContext, 'edge'>): Edge {
  if (ctx.edge == null) throw new HttpError(404, 'this node has no edge role')
  return ctx.edge
}

/** A request header as one string (repeated headers joined as HTTP allows), or undefined. */
export const header = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v.join(', ') : v
