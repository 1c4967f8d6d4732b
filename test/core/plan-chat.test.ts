import { describe, expect, it } from 'vitest';
import { contentHash } from '../../functions/core/member-set.js';
import {
  type ChatId,
  type ChatRead,
  DEFAULT_BREAKER,
  type ReadMethod,
  type Snapshot,
  type UserDetails,
  type UserId,
} from '../../functions/core/model.js';
import { type ChatDecision, decideChat, planChat } from '../../functions/core/plan-chat.js';
import { createRandom } from '../../local/simulator/seeded-random.js';

const CHAT: ChatId = 7;
const OBSERVED_AT = '2026-03-02T10:00:00.000Z';
const CONTEXT = { portalId: 'p', breaker: DEFAULT_BREAKER };

/** A sorted set of IDs from 1..max, each present with probability `share`. */
function someIds(random: () => number, max: number, share: number): UserId[] {
  const ids: UserId[] = [];
  for (let id = 1; id <= max; id++) if (random() < share) ids.push(id);
  return ids;
}

function committed(members: readonly UserId[], accessLostAt?: string): Snapshot {
  return {
    portalId: 'p',
    chatId: CHAT,
    members,
    version: 3,
    contentHash: contentHash(members),
    observedAt: '2026-03-02T09:45:00.000Z',
    sequence: 12,
    ...(accessLostAt === undefined ? {} : { accessLostAt }),
  };
}

function decide(
  snapshot: Snapshot,
  read: ChatRead,
  details?: ReadonlyMap<UserId, UserDetails>,
): ChatDecision | { readonly done: true; readonly code: string | undefined } {
  const plan = planChat(CHAT, snapshot, read, snapshot);
  if (plan.kind === 'done') return { done: true, code: plan.result.error?.code };
  return decideChat(CONTEXT, CHAT, plan, details, OBSERVED_AT);
}

/** The members a decided change leaves committed, or the snapshot's when it changes none. */
function membersAfter(snapshot: Snapshot, decision: ReturnType<typeof decide>): UserId[] {
  if (!('input' in decision) || decision.input.kind !== 'apply') return [...snapshot.members];
  const left = new Set(decision.input.left);
  return [...snapshot.members.filter((id) => !left.has(id)), ...decision.input.joined].sort(
    (a, b) => a - b,
  );
}

describe.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])('planChat and decideChat (seed %i)', (seed) => {
  const random = createRandom(seed);
  const cases = Array.from({ length: 200 }, () => {
    const snapshot = committed(
      someIds(random, 60, 0.2 + random() * 0.6),
      random() < 0.2 ? '2026-03-01T00:00:00.000Z' : undefined,
    );
    const method: ReadMethod = random() < 0.5 ? 'im.chat.user.list' : 'im.dialog.users.list';
    // Reads keep most members and add some; a few drop many (a mass leave) or come back empty.
    const keep = random() < 0.15 ? random() * 0.4 : 0.8 + random() * 0.2;
    const memberIds = [
      ...new Set([...snapshot.members.filter(() => random() < keep), ...someIds(random, 80, 0.05)]),
    ].sort((a, b) => a - b);
    const read: ChatRead =
      random() < 0.05
        ? { kind: 'no_access', chatId: CHAT, code: 'ACCESS_DENIED', message: 'no access' }
        : { kind: 'complete', chatId: CHAT, memberIds: random() < 0.05 ? [] : memberIds, method };
    const deactivated = new Set(snapshot.members.filter(() => random() < 0.1));
    const details = new Map(
      snapshot.members.map((id): [UserId, UserDetails] => [
        id,
        { id, active: !deactivated.has(id) },
      ]),
    );
    return { snapshot, read, deactivated, details };
  });

  it(`never turns an empty or refused read into a leave (seed ${seed})`, () => {
    for (const { snapshot, read, details } of cases) {
      if (read.kind === 'complete' && read.memberIds.length > 0) continue;
      const decision = decide(snapshot, read, details);
      expect(membersAfter(snapshot, decision)).toEqual(snapshot.members);
      if ('input' in decision) expect(decision.input.kind).toBe('access_lost');
    }
  });

  it(`commits exactly the read, deactivated members that im.dialog.users.list omits kept, or holds a mass leave (seed ${seed})`, () => {
    for (const { snapshot, read, deactivated, details } of cases) {
      if (read.kind !== 'complete' || read.memberIds.length === 0) continue;
      const decision = decide(snapshot, read, details);
      const listed = new Set(read.memberIds);
      const expected = [
        ...read.memberIds,
        ...(read.method === 'im.dialog.users.list'
          ? snapshot.members.filter((id) => !listed.has(id) && deactivated.has(id))
          : []),
      ].sort((a, b) => a - b);
      const leaves = snapshot.members.filter((id) => !expected.includes(id));
      if (leaves.length > snapshot.members.length / 2 && leaves.length > 5) {
        expect(decision).toMatchObject({ input: { kind: 'hold', left: leaves } });
        expect(membersAfter(snapshot, decision)).toEqual(snapshot.members);
      } else {
        expect(membersAfter(snapshot, decision)).toEqual(expected);
      }
    }
  });

  it(`fails, without a leave, an im.dialog.users.list read whose missing members cannot be checked (seed ${seed})`, () => {
    for (const { snapshot, read } of cases) {
      if (read.kind !== 'complete' || read.method !== 'im.dialog.users.list') continue;
      const missing = snapshot.members.some((id) => !read.memberIds.includes(id));
      if (!missing || read.memberIds.length === 0) continue;
      expect(decide(snapshot, read)).toMatchObject({
        result: { error: { code: 'leaves_unverified' } },
      });
    }
  });
});

describe('a keyset read stopped for time', () => {
  const started = '2026-03-02T09:58:00.000Z';
  const progressOf = (lastId: UserId) => ({
    lastId,
    memberIds: Array.from({ length: lastId }, (_, i) => i + 1),
    startedAt: started,
  });
  const stopped = (lastId: UserId): ChatRead => ({
    kind: 'partial',
    chatId: CHAT,
    progress: progressOf(lastId),
  });

  it('saves its progress when LAST_ID advanced', () => {
    const stored = { ...committed([1, 2, 3]), readProgress: progressOf(200) };
    const plan = planChat(CHAT, committed([1, 2, 3]), stopped(400), stored);
    if (plan.kind !== 'progress') throw new Error(`unexpected plan ${plan.kind}`);
    const decision = decideChat(CONTEXT, CHAT, plan, undefined, OBSERVED_AT);
    expect('result' in decision && decision.save?.next.readProgress?.lastId).toBe(400);
  });

  it('saves nothing, so the item is not resent as progress, when LAST_ID did not advance', () => {
    const stored = { ...committed([1, 2, 3]), readProgress: progressOf(200) };
    const plan = planChat(CHAT, committed([1, 2, 3]), stopped(200), stored);
    if (plan.kind !== 'progress') throw new Error(`unexpected plan ${plan.kind}`);
    const decision = decideChat(CONTEXT, CHAT, plan, undefined, OBSERVED_AT);
    expect('result' in decision && decision.save).toBeUndefined();
    expect('result' in decision && decision.result.error?.code).toBe('deadline_exceeded');
  });
});
