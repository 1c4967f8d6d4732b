import { describe, expect, it } from 'vitest';
import { retryBackoffSeconds } from '../../functions/app/lambda-worker.js';

describe('retryBackoffSeconds', () => {
  it('doubles from 30 s per receive and stops at 15 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryBackoffSeconds)).toEqual([
      30, 60, 120, 240, 480, 900, 900,
    ]);
  });

  it('treats a missing or nonsensical receive count as the first receive', () => {
    expect([Number.NaN, 0, -3].map(retryBackoffSeconds)).toEqual([30, 30, 30]);
  });
});
