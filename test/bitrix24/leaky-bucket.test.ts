import { describe, expect, it } from 'vitest';
import {
  createLeakyBucket,
  DECREASE_FACTOR,
  type LeakyBucket,
  MIN_RATE_SHARE,
} from '../../functions/bitrix24/leaky-bucket.js';

function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Reserves a slot and waits for it on the fake clock, as the client does; returns the wait. */
function take(bucket: LeakyBucket, clock: ReturnType<typeof fakeClock>): number {
  const slot = bucket.reserve();
  if (!slot) throw new Error('no slot');
  clock.advance(slot.waitMs);
  return slot.waitMs;
}

describe('leaky bucket', () => {
  it('lets a full burst through without waiting', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, ...clock });
    const waits = Array.from({ length: 50 }, () => take(bucket, clock));
    expect(waits.every((ms) => ms === 0)).toBe(true);
    expect(bucket.level()).toBe(50);
  });

  it('makes the request after the burst wait for one drain interval', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 3, drainPerSecond: 2, ...clock });
    for (let i = 0; i < 3; i += 1) take(bucket, clock);
    expect(take(bucket, clock)).toBe(500);
  });

  it('paces a long run at the drain rate', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 10, drainPerSecond: 20, ...clock });
    for (let i = 0; i < 110; i += 1) take(bucket, clock);
    // 10 free, then 100 more at 20/s = 5 s.
    expect(clock.now()).toBe(5_000);
    expect(bucket.level()).toBeLessThanOrEqual(10);
  });

  it('recovers capacity as time passes', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 4, drainPerSecond: 2, ...clock });
    for (let i = 0; i < 4; i += 1) take(bucket, clock);
    clock.advance(1_000);
    expect(bucket.level()).toBe(2);
    expect([take(bucket, clock), take(bucket, clock)]).toEqual([0, 0]);
  });

  it('gives callers that reserve together consecutive slots, in order', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 1, drainPerSecond: 10, ...clock });
    const waits = [0, 1, 2, 3, 4].map(() => bucket.reserve()?.waitMs);
    expect(waits).toEqual([0, 100, 200, 300, 400]);
  });

  it('refuses, without reserving, a slot further away than the caller can wait', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 2, drainPerSecond: 2, ...clock });
    take(bucket, clock);
    take(bucket, clock);
    expect(bucket.reserve(499)).toBeUndefined();
    expect(bucket.level()).toBe(2);
    expect(bucket.reserve(500)?.waitMs).toBe(500);
  });

  it('after a 503 models the portal as full and slows down', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, ...clock });
    const slot = bucket.reserve();
    if (!slot) throw new Error('no slot');
    bucket.rateLimited(slot);
    expect(bucket.level()).toBe(50);
    expect(bucket.rate()).toBeCloseTo(2 * DECREASE_FACTOR);
    // One interval at the reduced rate: 1 / 0.8 s.
    expect(take(bucket, clock)).toBe(1_250);
  });

  it('slows down once for the 503s of requests that were under way together', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, ...clock });
    const underWay = [bucket.reserve(), bucket.reserve(), bucket.reserve()];
    for (const slot of underWay) if (slot) bucket.rateLimited(slot);
    expect(bucket.rate()).toBeCloseTo(2 * DECREASE_FACTOR);
    // A request sent after that decrease and refused again is news: slow down further.
    const later = bucket.reserve();
    if (later) bucket.rateLimited(later);
    expect(bucket.rate()).toBeCloseTo(2 * DECREASE_FACTOR ** 2);
  });

  it('never slows below its floor', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 5, drainPerSecond: 2, ...clock });
    for (let i = 0; i < 20; i += 1) {
      const slot = bucket.reserve();
      if (slot) bucket.rateLimited(slot);
    }
    expect(bucket.rate()).toBeCloseTo(2 * MIN_RATE_SHARE);
  });

  it('speeds back up to the configured rate while requests are admitted, and no further', () => {
    const clock = fakeClock();
    const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, ...clock });
    const slot = bucket.reserve();
    if (slot) bucket.rateLimited(slot);
    const rates: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      take(bucket, clock);
      bucket.admitted();
      rates.push(bucket.rate());
    }
    for (let i = 1; i < rates.length; i += 1) {
      expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1] as number);
    }
    expect(rates.at(-1)).toBe(2);
  });

  it('rejects a limit that could never admit a request', () => {
    expect(() => createLeakyBucket({ burst: 0, drainPerSecond: 2 })).toThrow(RangeError);
    expect(() => createLeakyBucket({ burst: 5, drainPerSecond: 0 })).toThrow(RangeError);
  });
});
