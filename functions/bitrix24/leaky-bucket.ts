/**
 * Client-side mirror of the portal's request limiter (reference §7): a counter that rises by one
 * per HTTP request and leaks `drainPerSecond` per second; the portal answers 503
 * `QUERY_LIMIT_EXCEEDED` once it would exceed `burst`. Waiting here keeps us under that line.
 * Waiters are served strictly in arrival order.
 */

export interface RateLimit {
  readonly burst: number;
  readonly drainPerSecond: number;
}

/** Free plans; Enterprise is 250 / 5 (a setting). */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 50, drainPerSecond: 2 };

export interface LeakyBucketOptions extends RateLimit {
  /** Milliseconds; defaults to `performance.now()` so wall-clock jumps do not matter. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface LeakyBucket {
  /** Resolves when one more request fits; reserves it. */
  acquire(): Promise<void>;
  /**
   * Assumes the portal's counter is full. Called on a 503 `QUERY_LIMIT_EXCEEDED`: other
   * integrations (same portal, same egress IP) share the portal's bucket, so ours undercounted.
   */
  drain(): void;
  /** Current counter value (for tests and metrics). */
  level(): number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createLeakyBucket(options: LeakyBucketOptions): LeakyBucket {
  if (!(options.burst >= 1) || !(options.drainPerSecond > 0)) {
    throw new RangeError('rate limit needs burst >= 1 and drainPerSecond > 0');
  }
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const { burst, drainPerSecond } = options;
  let counter = 0;
  let updatedAt = now();
  let queue: Promise<void> = Promise.resolve();

  const leak = () => {
    const at = now();
    counter = Math.max(0, counter - ((at - updatedAt) / 1000) * drainPerSecond);
    updatedAt = at;
  };

  const take = async () => {
    for (;;) {
      leak();
      if (counter + 1 <= burst) {
        counter += 1;
        return;
      }
      // +1 ms absorbs float rounding so the next check does not loop on a hair's deficit.
      await sleep(Math.ceil(((counter + 1 - burst) * 1000) / drainPerSecond) + 1);
    }
  };

  return {
    acquire() {
      // Chaining on one promise gives FIFO order: each waiter starts only after the previous took.
      const turn = queue.then(take);
      queue = turn.catch(() => undefined);
      return turn;
    },
    drain() {
      leak();
      counter = burst;
    },
    level() {
      leak();
      return counter;
    },
  };
}
