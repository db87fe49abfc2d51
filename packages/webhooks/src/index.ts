/**
 * @packageDocumentation
 *
 * Webhooks: a node POSTs stream events as JSON to the URLs given with
 * `--webhook`, signed with HMAC-SHA256 over the raw body
 * (`X-DistStream-Signature: sha256=<hex>`), retried with exponential backoff
 * on network errors, timeouts, 408, 429 and 5xx, a bounded number of times.
 *
 * @example
 * ```ts
 * const hooks = new WebhookSender({ urls: ['https://example.com/hook'], secret: 's3cret', events: ['stream.started'] })
 * hooks.send('stream.started', { streamId: 'abc' })
 * await hooks.stop()
 * ```
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'

/** Every event type a node can send. `segment.ready` is opt-in (one per segment). */
export const WEBHOOK_EVENTS = ['stream.started', 'stream.ended', 'segment.ready', 'vod.ready'] as const
export type WebhookEventType = typeof WEBHOOK_EVENTS[number]
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = ['stream.started', 'stream.ended', 'vod.ready']

export const SIGNATURE_HEADER = 'x-diststream-signature'
export const TIMESTAMP_HEADER = 'x-diststream-timestamp'
export const EVENT_HEADER = 'x-diststream-event'
export const DELIVERY_HEADER = 'x-diststream-delivery'

/** Payloads, by event type. */
export interface WebhookEventData {
  'stream.started': { streamId: string, name: string, startedAt: string }
  /**
   * `reason`: `unpublished` (the broadcaster disconnected), `refused` (the ingest stopped the publish:
   * `error` says why, e.g. "keyframe interval too long"), `deleted` (DELETE /api/streams/:id) or `stale`.
   */
  'stream.ended': { streamId: string, name: string, endedAt: string, lastSeq: number | null, reason: 'unpublished' | 'refused' | 'deleted' | 'stale', error?: string }
  'segment.ready': { streamId: string, seq: number, durationMs: number, pdtMs: number, renditions: Array<{ name: string, size: number, sha256: string }> }
  /** A stream's VOD playlist is complete and playable. */
  'vod.ready': { streamId: string, name: string, playbackUrl?: string, durationMs: number, segments: number }
}

/** The JSON body of every webhook POST. */
export interface WebhookEvent<T extends WebhookEventType = WebhookEventType> {
  /** Unique per event (the same across retries and receivers): use it to deduplicate. */
  id: string
  type: T
  /** Unix seconds; also in the `X-DistStream-Timestamp` header. Inside the signed body, so it cannot be altered. */
  timestamp: number
  data: WebhookEventData[T]
}

