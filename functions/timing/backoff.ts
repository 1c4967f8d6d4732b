/**
 * Delays between retries, growing exponentially up to a cap. Retries are numbered from 1: the
 * first retry (after the first failure) is retry 1 and waits up to `base`; retry n up to
 * `base·2^(n-1)`, never more than `max`. Units are the caller's (ms for sleeps, s for SQS).
 */
export interface Backoff {
  readonly base: number;
  readonly max: number;
}

/** The longest wait before retry `retry`: min(max, base·2^(retry-1)). */
export function backoffCeiling(retry: number, backoff: Backoff): number {
  if (!Number.isInteger(retry) || retry < 1) {
    throw new RangeError(`retry must be an integer >= 1 (the first retry is 1), got ${retry}`);
  }
  return Math.min(backoff.max, backoff.base * 2 ** (retry - 1));
}

/**
 * "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter",
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/): a random wait in
 * [0, {@link backoffCeiling}), so that callers which failed together do not retry together.
 * `random` returns values in [0, 1), as `Math.random` does; tests inject a seeded one.
 */
export function fullJitter(
  retry: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  return random() * backoffCeiling(retry, backoff);
}
