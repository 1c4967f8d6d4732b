import type { z } from 'zod';
import { fullJitter } from '../timing/backoff.js';
import { sleep as defaultSleep } from '../timing/sleep.js';
import { runBatch } from './batch.js';
import type {
  Bitrix24Client,
  Bitrix24ClientOptions,
  CallResult,
  RequestParams,
} from './client-types.js';
import type { Bitrix24Credentials } from './credentials.js';
import {
  Bitrix24DeadlineError,
  Bitrix24Error,
  Bitrix24OperationLimitError,
  Bitrix24RateLimitError,
} from './errors.js';
import { bucketLimit, createLeakyBucket, DEFAULT_RATE_LIMIT } from './leaky-bucket.js';
import { createOAuthSession, isTokenExpiry, mayRenew, type Renewal } from './oauth-session.js';
import { createRedactor, secretsOf } from './redact.js';
import { checkCredentialUrls } from './secure-url.js';
import { createTokenExchange } from './token-exchange.js';
import { callResult, createTransport, type TransportAnswer } from './transport.js';

/**
 * The least time a request is given before a deadline: a wait that would leave less fails the
 * call at once rather than send a request bound to be cut off.
 */
export const MIN_REQUEST_MS = 1_000;

/**
 * The Bitrix24 client: each call's attempts, paced by the leaky bucket, retried by error class,
 * held back by `OPERATION_TIME_LIMIT` and bounded by the deadline. One attempt is `transport.ts`;
 * the credentials and their OAuth renewal are `oauth-session.ts`.
 */
export function createBitrix24Client(options: Bitrix24ClientOptions): Bitrix24Client {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxAttempts = options.retry?.maxAttempts ?? 5;
  const maxRateLimitedMs = options.retry?.maxRateLimitedMs ?? 600_000;
  const backoff = {
    base: options.retry?.baseDelayMs ?? 500,
    max: options.retry?.maxDelayMs ?? 30_000,
  };
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

  /** Every secret this client has held, old tokens included: they stay secret after a refresh. */
  const secrets = new Set<string>();
  const scrub = createRedactor(() => [...secrets]);
  const http = { timeoutMs, scrub, fetch: options.fetch };
  const transport = createTransport(http);

  const session = createOAuthSession({
    store: options.credentials,
    lease: options.refreshLease,
    exchange: createTokenExchange({ ...http, timeLeftMs: timeLeft, minRequestMs: MIN_REQUEST_MS }),
    exchangeTimeoutMs: timeoutMs,
    accept: (creds) => {
      for (const secret of secretsOf(creds)) secrets.add(secret);
      checkCredentialUrls(creds);
    },
    logger,
    deadlineAt: options.deadlineAt,
    sleep,
    now,
    random,
  });

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

  /** One attempt: a bucket slot, the request, then the bucket and observers told how it went. */
  async function send(
    method: string,
    params: RequestParams,
    creds: Bitrix24Credentials,
    attempt: number,
  ): Promise<TransportAnswer> {
    const before = timeLeft();
    const slot = bucket.reserve(before === undefined ? undefined : before - MIN_REQUEST_MS);
    if (!slot) throw deadlineExceeded(method, 'the wait for the rate limit');
    if (slot.waitMs > 0) await sleep(slot.waitMs);
    const left = timeLeft();
    if (left !== undefined && left < MIN_REQUEST_MS) throw deadlineExceeded(method, 'the request');
    const started = performance.now();
    let status: number | undefined;
    let code: string | undefined;
    let limited = false;
    requests += 1;
    try {
      const answer = await transport.send({
        method,
        params,
        credentials: creds,
        timeLeftMs: left,
        knownResetAt: resetAtByMethod.get(method),
      });
      status = answer.status;
      return answer;
    } catch (error) {
      if (error instanceof Bitrix24Error) {
        status = error.status;
        code = error.code;
        limited = error instanceof Bitrix24RateLimitError;
      }
      throw error;
    } finally {
      if (limited) {
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

  /** The wait before retry `retry` (the first is 1) after `failure`. */
  function retryDelay(failure: Bitrix24Error, retry: number): number {
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
    return fullJitter(retry, backoff, random);
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
        const answer = await send(method, params, creds, sent);
        if (answer.resetAt !== undefined) resetAtByMethod.set(method, answer.resetAt);
        return callResult(method, answer.envelope, schema, scrub);
      } catch (error) {
        if (!(error instanceof Bitrix24Error)) throw error;
        const failure = error;
        if (isTokenExpiry(failure) && creds.kind === 'oauth' && mayRenew(renewals)) {
          // Refresh only after the access token was refused, at most once per call; a newer pair
          // found in the store may be tried first (docs/oauth-token-refresh.md).
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
