import { describe, expect, it } from 'vitest';
import { backoffCeiling, fullJitter } from '../../functions/timing/backoff.js';
import { createRandom } from '../../local/simulator/seeded-random.js';

const backoff = { base: 100, max: 2_000 };

describe('backoffCeiling', () => {
  it('numbers the first retry 1: it waits up to the base, each later one twice as long', () => {
    expect([1, 2, 3, 4, 5].map((retry) => backoffCeiling(retry, backoff))).toEqual([
      100, 200, 400, 800, 1_600,
    ]);
  });

  it('never exceeds the cap, however many retries', () => {
    expect([6, 7, 30, 2_000].map((retry) => backoffCeiling(retry, backoff))).toEqual([
      2_000, 2_000, 2_000, 2_000,
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN])(
    'refuses retry %s: there is no retry before the first',
    (retry) => {
      expect(() => backoffCeiling(retry, backoff)).toThrow(/first retry is 1/);
    },
  );
});

describe('fullJitter', () => {
  it('spans the whole range from no wait to just under the ceiling', () => {
    expect(fullJitter(3, backoff, () => 0)).toBe(0);
    expect(fullJitter(3, backoff, () => 0.5)).toBe(200);
    expect(fullJitter(3, backoff, () => 0.999)).toBeCloseTo(399.6);
  });

  it.each([1, 2, 3, 4, 5])('stays within [0, ceiling) for every retry (seed %i)', (seed) => {
    const random = createRandom(seed);
    for (let retry = 1; retry <= 12; retry += 1) {
      const ceiling = backoffCeiling(retry, backoff);
      for (let draw = 0; draw < 50; draw += 1) {
        const delay = fullJitter(retry, backoff, random);
        expect(delay, `seed ${seed}, retry ${retry}`).toBeGreaterThanOrEqual(0);
        expect(delay, `seed ${seed}, retry ${retry}`).toBeLessThan(ceiling);
      }
    }
  });
});
