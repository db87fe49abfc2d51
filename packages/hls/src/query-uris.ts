/**
 * Adding a query parameter to every URI a playlist or manifest lists, so a
 * player that was given one URL (a private stream's `?token=`) carries it to
 * every playlist, init and segment it fetches from there on: players resolve
 * relative URIs against the playlist's URL and drop its query. Pure.
 */

function append (uri: string, param: string): string {
  if (uri === '' || uri.startsWith('data:')) return uri
  const hash = uri.indexOf('#')
  const base = hash >= 0 ? uri.slice(0, hash) : uri
  const frag = hash >= 0 ? uri.slice(hash) : ''
  return `${base}${base.includes('?') ? '&' : '?'}${param}${frag}`
}

/** `name=value`, percent-encoded. */
function pair (name: string, value: string): string {
  return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`
}

/**
 * An HLS playlist (master or media) with `name=value` added to every URI:
 * URI lines, and every `URI="…"` attribute of a tag (EXT-X-MAP, EXT-X-MEDIA,
 * EXT-X-I-FRAME-STREAM-INF, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT, EXT-X-KEY …).
 */
export function hlsWithQuery (body: string, name: string, value: string): string {
  const q = pair(name, value)
  return body.split('\n').map(line => {
    const l = line.replace(/\r$/, '')
    if (l.trim() === '') return line
    if (l.startsWith('#')) return line.replace(/\bURI="([^"]*)"/g, (_m, uri: string) => `URI="${append(uri, q)}"`)
    return line.replace(l, append(l, q))
  }).join('\n')
}

/**
 * A DASH manifest with `name=value` added to every URL it carries:
 * SegmentTemplate `media` / `initialization`, `sourceURL`, and `<BaseURL>`
 * (XML: the separator is written `&amp;`).
 */
export function dashWithQuery (body: string, name: string, value: string): string {
  const q = pair(name, value)
  const xmlAppend = (uri: string): string => append(uri.replaceAll('&amp;', '&'), q).replaceAll('&', '&amp;')
  return body
    .replace(/\b(media|initialization|sourceURL)="([^"]*)"/g, (_m, attr: string, uri: string) => `${attr}="${xmlAppend(uri)}"`)
    .replace(/<BaseURL>([^<]*)<\/BaseURL>/g, (_m, uri: string) => uri.endsWith('/') ? `<BaseURL>${uri}</BaseURL>` : `<BaseURL>${xmlAppend(uri)}</BaseURL>`)
}
