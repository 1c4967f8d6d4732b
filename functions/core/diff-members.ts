import { isSortedUnique, normalizeMemberIds } from './member-set.js';
import type { UserId } from './model.js';

export interface MemberDiff {
  /** In `current`, not in `previous`; ascending. */
  readonly joined: readonly UserId[];
  /** In `previous`, not in `current`; ascending. */
  readonly left: readonly UserId[];
}

/**
 * Set difference of two member lists by one sorted merge: O(n + m), no hashing.
 * Either side may be unsorted or hold duplicates; canonical input (the usual case: a stored
 * snapshot and a normalised read) skips the sort.
 */
export function diffMembers(previous: readonly UserId[], current: readonly UserId[]): MemberDiff {
  const a = isSortedUnique(previous) ? previous : normalizeMemberIds(previous);
  const b = isSortedUnique(current) ? current : normalizeMemberIds(current);
  const joined: UserId[] = [];
  const left: UserId[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      i++;
      j++;
    } else if (x < y) {
      left.push(x);
      i++;
    } else {
      joined.push(y);
      j++;
    }
  }
  while (i < a.length) left.push(a[i++] as number);
  while (j < b.length) joined.push(b[j++] as number);
  return { joined, left };
}

export function isEmptyDiff(diff: MemberDiff): boolean {
  return diff.joined.length === 0 && diff.left.length === 0;
}
