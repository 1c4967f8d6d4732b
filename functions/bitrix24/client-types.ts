/**
 * The Bitrix24 client's contract: what callers pass in and get back. Implemented by
 * `bitrix24-client.ts` (retries, pacing, deadline), `transport.ts` (one HTTP request), `batch.ts`.
 */

import type { z } from 'zod';
import type { CredentialStore, RefreshLease } from './credentials.js';
import type { Bitrix24Error } from './errors.js';
import type { LeakyBucket, RateLimit } from './leaky-bucket.js';
import type { QueryValue } from './php-query.js';
import type { ResponseTime } from './schemas.js';

/** The narrow logging surface the client needs (Powertools' Logger fits). */
export interface Bitrix24Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface RetrySettings {
  /** Attempts per call, the first included, for any failure but a 503 (see below). Default 5. */
  readonly maxAttempts?: number | undefined;
  /**
   * How long one call keeps retrying 503 `QUERY_LIMIT_EXCEEDED` when no deadline is set (the
   * deadline bounds it otherwise); such answers are paced by the bucket, not counted as
   * attempts. Default 600 000.
   */
  readonly maxRateLimitedMs?: number | undefined;
  /**
   * Full-jitter backoff (`functions/timing/backoff.ts`): before retry n (the first is 1), a random
   * delay in [0, min(maxDelayMs, baseDelayMs·2^(n-1))]. Default 500.
   */
  readonly baseDelayMs?: number | undefined;
  /** Default 30 000. */
  readonly maxDelayMs?: number | undefined;
  /** Longest single wait for an `OPERATION_TIME_LIMIT` reset. Default 600 000 (the 10-min window). */
  readonly maxOperationWaitMs?: number | undefined;
  /** Wait after `OPERATION_TIME_LIMIT` when no `operating_reset_at` is known. Default 10 000. */
  readonly operationFallbackWaitMs?: number | undefined;
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
  readonly refreshLease?: RefreshLease | undefined;
  /** Client-side leaky bucket; default 50 burst / 2 per s, all of it (`share` 1). */
  readonly rateLimit?: RateLimit | undefined;
  /**
   * A bucket made by the caller, who can then hand its counter between processes
   * (`shared-bucket.ts`). Default: one made from `rateLimit` (then `rateLimit` is ignored here).
   */
  readonly bucket?: LeakyBucket | undefined;
  /**
   * Epoch ms by which every call must have returned, asked before each wait and request (one
   * client outlives many Lambda invocations, each with its own deadline). No wait ends after
   * it and each request's timeout is cut to it; a wait or request that cannot end in time fails
   * the call at once with `DEADLINE_EXCEEDED` (retryable). Undefined: no deadline.
   */
  readonly deadlineAt?: (() => number | undefined) | undefined;
  /** Transport for ky (tests: a TLS-trusting fetch). Default: global fetch. */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Per HTTP attempt, including reading the body. Default 60 000 (the portal's own limit). */
  readonly timeoutMs?: number | undefined;
  readonly retry?: RetrySettings | undefined;
  readonly logger?: Bitrix24Logger | undefined;
  readonly onRequest?: ((event: RequestEvent) => void) | undefined;
  /** Test seams. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  /** Wall clock in ms, compared with `operating_reset_at` and the deadline. */
  readonly now?: (() => number) | undefined;
}

export type RequestParams = Readonly<Record<string, unknown>>;

export interface CallResult<T> {
  readonly result: T;
  readonly total?: number;
  readonly next?: number;
  readonly time: ResponseTime;
}

export interface BatchCommand {
  /** Unique within the call; becomes the `cmd` key. */
  readonly key: string;
  readonly method: string;
  readonly params: Readonly<Record<string, QueryValue>>;
}

export interface BatchOptions {
  /** Stop at the first failing command (`halt=1`); later commands come back `BATCH_HALTED`. */
  readonly halt?: boolean | undefined;
}

export type BatchCommandResult =
  | { readonly ok: true; readonly result: unknown; readonly total?: number; readonly next?: number }
  | {
      readonly ok: false;
      readonly error: Bitrix24Error;
      /**
       * The whole `batch` request failed (after the client's retries), not this command: the
       * error says nothing about this command's own answer (e.g. a top-level ACCESS_ERROR).
       */
      readonly wholeRequest?: true;
    };

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
