/**
 * Cross-site request refusal for requests that are not authenticated by the
 * API token (cookie-authenticated mutations, and login/registration so a
 * page cannot log a visitor into an attacker's account). Pure.
 *
 * Why Fetch Metadata and Origin, not a double-submit token: the browser
 * itself says where a request comes from. `Sec-Fetch-Site` (every current
 * browser) must be `same-origin` (or `none`: typed by the user); without it,
 * `Origin` (sent on every cross-origin POST/DELETE by browsers too old for
 * Fetch Metadata) must name this very host. A request with neither comes
 * from a non-browser client, which holds no victim's cookies. Nothing for
 * the page to fetch, store or echo, and it refuses *same-site* pages too
 * (another port or subdomain): `SameSite` cookies alone would let those
 * through, since a site is the scheme and registrable domain, not the port.
 * The same algorithm as Go 1.25's `http.CrossOriginProtection`.
 */
export interface RequestOrigin {
  /** `Sec-Fetch-Site` */
  secFetchSite?: string
  /** `Origin` */
  origin?: string
  /** `Host` */
  host?: string
}

/** Why the request is refused as cross-site, or undefined when it may proceed. */
export function crossSiteRefusal (h: RequestOrigin): string | undefined {
  if (h.secFetchSite != null) {
    if (h.secFetchSite === 'same-origin' || h.secFetchSite === 'none') return undefined
    return `Sec-Fetch-Site: ${h.secFetchSite.slice(0, 32)}`
  }
  if (h.origin == null) return undefined
  let host: string
  try {
    host = new URL(h.origin).host
  } catch {
    return 'Origin is not a URL' // includes "null" (sandboxed frames, some redirects)
  }
  return h.host != null && host === h.host.toLowerCase() ? undefined : 'Origin is another host'
}
