import { PRESENCE_DISCONNECTED_EXPIRY_MS, PRESENCE_EXPIRY_MARGIN_MS, PRESENCE_KEEPALIVE_MS, PRESENCE_MIN_GAP_MS, PRESENCE_NETWORK_BUDGET_PER_S } from './constants.js'

export interface PresenceTiming {
  minGapMs: number
  /** The shortest keep-alive. */
  keepAliveMs: number
  /** Keep-alives a second, the whole network together. */
  networkBudgetPerS: number
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { minGapMs: PRESENCE_MIN_GAP_MS, keepAliveMs: PRESENCE_KEEPALIVE_MS, networkBudgetPerS: PRESENCE_NETWORK_BUDGET_PER_S }

/** The keep-alive interval in a network of `knownPeers` others (pure): the whole network's keep-alives within the budget. */
export function presenceKeepAliveMs (knownPeers: number, timing: PresenceTiming = DEFAULT_PRESENCE_TIMING): number {
  return Math.max(timing.keepAliveMs, Math.round((knownPeers + 1) * 1000 / timing.networkBudgetPerS))
}

/** How long a silent peer is kept (pure): three keep-alives and a margin. */
export function presenceExpiryMs (knownPeers: number, timing: PresenceTiming = DEFAULT_PRESENCE_TIMING): number {
  return 3 * presenceKeepAliveMs(knownPeers, timing) + PRESENCE_EXPIRY_MARGIN_MS
}

/**
 * When a node announces its presence next (pure): at once the first time;
 * when its state changed or a newcomer asked (`urgent`), as soon as the rate
 * bound allows; otherwise on the keep-alive.
 */
export function nextPresenceAt (s: { lastAt?: number, urgent: boolean, knownPeers: number }, timing: PresenceTiming = DEFAULT_PRESENCE_TIMING): number {
  if (s.lastAt == null) return 0
  return s.lastAt + (s.urgent ? timing.minGapMs : presenceKeepAliveMs(s.knownPeers, timing))
}

/**
 * Whether a peer of the presence table is forgotten (pure): not heard from for
 * `expiryMs`, or disconnected (after we held a connection to it) for
 * `disconnectedExpiryMs` without a word since.
 */
export function presenceExpired (p: { lastSeen: number, disconnectedAt?: number }, now: number, opts: { expiryMs?: number, disconnectedExpiryMs?: number } = {}): boolean {
  if (now - p.lastSeen >= (opts.expiryMs ?? presenceExpiryMs(0))) return true
  return p.disconnectedAt != null && p.disconnectedAt >= p.lastSeen && now - p.disconnectedAt >= (opts.disconnectedExpiryMs ?? PRESENCE_DISCONNECTED_EXPIRY_MS)
}
