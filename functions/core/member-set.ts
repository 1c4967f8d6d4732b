import { createHash } from 'node:crypto';
import { InvalidMemberIdError } from './errors.js';
import type { UserId } from './model.js';

/** Bitrix24 user IDs are MySQL `INT` keys; the core stores and hashes them as unsigned 32-bit. */
export const MAX_USER_ID = 0xffff_ffff;

export function isUserId(value: unknown): value is UserId {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= MAX_USER_ID;
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
 * else is sorted as a Uint32Array (numeric sort without comparator calls, several times faster
 * than a Float64Array or `Array#sort`), de-duplicated in place and copied out once.
 *
 * @throws {InvalidMemberIdError} on anything but an integer in 1..{@link MAX_USER_ID}: a malformed read must
 *   fail that chat, never be diffed (docs/design.md, guarantee 8).
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

  const buffer = Uint32Array.from(ids as readonly number[]).sort();
  let count = 0;
  for (let i = 0; i < buffer.length; i++) {
    const id = buffer[i] as number;
    if (count === 0 || id !== buffer[count - 1]) buffer[count++] = id;
  }
  const unique: UserId[] = new Array(count);
  for (let i = 0; i < count; i++) unique[i] = buffer[i] as number;
  return unique;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * sha256 hex of the canonical list encoded as consecutive 4-byte little-endian unsigned integers
 * (no members: the hash of no bytes). The encoding is part of the contract, so stores and tools
 * may recompute it in any language; binary rather than decimal text because number formatting
 * dominated the cost for large chats.
 *
 * @param sortedIds must already be canonical ({@link normalizeMemberIds}).
 */
export function contentHash(sortedIds: readonly UserId[]): string {
  const words = Uint32Array.from(sortedIds);
  const bytes = new Uint8Array(words.buffer);
  if (!LITTLE_ENDIAN) {
    const view = new DataView(words.buffer);
    for (let i = 0; i < words.length; i++) view.setUint32(i * 4, sortedIds[i] as number, true);
  }
  return createHash('sha256').update(bytes).digest('hex');
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
