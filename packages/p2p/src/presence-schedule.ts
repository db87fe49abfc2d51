import { PRESENCE_DISCONNECTED_EXPIRY_MS, PRESENCE_EXPIRY_MS, PRESENCE_KEEPALIVE_MS, PRESENCE_MIN_GAP_MS } from './constants.js'

export interface PresenceTiming {
  minGapMs: number
  keepAliveMs: number
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { minGapMs: PRESENCE_MIN_GAP_MS, keepAliveMs: PRESENCE_KEEPALIVE_MS }

/**
 * When a node announces its presence next (pure): at once the first time;
 * when its state changed or a newcomer asked (`urgent`), as soon as the rate
 * bound allows; otherwise on the keep-alive.
 */
export function nextPresenceAt (s: { lastAt?: number, urgent: boolean }, timing: PresenceTiming = DEFAULT_PRESENCE_TIMING): number {
  if (s.lastAt == null) return 0
  return s.lastAt + (s.urgent ? timing.minGapMs : timing.keepAliveMs)
}

/**
 * Whether a peer of the presence table is forgotten (pure): not heard from for
 * `expiryMs`, or disconnected (after we held a connection to it) for
 * `disconnectedExpiryMs` without a word since.
 */
export function presenceExpired (p: { lastSeen: number, disconnectedAt?: number }, now: number, opts: { expiryMs?: number, disconnectedExpiryMs?: number } = {}): boolean {
  if (now - p.lastSeen >= (opts.expiryMs ?? PRESENCE_EXPIRY_MS)) return true
  return p.disconnectedAt != null && p.disconnectedAt >= p.lastSeen && now - p.disconnectedAt >= (opts.disconnectedExpiryMs ?? PRESENCE_DISCONNECTED_EXPIRY_MS)
}
