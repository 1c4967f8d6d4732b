import ky, { type KyInstance } from 'ky';
import type { z } from 'zod';
import {
  type BatchCommand,
  type BatchCommandResult,
  type BatchOptions,
  runBatch,
} from './batch.js';
import type {
  Bitrix24Credentials,
  CredentialStore,
  OAuthCredentials,
  RefreshLease,
  TokenPair,
} from './credentials.js';
import { DEFAULT_OAUTH_TOKEN_ENDPOINT } from './credentials.js';
import {
  Bitrix24AuthError,
  Bitrix24ConfigurationError,
  Bitrix24DeadlineError,
  Bitrix24Error,
  Bitrix24InvalidRequestError,
  Bitrix24MalformedResponseError,
  Bitrix24OperationLimitError,
  Bitrix24RateLimitError,
  Bitrix24TransportError,
  classifyError,
} from './errors.js';
import {
  createLeakyBucket,
  DEFAULT_RATE_LIMIT,
  type LeakyBucket,
  type RateLimit,
} from './leaky-bucket.js';
import { createOAuthSession, type Renewal } from './oauth-session.js';
import { createRedactor, sanitizeError } from './redact.js';
import {
  envelopeSchema,
  errorBodySchema,
  type ResponseTime,
  tokenResponseSchema,
} from './schemas.js';

/** The narrow logging surface the client needs (Powertools' Logger fits). */
export interface Bitrix24Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface RetrySettings {
  /** Attempts per call, the first included, for any failure but a 503 (see below). Default 5. */
  readonly maxAttempts?: number;
  /**
   * How long one call keeps retrying 503 `QUERY_LIMIT_EXCEEDED` when no deadline is set (the
   * deadline bounds it otherwise); such answers are paced by the bucket, not counted as
   * attempts. Default 600 000.
   */
  readonly maxRateLimitedMs?: number;
  /** Full-jitter backoff: a random delay in [0, min(maxDelayMs, baseDelayMs·2^(n-1))]. Default 500. */
  readonly baseDelayMs?: number;
  /** Default 30 000. */
  readonly maxDelayMs?: number;
  /** Longest single wait for an `OPERATION_TIME_LIMIT` reset. Default 600 000 (the 10-min window). */
  readonly maxOperationWaitMs?: number;
  /** Wait after `OPERATION_TIME_LIMIT` when no `operating_reset_at` is known. Default 10 000. */
  readonly operationFallbackWaitMs?: number;
}

/** One HTTP attempt against the portal (OAuth refreshes excluded). */
export interface RequestEvent {
  readonly method: string;
  readonly attempt: number;
  /** Undefined when no response arrived (network failure, timeout). */
  readonly status: number | undefined;
  /** Bitrix24 or transport error code; undefined on success. */
  readonly code: string | undefined;
  readonly durationMs: number;
}

export interface Bitrix24ClientOptions {
  readonly credentials: CredentialStore;
  /**
   * Lets one process at a time refresh OAuth tokens when several share the stored pair
   * (`oauth-session.ts`). Without it, only the calls within this client are coordinated.
   */
  readonly refreshLease?: RefreshLease;
  /** Client-side leaky bucket; default 50 burst / 2 per s, all of it (`share` 1). */
  readonly rateLimit?: RateLimit;
  /**
   * A bucket made by the caller, who can then hand its counter between processes
   * (`shared-bucket.ts`). Default: one made from `rateLimit` (then `rateLimit` is ignored here).
   */
  readonly bucket?: LeakyBucket;
  /**
   * Epoch ms by which every call must have returned, asked before each wait and request (one
   * client outlives many Lambda invocations, each with its own deadline). No wait ends after
   * it and each request's timeout is cut to it; a wait or request that cannot end in time fails
   * the call at once with `DEADLINE_EXCEEDED` (retryable). Undefined: no deadline.
   */
  readonly deadlineAt?: () => number | undefined;
  /** Transport for ky (tests: a TLS-trusting fetch). Default: global fetch. */
  readonly fetch?: typeof globalThis.fetch;
  /** Per HTTP attempt, including reading the body. Default 60 000 (the portal's own limit). */
  readonly timeoutMs?: number;
  readonly retry?: RetrySettings;
  readonly logger?: Bitrix24Logger;
  readonly onRequest?: (event: RequestEvent) => void;
  /** Test seams. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Wall clock in ms, compared with `operating_reset_at` and the deadline. */
  readonly now?: () => number;
}

export type RequestParams = Readonly<Record<string, unknown>>;

export interface CallResult<T> {
  readonly result: T;
  readonly total?: number;
  readonly next?: number;
  readonly time: ResponseTime;
}

