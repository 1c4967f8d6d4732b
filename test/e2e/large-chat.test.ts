import { beforeAll, describe, expect, it } from 'vitest';
import {
  memberChanges,
  sqsEvent,
  sqsRecord,
  typesOf,
  useWorld,
  workItem,
} from './support/harness.js';

const SIZE = 200_000;
// Chat 1 is the general chat; the generated 200,000-member chat comes next.
const world = useWorld({ seed: { chats: 0, membersPerChat: 2, largeChats: [SIZE] } });
let chatId: number;

beforeAll(() => {
  const large = world()
    .sim.admin.chats()
    .find((c) => c.memberIds.length === SIZE);
  if (!large) throw new Error('no large chat in the seed');
  chatId = large.id;
});

describe('worker Lambda: a 200,000-member chat', () => {
  it('publishes the baseline in parts, stores it, then publishes only the few joins and leaves', async () => {
    // Prepare
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chatId] }] });
    const queueArn = deployment.workQueueArn;
    const run = (tick: number) =>
      deployment.worker()(sqsEvent([sqsRecord(workItem('acme', [chatId], tick), { queueArn })]));

    // Act: baseline
    const first = await run(1);
    const baseline = await deployment.events();

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(new Set(typesOf(baseline))).toEqual(new Set(['chat.baseline.v1']));
    const parts = baseline.map(
      (e) => e.event.data as { part: number; parts: number; members: number[] },
    );
    expect(parts.length).toBe(parts[0]?.parts);
    expect(parts.length).toBeGreaterThan(1);
    const reassembled = parts.sort((a, b) => a.part - b.part).flatMap((p) => p.members);
    expect(reassembled).toHaveLength(SIZE);
    expect(reassembled).toEqual([...reassembled].sort((a, b) => a - b));
    const stored = await deployment.snapshot('acme', chatId);
    expect(stored?.members).toEqual(reassembled);
    expect(stored?.version).toBe(1);

    // Act: a few leaves and joins
    const [newcomerA, newcomerB] = world().sim.admin.addUsers(2) as [number, number];
    world().sim.admin.addMembers(chatId, [newcomerA, newcomerB]);
    world().sim.admin.removeMembers(chatId, [
      reassembled[10] as number,
      reassembled[150_000] as number,
      reassembled[199_999] as number,
    ]);
    const second = await run(2);
    const changes = await deployment.events();

    // Assess
    expect(second.batchItemFailures).toEqual([]);
    expect(memberChanges(changes, chatId)).toEqual(
      [
        `joined:${newcomerA}`,
        `joined:${newcomerB}`,
        `left:${reassembled[10]}`,
        `left:${reassembled[150_000]}`,
        `left:${reassembled[199_999]}`,
      ].sort(),
    );
    const after = await deployment.snapshot('acme', chatId);
    expect(after?.members).toHaveLength(SIZE - 1);
    expect(after?.version).toBe(2);
    expect(after?.members).toContain(newcomerB);
    expect(after?.members).not.toContain(reassembled[150_000]);
  });
});
