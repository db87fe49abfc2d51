/**
 * Ordered start and stop for the composition root: what started is stopped
 * in reverse, when the node stops and when a later start fails (mediamtx's
 * `closeResources` after a failed `createResources`).
 */
import type { Startable } from '@libp2p/interface'
import type { Logger } from 'pino'

/** Something running that the node must stop. */
interface Part { name: string, stop: () => void | Promise<void> }

export class StartedParts {
  readonly #parts: Part[] = []
  #stopping?: Promise<void>

  constructor (private readonly logger: Logger) {}

  /** Starts `part`, and remembers it once started. */
  async start (name: string, part: Pick<Startable, 'start' | 'stop'>): Promise<void> {
    await part.start()
    this.#parts.push({ name, stop: async () => { await part.stop() } })
  }

  /** Remembers something its factory already started (libp2p, the store, the HTTP server). */
  running (name: string, stop: () => void | Promise<void>): void {
    this.#parts.push({ name, stop })
  }

  /** Names of what runs now, in start order. */
  get names (): string[] { return this.#parts.map(p => p.name) }

  /** Stops everything, newest first, each even if an earlier one failed (logged); once. */
  async stopAll (): Promise<void> {
    this.#stopping ??= (async () => {
      for (let part = this.#parts.pop(); part != null; part = this.#parts.pop()) {
        try {
          await part.stop()
        } catch (err) {
          this.logger.warn({ err, part: part.name }, 'stop failed')
        }
      }
    })()
    await this.#stopping
  }
}

/** Whether a role runs: `isStarted()` where it has one (`Startable`), else its `ready` flag. */
export function isUp (role: { isStarted?: () => boolean, ready?: boolean }): boolean {
  return role.isStarted?.() ?? role.ready === true
}
