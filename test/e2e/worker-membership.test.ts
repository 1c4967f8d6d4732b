import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventTypes } from '../../functions/core/cloud-event.js';
import {
  type Deployment,
  memberChanges,
  sqsEvent,
  sqsRecord,
  typesOf,
  useWorld,
  workItem,
} from './support/harness.js';

const world = useWorld();

/** The documented ID: sha256(source \n chat \n user \n type \n base version), docs/design.md, guarantee 4. */
function expectedId(
  source: string,
  chatId: number,
  userId: number,
  type: string,
  baseVersion: number,
): string {
  return createHash('sha256')
    .update([source, chatId, userId, type, baseVersion].join('\n'))
    .digest('hex');
}

async function runTick(deployment: Deployment, portalId: string, chatIds: number[], tick: number) {
  const worker = deployment.worker();
  return worker(
    sqsEvent([sqsRecord(workItem(portalId, chatIds, tick), { queueArn: deployment.workQueueArn })]),
  );
}

describe('worker Lambda: membership changes end to end', () => {
  it('publishes a baseline, then exactly the joins and leaves made between runs, then nothing', async () => {
    // Prepare
    const chat = world().sim.admin.createChat({ title: 'Audit', memberIds: [1, 2, 3, 4] });
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chat.id] }] });
    const source = new URL(world().sim.baseUrl).origin;

    // Act: first run
    const first = await runTick(deployment, 'acme', [chat.id], 1);
    const baseline = await deployment.events();

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(typesOf(baseline)).toEqual(['chat.baseline.v1']);
    expect(baseline[0]?.event).toMatchObject({
      source,
      subject: `chat/${chat.id}`,
      data: { chatId: chat.id, members: [1, 2, 3, 4], memberCount: 4, sequence: 1, version: 1 },
    });
    expect(await deployment.snapshot('acme', chat.id)).toMatchObject({
      members: [1, 2, 3, 4],
      version: 1,
      sequence: 1,
    });

    // Act: membership changes, second run (a new Lambda container)
    world().sim.admin.addMembers(chat.id, [5, 20, 21]);
    world().sim.admin.removeMembers(chat.id, [3]);
    const second = await runTick(deployment, 'acme', [chat.id], 2);
    const changes = await deployment.events();

    // Assess
    expect(second.batchItemFailures).toEqual([]);
    expect(memberChanges(changes, chat.id)).toEqual([
      'joined:20',
      'joined:21',
      'joined:5',
      'left:3',
    ]);
    for (const { event } of changes) {
      const userId = event.data.userId as number;
      expect(event.id).toBe(expectedId(source, chat.id, userId, event.type, 1));
      expect(event.subject).toBe(`chat/${chat.id}/user/${userId}`);
      expect(event.data).toMatchObject({ baseVersion: 1, version: 2 });
      // From when the baseline's read began (its request, just before it was observed) to now.
      const window = event.data.window as { from: string; to: string };
      expect(window.to).toBe(event.time);
      expect(Date.parse(window.from)).toBeLessThanOrEqual(
        Date.parse(baseline[0]?.event.time ?? ''),
      );
      expect(Date.parse(window.from)).toBeGreaterThan(
        Date.parse(baseline[0]?.event.time ?? '') - 10_000,
      );
    }
    const left = changes.find((e) => e.event.type === EventTypes.left);
    expect(left?.event.data).toMatchObject({
      userId: 3,
      reason: 'left_or_removed',
      user: { firstName: 'Carla', active: true },
    });
    expect(await deployment.snapshot('acme', chat.id)).toMatchObject({
      members: [1, 2, 4, 5, 20, 21],
      version: 2,
      sequence: 5,
    });

    // Act: third run, nothing changed
    const third = await runTick(deployment, 'acme', [chat.id], 3);
    const none = await deployment.events();

    // Assess
    expect(third.batchItemFailures).toEqual([]);
    expect(none).toEqual([]);
    expect((await deployment.snapshot('acme', chat.id))?.version).toBe(2);

    // data.sequence: one per event, rising across runs, never reused.
    const sequences = [...baseline, ...changes].map((e) => e.event.data.sequence as number);
    expect([...sequences].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  });

  it('mirrors type, portal, chat, user, bot and extranet as SNS attributes that filter policies match', async () => {
    // Prepare
    const chat = world().sim.admin.createChat({ title: 'Contractors', memberIds: [1, 2, 3] });
    const deployment = await world().deploy({
      portals: [{ id: 'acme', chats: [chat.id] }],
      filtered: {
        extranet: { extranet: ['true'] },
        botJoins: { type: [EventTypes.joined], bot: ['true'] },
      },
    });
    await runTick(deployment, 'acme', [chat.id], 1);
    await deployment.events();
    world().sim.admin.addMembers(chat.id, [20, 21, 4]);
    world().sim.admin.removeMembers(chat.id, [2]);

    // Act
    await runTick(deployment, 'acme', [chat.id], 2);
    const all = await deployment.events();
    const extranet = await deployment.filteredEvents('extranet');
    const botJoins = await deployment.filteredEvents('botJoins');

    // Assess
    const joined21 = all.find((e) => e.event.data.userId === 21);
    expect(joined21?.attributes).toEqual({
      type: EventTypes.joined,
      portal: new URL(world().sim.baseUrl).origin,
      chatId: String(chat.id),
      userId: '21',
      bot: 'false',
      extranet: 'true',
    });
    expect(extranet.map((e) => `${e.event.type}:${e.event.data.userId}`)).toEqual([
      `${EventTypes.joined}:21`,
    ]);
    expect(botJoins.map((e) => `${e.event.type}:${e.event.data.userId}`)).toEqual([
      `${EventTypes.joined}:20`,
    ]);
    expect(memberChanges(all, chat.id)).toEqual(['joined:20', 'joined:21', 'joined:4', 'left:2']);
  });
});
