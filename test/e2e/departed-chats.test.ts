import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../functions/config/config-schema.js';
import { createReferenceConsumer } from '../../functions/consumer/reference-consumer.js';
import {
  type Deployment,
  type ReceivedEvent,
  sqsEventFromMessages,
  typesOf,
  useWorld,
} from './support/harness.js';

const world = useWorld();

/** One schedule tick: the planner, then a worker for everything it queued. */
async function tick(deployment: Deployment, at: string): Promise<ReceivedEvent[]> {
  await deployment.planner()({ scheduledTime: at });
  const messages = await deployment.workMessages();
  const response = await deployment.worker()(
    sqsEventFromMessages(messages, deployment.workQueueArn),
  );
  expect(response.batchItemFailures).toEqual([]);
  return deployment.events();
}

describe('a chat that leaves the set', () => {
  it('discovery: the integration user removed from a chat yields chat.access_lost within a tick, no leave; re-added, its members are right', async () => {
    // Prepare: every group chat of the integration user (user 1), read in full each tick
    const deployment = await world().deploy({
      portals: [{ id: 'acme', chats: { discover: true }, reads: { mode: 'full' } }],
    });
    const chat = world().sim.admin.createChat({ title: 'Leaving', memberIds: [1, 2, 3] });
    const source = new URL(world().sim.baseUrl).origin;
    const all: ReceivedEvent[] = [];
    all.push(...(await tick(deployment, '2026-11-21T10:00:00Z')));

    // Act: the integration user is removed from the chat
    world().sim.admin.removeMembers(chat.id, [1]);
    const lost = await tick(deployment, '2026-11-21T10:15:00Z');
    all.push(...lost);
    const quiet = await tick(deployment, '2026-11-21T10:30:00Z');

    // Assess
    expect(typesOf(lost, chat.id)).toEqual(['chat.access_lost.v1']);
    expect(typesOf(quiet, chat.id)).toEqual([]);
    expect((await deployment.snapshot('acme', chat.id))?.accessLostAt).toBeDefined();

    // Act: re-added, and someone else left meanwhile
    world().sim.admin.removeMembers(chat.id, [3]);
    world().sim.admin.addMembers(chat.id, [1]);
    const back = await tick(deployment, '2026-11-21T10:45:00Z');
    all.push(...back);

    // Assess: the consumer's member list is the portal's
    expect(typesOf(back, chat.id)).toEqual(['chat.member.left.v1']);
    const consumer = createReferenceConsumer();
    for (const { event } of all) consumer.apply(event);
    expect([...(consumer.members(source, chat.id) ?? [])].sort()).toEqual([1, 2]);
    expect(consumer.anomalies()).toEqual([]);
  });

  it('configured list: a chat deleted from the config is retired with one event, then no longer read', async () => {
    // Prepare
    const keep = world().sim.admin.createChat({ title: 'Kept', memberIds: [1, 2] });
    const drop = world().sim.admin.createChat({ title: 'Dropped', memberIds: [1, 2, 3] });
    const deployment = await world().deploy({
      portals: [{ id: 'acme', chats: [keep.id, drop.id] }],
    });
    await tick(deployment, '2026-11-21T11:00:00Z');

    // Act: the chat is deleted from the config
    const config = JSON.parse(
      readFileSync(deployment.env.CONFIG_PATH as string, 'utf8'),
    ) as ConfigInput;
    const [portal] = config.portals;
    if (!portal) throw new Error('no portal');
    portal.chats = [keep.id];
    writeFileSync(deployment.env.CONFIG_PATH as string, JSON.stringify(config));
    world().sim.admin.addMembers(drop.id, [4]);
    const retired = await tick(deployment, '2026-11-21T11:15:00Z');
    const after = await tick(deployment, '2026-11-21T11:30:00Z');

    // Assess
    expect(typesOf(retired, drop.id)).toEqual(['chat.retired.v1']);
    expect(retired.find((e) => e.event.data.chatId === drop.id)?.event.data).toMatchObject({
      lastKnownMemberCount: 3,
      sequence: 2,
    });
    expect(typesOf(after, drop.id)).toEqual([]);
    expect((await deployment.snapshot('acme', drop.id))?.retiredAt).toBeDefined();
  });
});