/** `sha256=<hex HMAC-SHA256 of the raw body>` */
export function signWebhook (secret: string, rawBody: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`
}

/** Checks a signature header against the raw body, in constant time. */
export function verifyWebhook (secret: string, rawBody: string | Uint8Array, signature: string | undefined): boolean {
  if (signature == null) return false
  const want = Buffer.from(signWebhook(secret, rawBody))
  const got = Buffer.from(signature)
  return got.length === want.length && timingSafeEqual(got, want)
}

export interface WebhookSenderInit {
  urls: string[]
  /** HMAC key; without one, requests go unsigned. */
  secret?: string
  /** Event types to send (default {@link DEFAULT_WEBHOOK_EVENTS}). */
  events?: readonly WebhookEventType[]
  /** Attempts per event and URL, the first included (default 6). */
  maxAttempts?: number
  /** First retry delay (ms), doubled each retry (default 500). */
  baseDelayMs?: number
  /** Longest retry delay (ms) (default 30 s). */
  maxDelayMs?: number
  /** Per-attempt timeout (ms) (default 10 s). */
  timeoutMs?: number
  /** Deliveries (event × URL) not yet done beyond which new events are dropped (default 1000). */
  maxPending?: number
  /** Called once per delivery when it succeeds, gives up or is dropped. */
  onResult?: (r: { type: WebhookEventType, url: string, outcome: 'delivered' | 'failed' | 'dropped', attempts: number, error?: string }) => void
}

/** Status codes worth retrying: the receiver may be fine a moment later. */
export const isRetryable = (status: number): boolean => status === 408 || status === 429 || status >= 500

/** Delay before retry number `n` (1-based): base × 2^(n-1), capped. */
export const backoffMs = (n: number, baseMs: number, maxMs: number): number => Math.min(maxMs, baseMs * 2 ** (n - 1))

/** Sends events to every URL, each delivery on its own with retries; never blocks the caller. */
export class WebhookSender {
  private readonly events: Set<WebhookEventType>
  private readonly abort = new AbortController()
  private readonly pending = new Set<Promise<void>>()

  constructor (private readonly init: WebhookSenderInit) {
    this.events = new Set(init.events ?? DEFAULT_WEBHOOK_EVENTS)
  }

  /** Whether `type` is sent at all (lets callers skip building payloads). */
  wants (type: WebhookEventType): boolean {
    return this.init.urls.length > 0 && this.events.has(type)
  }

  /** Queues `type` for every URL; returns the event, or undefined when the type is not enabled. */
  send<T extends WebhookEventType> (type: T, data: WebhookEventData[T]): WebhookEvent<T> | undefined {
    if (!this.wants(type) || this.abort.signal.aborted) return undefined
    const event: WebhookEvent<T> = { id: randomUUID(), type, timestamp: Math.floor(Date.now() / 1000), data }
    const body = JSON.stringify(event)
    for (const url of this.init.urls) {
      if (this.pending.size >= (this.init.maxPending ?? 1000)) {
        this.init.onResult?.({ type, url, outcome: 'dropped', attempts: 0, error: 'too many pending deliveries' })
        continue
      }
      const p = this.deliver(url, event, body)
      this.pending.add(p)
      void p.finally(() => this.pending.delete(p))
    }
    return event
  }

  /** Waits for every delivery in flight (tests, graceful shutdown with a deadline). */
  async drain (): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  /** Stops retrying; deliveries in flight are aborted. */
  async stop (): Promise<void> {
    this.abort.abort(new Error('webhook sender stopped'))
    await Promise.allSettled([...this.pending])
  }

  private async deliver (url: string, event: WebhookEvent, body: string): Promise<void> {
    const max = Math.max(1, this.init.maxAttempts ?? 6)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'diststream-webhooks/0.1',
      [TIMESTAMP_HEADER]: String(event.timestamp),
      [EVENT_HEADER]: event.type,
      [DELIVERY_HEADER]: event.id
    }
    if (this.init.secret != null && this.init.secret !== '') headers[SIGNATURE_HEADER] = signWebhook(this.init.secret, body)
    let error = 'stopped'
    let attempts = 0
    for (let attempt = 1; attempt <= max; attempt++) {
      if (this.abort.signal.aborted) break
      attempts = attempt
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body,
          redirect: 'error',
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.init.timeoutMs ?? 10_000)])
        })
        await res.body?.cancel().catch(() => { /* the body is discarded either way */ })
        if (res.ok) {
          this.init.onResult?.({ type: event.type, url, outcome: 'delivered', attempts: attempt })
          return
        }
        error = `HTTP ${res.status}`
        if (!isRetryable(res.status)) break
      } catch (err: any) {
        error = String(err?.cause?.code ?? err?.message ?? err)
      }
      if (attempt < max) await this.sleep(backoffMs(attempt, this.init.baseDelayMs ?? 500, this.init.maxDelayMs ?? 30_000))
    }
    this.init.onResult?.({ type: event.type, url, outcome: 'failed', attempts, error })
  }

  private async sleep (ms: number): Promise<void> {
    const signal = this.abort.signal
    await new Promise<void>(resolve => {
      const onAbort = (): void => { clearTimeout(t); resolve() }
      const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}
