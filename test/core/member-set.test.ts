import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidMemberIdError } from '../../functions/core/errors.js';
import {
  contentHash,
  isSortedSubset,
  normalizeMemberIds,
} from '../../functions/core/member-set.js';

describe('normalizeMemberIds', () => {
  it.each([
    { input: [], expected: [] },
    { input: [3, 1, 2], expected: [1, 2, 3] },
    { input: [5, 5, 1, 5, 1], expected: [1, 5] },
    { input: [1, 2, 3], expected: [1, 2, 3] },
    { input: [10, 9, 100, 2], expected: [2, 9, 10, 100] },
  ])('canonicalises $input to $expected', ({ input, expected }) => {
    // Act
    const result = normalizeMemberIds(input);

    // Assess
    expect(result).toEqual(expected);
  });

  it('does not mutate its input', () => {
    // Prepare
    const input = [3, 1, 2];

    // Act
    normalizeMemberIds(input);

    // Assess
    expect(input).toEqual([3, 1, 2]);
  });

  it.each([[0], [-1], [1.5], ['7'], [null], [Number.NaN], [2 ** 32]])(
    'rejects the ID %j as a malformed list',
    (bad) => {
      expect(() => normalizeMemberIds([1, bad, 2])).toThrow(InvalidMemberIdError);
    },
  );

  it('canonicalises 200,000 shuffled IDs with duplicates', () => {
    // Prepare
    const ids = Array.from({ length: 200_000 }, (_, i) => ((i * 7919) % 200_000) + 1);
    ids.push(5, 17, 199_999);

    // Act
    const result = normalizeMemberIds(ids);

    // Assess
    expect(result).toHaveLength(200_000);
    expect(result[0]).toBe(1);
    expect(result.at(-1)).toBe(200_000);
  });
});

describe('contentHash', () => {
  it('is sha256 hex of the IDs as 4-byte little-endian unsigned integers', () => {
    // Prepare
    const bytes = Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 0x04, 0x03, 0x02, 0x01]);

    // Act
    const hash = contentHash([1, 2, 0x01020304]);

    // Assess
    expect(hash).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('hashes an empty list as no bytes', () => {
    expect(contentHash([])).toBe(createHash('sha256').digest('hex'));
  });

  it('is order-insensitive once normalised', () => {
    expect(contentHash(normalizeMemberIds([30, 1, 2, 2]))).toBe(contentHash([1, 2, 30]));
  });

  it('differs between lists whose decimal concatenations would collide', () => {
    expect(contentHash([1, 23])).not.toBe(contentHash([12, 3]));
  });

  it('accepts the largest user ID', () => {
    expect(normalizeMemberIds([2 ** 32 - 1, 1])).toEqual([1, 2 ** 32 - 1]);
  });
});

describe('isSortedSubset', () => {
  it.each([
    { subset: [], superset: [], expected: true },
    { subset: [], superset: [1], expected: true },
    { subset: [2, 4], superset: [1, 2, 3, 4], expected: true },
    { subset: [2, 5], superset: [1, 2, 3, 4], expected: false },
    { subset: [0], superset: [1], expected: false },
    { subset: [1, 2], superset: [1], expected: false },
  ])('says $expected for $subset ⊆ $superset', ({ subset, superset, expected }) => {
    expect(isSortedSubset(subset, superset)).toBe(expected);
  });
});
