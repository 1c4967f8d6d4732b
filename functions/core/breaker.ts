import type { MemberDiff } from './diff-members.js';
import { isSortedSubset, sameMembers } from './member-set.js';
import type { BreakerSettings, HeldChange } from './model.js';

/**
 * True when a diff removes too many members to apply unattended (docs/design.md, guarantee 3):
 * `left > maxRemovedShare × previousCount` AND `left > minRemoved`. Both are strict, so with the
 * defaults (0.5, 5) removing exactly half, or exactly 5, still applies.
 */
export function tripsBreaker(
  leftCount: number,
  previousCount: number,
  settings: BreakerSettings,
): boolean {
  return leftCount > settings.maxRemovedShare * previousCount && leftCount > settings.minRemoved;
}

/**
 * What to do with one chat's diff.
 * - `apply`: below the thresholds; any existing hold is dropped (the mass change went away).
 * - `apply_released`: trips the breaker, but an operator released the held change and every
 *   member the diff removes was among the held (approved) leaves.
 * - `hold`: trips the breaker and is not covered by a release; `isNew` says whether the held
 *   leave set differs from the one already held (only a new hold is announced and saved).
 */
export type BreakerDecision =
  | { readonly action: 'apply' }
  | { readonly action: 'apply_released' }
  | { readonly action: 'hold'; readonly isNew: boolean };

/**
 * Release rule: a released hold approves removing *the held leave set*. The next sync applies
 * its diff (joins included) once if its leaves are a subset of the held leaves: fewer removals
 * than approved is still within what the operator checked, any removal outside it is not.
 * Otherwise the diff is held afresh (unreleased). Applying clears the hold, so a release never
 * applies twice. Joins never trip the breaker and are not part of the approval.
 */
export function decideBreaker(
  diff: MemberDiff,
  previousCount: number,
  held: HeldChange | undefined,
  settings: BreakerSettings,
): BreakerDecision {
  if (!tripsBreaker(diff.left.length, previousCount, settings)) return { action: 'apply' };
  if (held?.released === true && isSortedSubset(diff.left, held.left)) {
    return { action: 'apply_released' };
  }
  const isNew = held === undefined || held.released || !sameMembers(diff.left, held.left);
  return { action: 'hold', isNew };
}
