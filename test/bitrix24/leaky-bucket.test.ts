import { describe, expect, it } from 'vitest';
import { createLeakyBucket } from '../../functions/bitrix24/leaky-bucket.js';

function fakeClock() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('leaky bucket', () => {
  it('lets a full burst through without waiting', async () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, ...clock });
    for (let i = 0; i < 50; i += 1) await bucket.acquire();
    expect(clock.sleeps).toEqual([]);
    expect(bucket.level()).toBe(50);
  });

  it('makes the request after the burst wait for one drain interval', async () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 3, drainPerSecond: 2, ...clock });
    for (let i = 0; i < 3; i += 1) await bucket.acquire();
    await bucket.acquire();
    expect(clock.sleeps).toEqual([501]);
  });

  it('paces a long run at the drain rate', async () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 10, drainPerSecond: 20, ...clock });
    for (let i = 0; i < 110; i += 1) await bucket.acquire();
    // 10 free, then 100 more at 20/s ≈ 5 s (plus the 1 ms rounding guard per wait).
    expect(clock.now()).toBeGreaterThanOrEqual(5_000);
    expect(clock.now()).toBeLessThan(5_200);
    expect(bucket.level()).toBeLessThanOrEqual(10);
  });

  it('recovers capacity as time passes', async () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 4, drainPerSecond: 2, ...clock });
    for (let i = 0; i < 4; i += 1) await bucket.acquire();
    clock.advance(1_000);
    expect(bucket.level()).toBe(2);
    await bucket.acquire();
    await bucket.acquire();
    expect(clock.sleeps).toEqual([]);
  });

  it('serves waiters in arrival order', async () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 1, drainPerSecond: 10, ...clock });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => bucket.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('treats a drained bucket as full, so the next request waits', async () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, ...clock });
    await bucket.acquire();
    bucket.drain();
    expect(bucket.level()).toBe(50);
    await bucket.acquire();
    expect(clock.sleeps).toEqual([501]);
  });

  it('rejects a limit that could never admit a request', () => {
    expect(() => createLeakyBucket({ burst: 0, drainPerSecond: 2 })).toThrow(RangeError);
    expect(() => createLeakyBucket({ burst: 5, drainPerSecond: 0 })).toThrow(RangeError);
  });
});
