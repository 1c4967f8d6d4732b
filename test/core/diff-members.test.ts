import { describe, expect, it } from 'vitest';
import { diffMembers } from '../../functions/core/diff-members.js';
import { range } from '../support/fakes.js';

describe('diffMembers', () => {
  it.each([
    { name: 'no change', previous: [1, 2, 3], current: [1, 2, 3], joined: [], left: [] },
    { name: 'empty previous', previous: [], current: [4, 2], joined: [2, 4], left: [] },
    { name: 'empty current', previous: [1, 2], current: [], joined: [], left: [1, 2] },
    { name: 'both empty', previous: [], current: [], joined: [], left: [] },
    { name: 'a join', previous: [1, 3], current: [1, 2, 3], joined: [2], left: [] },
    { name: 'a leave', previous: [1, 2, 3], current: [1, 3], joined: [], left: [2] },
    {
      name: 'joins and leaves',
      previous: [1, 2, 5],
      current: [2, 3, 9],
      joined: [3, 9],
      left: [1, 5],
    },
    { name: 'unsorted current', previous: [1, 2, 3], current: [3, 4, 1], joined: [4], left: [2] },
    {
      name: 'duplicates in current',
      previous: [1, 2],
      current: [2, 2, 3, 3],
      joined: [3],
      left: [1],
    },
    { name: 'unsorted previous', previous: [3, 1], current: [1], joined: [], left: [3] },
    { name: 'disjoint', previous: [1, 2], current: [3, 4], joined: [3, 4], left: [1, 2] },
    {
      name: 'numeric, not lexical, order',
      previous: [9, 10],
      current: [10, 100],
      joined: [100],
      left: [9],
    },
  ])('finds $name', ({ previous, current, joined, left }) => {
    // Act
    const diff = diffMembers(previous, current);

    // Assess
    expect(diff).toEqual({ joined, left });
  });

  it('diffs two 200,000-member lists by merge', () => {
    // Prepare
    const previous = range(1, 200_000);
    const current = range(1_001, 201_000);

    // Act
    const diff = diffMembers(previous, current);

    // Assess
    expect(diff.left).toEqual(range(1, 1_000));
    expect(diff.joined).toEqual(range(200_001, 201_000));
  });
});
