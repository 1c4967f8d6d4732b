/**
 * Typed Bitrix24 failures. Classification is by the `error` CODE of the body, never by the HTTP
 * status alone: the docs and the platform source disagree on the status of several codes
 * (docs/bitrix24.md §2 "conflict" rows), and some answers arrive as HTML or empty bodies.
 * Messages are built from the method name, the code and a redacted description only.
 */

export interface Bitrix24ErrorOptions {
  readonly code: string;
  readonly method: string;
  readonly description?: string | undefined;
  readonly status?: number | undefined;
  readonly cause?: unknown | undefined;
}

export abstract class Bitrix24Error extends Error {
  readonly code: string;
  readonly method: string;
  readonly status: number | undefined;
  /** Whether the same request may succeed when repeated (after a wait). */
  abstract readonly retryable: boolean;

  constructor(options: Bitrix24ErrorOptions) {
    const description = options.description ? `: ${options.description}` : '';
    const status = options.status === undefined ? '' : ` (HTTP ${options.status})`;
    super(
      `${options.method} failed with ${options.code}${status}${description}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = options.code;
    this.method = options.method;
    this.status = options.status;
  }
}

/** 503 `QUERY_LIMIT_EXCEEDED`: the portal's leaky bucket is full (docs/bitrix24.md §7). */
export class Bitrix24RateLimitError extends Bitrix24Error {
  override readonly name = 'Bitrix24RateLimitError';
  readonly retryable = true;
}

/**
 * 429 `OPERATION_TIME_LIMIT`: the method's execution budget is spent until `resetAt`
 * (docs/bitrix24.md §7).
 */
export class Bitrix24OperationLimitError extends Bitrix24Error {
  override readonly name = 'Bitrix24OperationLimitError';
  readonly retryable = true;
  /** `time.operating_reset_at` of this answer or of the last success, when known. */
  readonly resetAt: Date | undefined;

  constructor(options: Bitrix24ErrorOptions & { readonly resetAt?: Date | undefined }) {
    super(options);
    this.resetAt = options.resetAt;
  }
}

/** The credentials or the portal are unusable: nothing on this portal can be read until fixed. */
export class Bitrix24AuthError extends Bitrix24Error {
  override readonly name = 'Bitrix24AuthError';
  readonly retryable = false;
}

/**
 * `ACCESS_ERROR`: this chat refuses this method for this user (e.g. general chat,
 * docs/bitrix24.md §4).
 */
export class Bitrix24AccessError extends Bitrix24Error {
  override readonly name = 'Bitrix24AccessError';
  readonly retryable = false;
}

/** The request itself is wrong (bad parameters, unknown method, batch misuse). */
export class Bitrix24InvalidRequestError extends Bitrix24Error {
  override readonly name = 'Bitrix24InvalidRequestError';
  readonly retryable = false;
}

/** Network failure, timeout, 5xx, or a body that is not the JSON envelope (HTML, empty). */
export class Bitrix24TransportError extends Bitrix24Error {
  override readonly name = 'Bitrix24TransportError';
  readonly retryable = true;
}

/** A JSON body that does not match the envelope or the method's result schema. */
export class Bitrix24MalformedResponseError extends Bitrix24Error {
  override readonly name = 'Bitrix24MalformedResponseError';
  readonly retryable = false;
}

/**
 * `DEADLINE_EXCEEDED`: the next wait or request could not end by the caller's deadline, so the
 * call gave up at once without sending. Retryable: the work comes back in a later invocation.
 */
export class Bitrix24DeadlineError extends Bitrix24Error {
  override readonly name = 'Bitrix24DeadlineError';
  readonly retryable = true;
}

/** The client was configured in a way that would leak secrets or cannot work (e.g. plain HTTP). */
export class Bitrix24ConfigurationError extends Bitrix24Error {
  override readonly name = 'Bitrix24ConfigurationError';
  readonly retryable = false;
}

/**
 * Codes that mean "these credentials or this portal cannot be used" (docs/bitrix24.md §2).
 * Upper-cased for lookup: Bitrix24 mixes `expired_token` and `NO_AUTH_FOUND` styles.
 * `INVALID_REQUEST` comes only from the auth check ("Https required.").
 */
const AUTH_CODES = new Set([
  'NO_AUTH_FOUND',
  'INVALID_CREDENTIALS',
  'EXPIRED_TOKEN',
  'INVALID_TOKEN',
  'INVALID_GRANT',
  'INVALID_CLIENT',
  'INVALID_SCOPE',
  'INSUFFICIENT_SCOPE',
  'USER_ACCESS_ERROR',
  'ACCESS_DENIED',
  'PORTAL_DELETED',
  'PAYMENT_REQUIRED',
  'OVERLOAD_LIMIT',
  'WRONG_AUTH_TYPE',
  'AUTHORIZATION_ERROR',
  'AUTHORIZE_ERROR',
  'APPLICATION_NOT_FOUND',
  'METHOD_CONFIRM_WAITING',
  'INVALID_REQUEST',
]);

/** Server-side failures worth repeating (docs status 500). */
const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'ERROR_UNEXPECTED_ANSWER']);

export interface ClassifyContext {
  readonly method: string;
  readonly status?: number | undefined;
  readonly description?: string | undefined;
  readonly resetAt?: Date | undefined;
}

/** Maps a Bitrix24 `error` code to its class. Unknown codes: 5xx → transport, else invalid request. */
export function classifyError(code: string, context: ClassifyContext): Bitrix24Error {
  const options = {
    code,
    method: context.method,
    description: context.description,
    status: context.status,
  };
  const key = code.toUpperCase();
  if (key === 'QUERY_LIMIT_EXCEEDED') return new Bitrix24RateLimitError(options);
  if (key === 'OPERATION_TIME_LIMIT') {
    return new Bitrix24OperationLimitError({ ...options, resetAt: context.resetAt });
  }
  if (AUTH_CODES.has(key)) return new Bitrix24AuthError(options);
  if (key === 'ACCESS_ERROR') return new Bitrix24AccessError(options);
  if (TRANSIENT_CODES.has(key)) return new Bitrix24TransportError(options);
  if (context.status !== undefined && context.status >= 500) {
    return new Bitrix24TransportError(options);
  }
  return new Bitrix24InvalidRequestError(options);
}

/** Errors after which no other call on the same portal can succeed: callers must stop, not skip. */
export function isPortalFatal(
  error: unknown,
): error is Bitrix24AuthError | Bitrix24ConfigurationError {
  return error instanceof Bitrix24AuthError || error instanceof Bitrix24ConfigurationError;
}
