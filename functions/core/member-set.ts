import { createHash } from 'node:crypto';
import type { UserId } from './model.js';

/** A member-ID list from Bitrix24 held something that is not a positive integer user ID. */
export class InvalidMemberIdError extends Error {
  override readonly name = 'InvalidMemberIdError';
  constructor(readonly value: unknown) {
    super(`member list holds an invalid user ID: ${JSON.stringify(value) ?? String(value)}`);
  }
}

export function isUserId(value: unknown): value is UserId {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** True when `ids` is strictly ascending (sorted and unique). O(n), no allocation. */
export function isSortedUnique(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    if ((ids[i] as number) <= (ids[i - 1] as number)) return false;
  }
  return true;
}

/**
 * The canonical form of a member list: ascending, unique. Input order and duplicates do not
 * matter. Already-canonical input (every stored snapshot) costs one validating pass; anything
 * else is sorted as a Float64Array (numeric sort, no comparator calls), then de-duplicated.
 *
 * @throws {InvalidMemberIdError} on anything but a positive safe integer: a malformed read must
 *   fail that chat, never be diffed (DESIGN invariant 7).
 */
export function normalizeMemberIds(ids: readonly unknown[]): UserId[] {
  let sorted = true;
  let previous = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!isUserId(id)) throw new InvalidMemberIdError(id);
    if (id <= previous) sorted = false;
    previous = id;
  }
  if (sorted) return ids.slice() as UserId[];

  const buffer = Float64Array.from(ids as readonly number[]).sort();
  const unique: UserId[] = [];
  let last = 0;
  for (let i = 0; i < buffer.length; i++) {
    const id = buffer[i] as number;
    if (id !== last) unique.push(id);
    last = id;
  }
  return unique;
}

/**
 * sha256 hex of the canonical list encoded as decimal IDs joined by `,` (`""` for no members),
 * e.g. `contentHash([1, 2, 3]) === sha256('1,2,3')`. The encoding is part of the contract:
 * stores and tools may recompute it in any language.
 *
 * @param sortedIds must already be canonical ({@link normalizeMemberIds}).
 */
export function contentHash(sortedIds: readonly UserId[]): string {
  return createHash('sha256').update(sortedIds.join(',')).digest('hex');
}

/** True when every ID of sorted `subset` is in sorted `superset`. Linear merge. */
export function isSortedSubset(subset: readonly UserId[], superset: readonly UserId[]): boolean {
  let j = 0;
  for (let i = 0; i < subset.length; i++) {
    const id = subset[i] as number;
    while (j < superset.length && (superset[j] as number) < id) j++;
    if (j === superset.length || superset[j] !== id) return false;
    j++;
  }
  return true;
}

/** True when both canonical lists hold the same IDs. */
export function sameMembers(a: readonly UserId[], b: readonly UserId[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
