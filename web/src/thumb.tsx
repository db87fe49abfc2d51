/**
 * A stream's thumbnail in the dashboard: `GET /live/:id/thumbnail.jpg` on this
 * node (an edge), refreshed every {@link THUMB_REFRESH_MS} while the stream
 * is live (the edge keeps a thumbnail for 5 s, so this costs it at most one
 * ffmpeg run per stream per refresh); a placeholder while there is no
 * picture yet (503) or on a node that is not an edge.
 */
import { useState } from 'preact/hooks'
import type { JSX } from 'preact'

/** How often a live stream's thumbnail is fetched again. */
export const THUMB_REFRESH_MS = 10_000

export function Thumb ({ id, live, enabled }: { id: string, live: boolean, enabled: boolean }): JSX.Element {
  // A new URL every refresh for a live stream (the browser would keep the old picture for max-age otherwise).
  const bucket = live ? Math.floor(Date.now() / THUMB_REFRESH_MS) : 0
  const src = `/live/${id}/thumbnail.jpg${live ? `?t=${bucket}` : ''}`
  const [failed, setFailed] = useState<string | undefined>()
  if (!enabled || failed === src) return <span class='thumb thumb-none' aria-hidden='true' />
  return <img class='thumb' src={src} alt='' width={96} height={54} loading='lazy' decoding='async' data-testid='thumbnail' onError={() => { setFailed(src) }} />
}
