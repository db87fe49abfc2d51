/**
 * The HTTP layer's one error idiom. A handler throws an {@link HttpError} (or
 * any error carrying a `statusCode`, as the role packages' errors do); the
 * server's error handler answers with {@link httpStatusOf}. A status is never
 * chosen by comparing error names.
 */

/** An error that is an HTTP answer: its status and a message safe to show the client. */
export class HttpError extends Error {
  static readonly NAME = 'HttpError'
  override name = HttpError.NAME

  constructor (readonly statusCode: number, message: string) {
    super(message)
  }
}

/** Whether `n` is a status an HTTP answer can carry (100..599). */
function isHttpStatus (n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599
}

/** `err.statusCode` when it is a valid HTTP status, else `fallback` (500: an unexpected failure). */
export function httpStatusOf (err: unknown, fallback = 500): number {
  const status = (err as { statusCode?: unknown } | null | undefined)?.statusCode
  return isHttpStatus(status) ? status : fallback
}