export interface Bitrix24Client {
  /** One REST call, validated against `schema`; retried per the rules above. Throws {@link Bitrix24Error}. */
  call<T>(method: string, params: RequestParams, schema: z.ZodType<T>): Promise<CallResult<T>>;
  /**
   * Runs commands in `batch` requests of at most 50. Returns one entry per key. Throws only for
   * auth/configuration failures; any other failure of a whole request fails its commands.
   */
  batch(
    commands: readonly BatchCommand[],
    options?: BatchOptions,
  ): Promise<Map<string, BatchCommandResult>>;
  /** HTTP requests sent to the portal so far, retries included, OAuth refreshes excluded. */
  requestCount(): number;
  /** Of those, the ones the portal refused with 503 `QUERY_LIMIT_EXCEEDED`. */
  rateLimitedCount(): number;
}

const TOKEN_EXPIRY_CODES = new Set(['EXPIRED_TOKEN', 'INVALID_TOKEN']);
/**
 * The least time a request is given before a deadline: a wait that would leave less fails the
 * call at once rather than send a request bound to be cut off.
 */
export const MIN_REQUEST_MS = 1_000;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createBitrix24Client(options: Bitrix24ClientOptions): Bitrix24Client {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxAttempts = options.retry?.maxAttempts ?? 5;
  const maxRateLimitedMs = options.retry?.maxRateLimitedMs ?? 600_000;
  const baseDelayMs = options.retry?.baseDelayMs ?? 500;
  const maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
  const maxOperationWaitMs = options.retry?.maxOperationWaitMs ?? 600_000;
  const operationFallbackWaitMs = options.retry?.operationFallbackWaitMs ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const bucket =
    options.bucket ?? createLeakyBucket(bucketLimit(options.rateLimit ?? DEFAULT_RATE_LIMIT));

  let requests = 0;
  let rateLimited = 0;
  /**
   * Last known `operating_reset_at` (ms) per method, from successes and 429s
   * (docs/bitrix24-rate-limits.md).
   */
  const resetAtByMethod = new Map<string, number>();
  /** Methods blocked by a 429 until this time (ms); other calls of that method wait too. */
  const blockedUntil = new Map<string, number>();
  const kyByBase = new Map<string, KyInstance>();

  /** Every secret this client has held, old tokens included: they stay secret after a refresh. */
  const secrets = new Set<string>();
  const scrub = createRedactor(() => [...secrets]);

  function http(base: string): KyInstance {
    let instance = kyByBase.get(base);
    if (!instance) {
      // retry: 0 — retries are classified by Bitrix24 error code below, which ky cannot see.
      // timeout: false — ky 1.x's timeout ends at the headers; ours also covers the body.
      // redirect: 'manual' — fetch would follow a 307/308 with the body (OAuth token) and the
      // webhook path to any host, plain HTTP included; a redirect is reported instead.
      instance = ky.create({
        prefixUrl: base,
        retry: 0,
        timeout: false,
        throwHttpErrors: false,
        redirect: 'manual',
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      kyByBase.set(base, instance);
    }
    return instance;
  }

  function remember(creds: Bitrix24Credentials): void {
    for (const secret of secretsOf(creds)) secrets.add(secret);
  }

  /** Ms left until the deadline, or undefined without one. */
  function timeLeft(): number | undefined {
    const deadline = options.deadlineAt?.();
    return deadline === undefined ? undefined : deadline - now();
  }

  function deadlineExceeded(method: string, what: string): Bitrix24DeadlineError {
    return new Bitrix24DeadlineError({
      code: 'DEADLINE_EXCEEDED',
      method,
      description: `${what} would not end by the deadline`,
    });
  }

  /** Sleeps `ms`, or fails at once when that would leave a request no time before the deadline. */
  async function wait(ms: number, method: string, what: string): Promise<void> {
    const left = timeLeft();
    if (left !== undefined && ms > left - MIN_REQUEST_MS) throw deadlineExceeded(method, what);
    if (ms > 0) await sleep(ms);
  }

  const session = createOAuthSession({
    store: options.credentials,
    ...(options.refreshLease ? { lease: options.refreshLease } : {}),
    exchange: exchangeRefreshToken,
    exchangeTimeoutMs: timeoutMs,
    accept: (creds) => {
      remember(creds);
      checkCredentials(creds);
    },
    ...(logger ? { logger } : {}),
    ...(options.deadlineAt ? { deadlineAt: options.deadlineAt } : {}),
    sleep,
    now,
    random,
  });

  async function send(
    method: string,
    params: RequestParams,
    creds: Bitrix24Credentials,
    attempt: number,
  ): Promise<z.infer<typeof envelopeSchema>> {
    const before = timeLeft();
    const slot = bucket.reserve(before === undefined ? undefined : before - MIN_REQUEST_MS);
    if (!slot) throw deadlineExceeded(method, 'the wait for the rate limit');
    if (slot.waitMs > 0) await sleep(slot.waitMs);
    const left = timeLeft();
    if (left !== undefined && left < MIN_REQUEST_MS) throw deadlineExceeded(method, 'the request');
    // The deadline, when nearer than the timeout, cuts the request short.
    const limitMs = left === undefined ? timeoutMs : Math.min(timeoutMs, left);
    const base = creds.kind === 'webhook' ? creds.webhookUrl : creds.clientEndpoint;
    const json = creds.kind === 'webhook' ? params : { ...params, auth: creds.accessToken };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limitMs);
    const started = performance.now();
    let status: number | undefined;
    let code: string | undefined;
    requests += 1;
    try {
      let text: string;
      let contentType: string;
      let location: string | null;
      try {
        const response = await http(base).post(method, { json, signal: controller.signal });
        status = response.status;
        contentType = response.headers.get('content-type') ?? 'none';
        location = response.headers.get('location');
        text = await response.text();
      } catch (error) {
        if (timedOut && limitMs < timeoutMs) {
          code = 'DEADLINE_EXCEEDED';
          throw deadlineExceeded(method, 'the request');
        }
        code = timedOut ? 'TIMEOUT' : 'NETWORK_ERROR';
        throw new Bitrix24TransportError({
          code,
          method,
          description: timedOut
            ? `no complete answer within ${timeoutMs} ms`
            : scrub(describeNetworkError(error)),
          cause: sanitizeError(error, scrub),
        });
      }
      if (status >= 300 && status < 400) {
        // The PHP SDK reads a 302 as "the portal's domain changed": no call here can succeed
        // until the configured URL is updated.
        code = 'REDIRECT';
        throw new Bitrix24ConfigurationError({
          code,
          method,
          status,
          description: scrub(`the portal redirects to ${originOf(location, base)}; update its URL`),
        });
      }
      const body = parseJson(text);
      if (body === undefined) {
        code = text.trim() === '' ? 'EMPTY_BODY' : 'NON_JSON_BODY';
        throw new Bitrix24TransportError({
          code,
          method,
          status,
          description: `content-type ${scrub(contentType)}`,
        });
      }
      const errorBody = errorBodySchema.safeParse(body);
      if (errorBody.success) {
        code = errorBody.data.error;
        const resetAt = resetAtOf(body) ?? resetAtByMethod.get(method);
        throw classifyError(code, {
          method,
          status,
          description: scrub(errorBody.data.error_description ?? ''),
          ...(resetAt === undefined ? {} : { resetAt: new Date(resetAt) }),
        });
      }
      if (status < 200 || status >= 300) {
        code = `HTTP_${status}`;
        const failure = { code, method, status, description: 'JSON body without an error code' };
        throw status >= 500
          ? new Bitrix24TransportError(failure)
          : new Bitrix24InvalidRequestError(failure);
      }
      const envelope = envelopeSchema.safeParse(body);
      if (!envelope.success) {
        code = 'MALFORMED_RESPONSE';
        throw new Bitrix24MalformedResponseError({
          code,
          method,
          status,
          description: `envelope: ${scrub(envelope.error.issues.map(describeIssue).join('; '))}`,
        });
      }
      return envelope.data;
    } finally {
      clearTimeout(timer);
      if (code?.toUpperCase() === RATE_LIMIT_CODE) {
        rateLimited += 1;
        bucket.rateLimited(slot);
      } else if (status !== undefined) {
        bucket.admitted();
      }
      const event = { method, attempt, status, code, durationMs: performance.now() - started };
      logger?.debug('Bitrix24 request', { ...event, durationMs: Math.round(event.durationMs) });
      options.onRequest?.(event);
    }
  }

  /** The token endpoint exchange; using and storing the pair (redactable first) is the session's job. */
  async function exchangeRefreshToken(current: OAuthCredentials): Promise<TokenPair> {
    const endpoint = current.tokenEndpoint ?? DEFAULT_OAUTH_TOKEN_ENDPOINT;
    const method = 'oauth.token.refresh';
    let text: string;
    let status: number;
    try {
      // Form POST, as the JS SDK does (docs/bitrix24.md §1): keeps the secrets out of the URL.
      const response = await ky.post(endpoint, {
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: current.clientId,
          client_secret: current.clientSecret,
          refresh_token: current.refreshToken,
        }),
        retry: 0,
        // As for REST calls: a signal, not ky's timeout, so that reading the body is covered too.
        timeout: false,
        signal: AbortSignal.timeout(timeoutMs),
        throwHttpErrors: false,
        redirect: 'manual',
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new Bitrix24TransportError({
        code: 'NETWORK_ERROR',
        method,
        description: scrub(describeNetworkError(error)),
        cause: sanitizeError(error, scrub),
      });
    }
    const body = parseJson(text);
    const errorBody = errorBodySchema.safeParse(body);
    if (errorBody.success) {
      // Any refresh refusal (invalid_grant, invalid_client...) means re-authorisation is needed.
      throw new Bitrix24AuthError({
        code: errorBody.data.error,
        method,
        status,
        description: scrub(errorBody.data.error_description ?? ''),
      });
    }
    const tokens = tokenResponseSchema.safeParse(body);
    if (!tokens.success) {
      throw body === undefined || status >= 500
        ? new Bitrix24TransportError({ code: `HTTP_${status}`, method, status })
        : new Bitrix24MalformedResponseError({ code: 'MALFORMED_RESPONSE', method, status });
    }
    return {
      accessToken: tokens.data.access_token,
      refreshToken: tokens.data.refresh_token,
      ...(tokens.data.expires === undefined
        ? {}
        : { expiresAt: new Date(tokens.data.expires * 1000).toISOString() }),
    };
  }

  async function waitIfBlocked(method: string): Promise<void> {
    const until = blockedUntil.get(method);
    if (until === undefined) return;
    const ms = until - now();
    if (ms <= 0) {
      blockedUntil.delete(method);
      return;
    }
    await wait(Math.min(ms, maxOperationWaitMs), method, 'the wait for the operating limit');
  }

  function retryDelay(failure: Bitrix24Error, attempt: number): number {
    const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    if (failure instanceof Bitrix24OperationLimitError) {
      const resetAt = failure.resetAt?.getTime();
      const ahead = resetAt === undefined ? undefined : resetAt - now();
      // The first retry belongs at operating_reset_at (docs/bitrix24-rate-limits.md); a small
      // margin covers clock skew.
      // A reset time already past (from an earlier success) says nothing about when the budget
      // frees ("wait for the next basket reset"): the fallback wait, never an instant retry.
      const wait = ahead === undefined || ahead <= 0 ? operationFallbackWaitMs : ahead + 250;
      const capped = Math.max(0, Math.min(wait, maxOperationWaitMs));
      blockedUntil.set(failure.method, now() + capped);
      return capped;
    }
    return backoff;
  }

  async function call<T>(
    method: string,
    params: RequestParams,
    schema: z.ZodType<T>,
  ): Promise<CallResult<T>> {
    const startedAt = now();
    const renewals: Renewal[] = [];
    // `attempt` counts failures other than 503 QUERY_LIMIT_EXCEEDED, which the bucket paces
    // and the deadline (or maxRateLimitedMs) bounds; `sent` counts HTTP requests.
    let attempt = 1;
    for (let sent = 1; ; sent += 1) {
      await waitIfBlocked(method);
      const creds = await session.current();
      try {
        const envelope = await send(method, params, creds, sent);
        const resetAt = resetAtOf(envelope);
        if (resetAt !== undefined) resetAtByMethod.set(method, resetAt);
        const parsed = schema.safeParse(envelope.result);
        if (!parsed.success) {
          throw new Bitrix24MalformedResponseError({
            code: 'MALFORMED_RESPONSE',
            method,
            description: `result: ${scrub(parsed.error.issues.map(describeIssue).join('; '))}`,
          });
        }
        return {
          result: parsed.data,
          time: envelope.time,
          ...(envelope.total === undefined ? {} : { total: envelope.total }),
          ...(envelope.next === undefined ? {} : { next: envelope.next }),
        };
      } catch (error) {
        if (!(error instanceof Bitrix24Error)) throw error;
        const failure = error;
        if (
          failure instanceof Bitrix24AuthError &&
          TOKEN_EXPIRY_CODES.has(failure.code.toUpperCase()) &&
          creds.kind === 'oauth' &&
          mayRenew(renewals)
        ) {
          // Refresh only after a 401 expired_token (the JS SDK also on invalid_token), at most
          // once per call; a newer pair found in the store may be tried first
          // (docs/oauth-token-refresh.md).
          renewals.push(await session.renew(creds));
          continue;
        }
        if (failure instanceof Bitrix24DeadlineError) throw failure;
        if (failure instanceof Bitrix24RateLimitError) {
          // The bucket now models the portal as full and slowed down: its wait is the back-off.
          if (options.deadlineAt?.() === undefined && now() - startedAt >= maxRateLimitedMs) {
            throw failure;
          }
          logger?.debug('Bitrix24 call rate-limited; retrying', { method, sent });
          continue;
        }
        if (!failure.retryable || attempt >= maxAttempts) throw failure;
        const delayMs = retryDelay(failure, attempt);
        logger?.warn('Bitrix24 call failed; retrying', {
          method,
          code: failure.code,
          status: failure.status,
          attempt,
          delayMs: Math.round(delayMs),
        });
        await wait(delayMs, method, `the back-off after ${failure.code}`);
        attempt += 1;
      }
    }
  }

  return {
    call,
    batch: (commands, batchOptions) => runBatch(call, commands, batchOptions, scrub),
    requestCount: () => requests,
    rateLimitedCount: () => rateLimited,
  };
}

const RATE_LIMIT_CODE = 'QUERY_LIMIT_EXCEEDED';

/**
 * The bucket this client models: its `share` of the portal's, less {@link headroom}.
 * share 1: 49 of 50 at 2/s; share 0.5: 24 of 25 at 1/s.
 */
export function bucketLimit(limit: RateLimit): { burst: number; drainPerSecond: number } {
  const share = limit.share ?? 1;
  if (!(share > 0 && share <= 1)) throw new RangeError('rate limit share must be in (0, 1]');
  const ours = {
    burst: Math.floor(limit.burst * share),
    drainPerSecond: limit.drainPerSecond * share,
  };
  return { burst: Math.max(1, ours.burst - headroom(ours)), drainPerSecond: ours.drainPerSecond };
}

/**
 * Requests of headroom below the portal's burst. The portal counts arrivals, we count departures:
 * when an early request was slow and a later one fast, the portal's counter runs ahead of ours by
 * `drainPerSecond × (latency difference)`. Reserving a quarter second of drain (at least one
 * request) absorbs that: 1 of 50 at 2/s, 2 of 250 at 5/s.
 */
export function headroom(limit: RateLimit): number {
  return Math.min(limit.burst - 1, Math.max(1, Math.ceil(limit.drainPerSecond * 0.25)));
}

/** A pair adopted from the store may be stale too: then one refresh still follows. */
function mayRenew(renewals: readonly Renewal[]): boolean {
  return renewals.length < 3 && !renewals.includes('refreshed');
}

/** Secret values the redactor must hide wherever they appear. */
function secretsOf(creds: Bitrix24Credentials | undefined): string[] {
  if (!creds) return [];
  if (creds.kind === 'oauth') return [creds.accessToken, creds.refreshToken, creds.clientSecret];
  const code = /\/rest\/\d+\/([^/?#]+)/.exec(creds.webhookUrl)?.[1];
  return code === undefined ? [] : [code];
}

function checkCredentials(creds: Bitrix24Credentials): void {
  if (creds.kind === 'webhook') {
    requireSecureUrl(creds.webhookUrl, 'webhookUrl');
    if (!creds.webhookUrl.endsWith('/')) {
      throw new Bitrix24ConfigurationError({
        code: 'INVALID_URL',
        method: 'configuration',
        description: 'webhookUrl must end with "/"',
      });
    }
    return;
  }
  requireSecureUrl(creds.clientEndpoint, 'clientEndpoint');
  requireSecureUrl(creds.tokenEndpoint ?? DEFAULT_OAUTH_TOKEN_ENDPOINT, 'tokenEndpoint');
}

/**
 * HTTPS everywhere except loopback: webhook codes and tokens travel in every request, and the
 * portal itself rejects plain HTTP with "Https required." (docs/bitrix24.md §1).
 */
function requireSecureUrl(value: string, field: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Bitrix24ConfigurationError({
      code: 'INVALID_URL',
      method: 'configuration',
      description: `${field} is not a URL`,
    });
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  throw new Bitrix24ConfigurationError({
    code: 'INSECURE_URL',
    method: 'configuration',
    description: `${field} must use https (got ${url.protocol}//${url.host})`,
  });
}

export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function resetAtOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const time = (body as { time?: unknown }).time;
  if (typeof time !== 'object' || time === null) return undefined;
  const seconds = (time as { operating_reset_at?: unknown }).operating_reset_at;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/** Only the origin of a redirect target: its path or query may carry anything. */
function originOf(location: string | null, base: string): string {
  if (location === null) return 'an unnamed location';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an invalid location';
  }
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return `${issue.path.join('.') || '(root)'} ${issue.message}`;
}
