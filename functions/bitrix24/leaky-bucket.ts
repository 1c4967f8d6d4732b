/**
 * Client-side model of the portal's request limiter (docs/bitrix24-rate-limits.md): a counter
 * that rises by one per HTTP request and leaks at a rate per second; the portal answers 503
 * `QUERY_LIMIT_EXCEEDED` once its counter would pass the burst. Waiting here keeps us under it.
 *
 * The portal's bucket is shared by every integration on the portal (and source IP), so this
 * model is only our view of it, and it adapts (AIMD, as TCP does with a shared link):
 * - a 503 says the portal's counter is fuller than modelled: the model is set to full and the
 *   rate is cut to {@link DECREASE_FACTOR} of itself (multiplicative decrease, once per round
 *   of requests already under way, never below {@link MIN_RATE_SHARE} of the configured rate);
 * - every admitted request raises the rate by {@link INCREASE_SHARE} of the configured rate,
 *   back up to it (additive increase).
 * Alone on a portal it never sees a 503 and paces exactly at the configured rate.
 *
 * Slots are reserved in call order (FIFO) and each reservation knows its wait at once, so a
 * caller with a deadline can refuse a wait that would end too late without taking the slot.
 */

export interface RateLimit {
  readonly burst: number;
  readonly drainPerSecond: number;
  /** Share of the portal's bucket this job may use, in (0, 1]. Default 1. */
  readonly share?: number;
}

/** Free plans; Enterprise is 250 / 5 (a setting). */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 50, drainPerSecond: 2 };

/**
 * The bucket a client models: its `share` of the portal's, less {@link headroom}.
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

/**
 * Tuned on the shared-bucket scenarios (`npm run shared-bucket`): after a 503 the rate falls to
 * 40 % (two clients that both started at full rate then stay under the portal's drain together),
 * and climbs back by 1 % of the configured rate per admitted request (~60 requests from 40 %).
 */
export const DECREASE_FACTOR = 0.4;
export const INCREASE_SHARE = 0.01;
export const MIN_RATE_SHARE = 1 / 16;

export interface LeakyBucketOptions {
  readonly burst: number;
  /** The configured (highest) rate. */
  readonly drainPerSecond: number;
  /** Milliseconds; defaults to `performance.now()` so wall-clock jumps do not matter. */
  readonly now?: (() => number) | undefined;
  /** Epoch milliseconds, for counters handed between processes (`handOver`/`takeOver`). */
  readonly wallNow?: (() => number) | undefined;
}

/** A counter as one process hands it to the next (`shared-bucket.ts`). */
export interface BucketLevel {
  readonly level: number;
  /** Epoch ms at which `level` was the counter. */
  readonly at: number;
}

export interface Reservation {
  /** How long to wait before sending, in ms. */
  readonly waitMs: number;
  /** Identifies the request for {@link LeakyBucket.rateLimited}. */
  readonly ticket: number;
}

export interface LeakyBucket {
  /**
   * Reserves the next request slot. Returns `undefined`, reserving nothing, when its wait would
   * be longer than `maxWaitMs`.
   */
  reserve(maxWaitMs?: number): Reservation | undefined;
  /** The portal answered 503 `QUERY_LIMIT_EXCEEDED` to the request of `reservation`. */
  rateLimited(reservation: Reservation): void;
  /** The portal admitted a request (any answer but a 503 `QUERY_LIMIT_EXCEEDED`). */
  admitted(): void;
  /** Current counter value, queued reservations included. */
  level(): number;
  /** Current drain rate per second (the pace of a long run). */
  rate(): number;
  /** The counter now, for another process to take over (queued reservations included). */
  handOver(): BucketLevel;
  /**
   * Takes over a counter another process handed back: ours becomes the fuller of the two, the
   * handed one leaked at the configured rate since it was handed over.
   */
  takeOver(handed: BucketLevel): void;
}

export function createLeakyBucket(options: LeakyBucketOptions): LeakyBucket {
  if (!(options.burst >= 1) || !(options.drainPerSecond > 0)) {
    throw new RangeError('rate limit needs burst >= 1 and drainPerSecond > 0');
  }
  const now = options.now ?? (() => performance.now());
  const wallNow = options.wallNow ?? Date.now;
  const { burst } = options;
  const maxRate = options.drainPerSecond;
  const minRate = maxRate * MIN_RATE_SHARE;
  let rate = maxRate;
  let counter = 0;
  let updatedAt = now();
  let issued = 0;
  /** Tickets up to this one were under way at the last decrease: their 503s are that event. */
  let decreasedThrough = 0;

  const leak = () => {
    const at = now();
    counter = Math.max(0, counter - ((at - updatedAt) / 1000) * rate);
    updatedAt = at;
  };

  return {
    reserve(maxWaitMs) {
      leak();
      // A counter above the burst holds slots already promised to earlier callers.
      const waitMs = counter + 1 > burst ? Math.ceil(((counter + 1 - burst) * 1000) / rate) : 0;
      if (maxWaitMs !== undefined && waitMs > maxWaitMs) return undefined;
      counter += 1;
      issued += 1;
      return { waitMs, ticket: issued };
    },
    rateLimited(reservation) {
      leak();
      counter = Math.max(counter, burst);
      if (reservation.ticket > decreasedThrough) {
        rate = Math.max(minRate, rate * DECREASE_FACTOR);
        decreasedThrough = issued;
      }
    },
    admitted() {
      leak();
      rate = Math.min(maxRate, rate + maxRate * INCREASE_SHARE);
    },
    level() {
      leak();
      return counter;
    },
    rate: () => rate,
    handOver() {
      leak();
      return { level: counter, at: wallNow() };
    },
    takeOver(handed) {
      leak();
      const elapsed = Math.max(0, wallNow() - handed.at) / 1000;
      counter = Math.max(counter, handed.level - elapsed * maxRate);
    },
  };
}
