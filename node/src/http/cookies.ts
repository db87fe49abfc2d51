/** The session cookie, pure: read it from a Cookie header, write the Set-Cookie that sets or clears it. */
import { SESSION_COOKIE } from '../accounts/constants.js'

/** The value of cookie `name` in a Cookie header (the first one), or undefined. Bounded: only a token's characters are taken. */
export function readCookie (header: string | undefined, name = SESSION_COOKIE): string | undefined {
  if (header == null) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined
  }
  return undefined
}

/**
 * Set-Cookie for a session: `HttpOnly` (page scripts never see it),
 * `SameSite=Strict` (not sent on requests started by another site's pages),
 * `Path=/`, expiry as both `Max-Age` and `Expires`, `Secure` when the request
 * came over HTTPS.
 */
export function sessionCookie (token: string, expiresAt: number, now: number, secure: boolean): string {
  const maxAge = Math.max(0, Math.ceil((expiresAt - now) / 1000))
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}; Expires=${new Date(expiresAt).toUTCString()}${secure ? '; Secure' : ''}`
}

/** Set-Cookie that removes the session cookie. */
export function clearSessionCookie (secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${secure ? '; Secure' : ''}`
}
