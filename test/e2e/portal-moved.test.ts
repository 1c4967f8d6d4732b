import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../functions/config/config-schema.js';
import { createReferenceConsumer } from '../../functions/consumer/reference-consumer.js';
import { sqsEvent, sqsRecord, useWorld, workItem } from './support/harness.js';

const world = useWorld();

describe("a portal's new domain", () => {
  it('continues every chat under its first source, so a consumer folding by (source, chat) still equals the portal', async () => {
    // Prepare: one tick under the first URL
    const chat = world().sim.admin.createChat({ title: 'Moves', memberIds: [1, 2, 3] });
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chat.id] }] });
    const run = (tick: number) =>
      deployment.worker()(
        sqsEvent([
          sqsRecord(workItem('acme', [chat.id], tick), { queueArn: deployment.workQueueArn }),
        ]),
      );
    await run(1);
    const before = await deployment.events();
    const firstUrl = new URL(world().sim.baseUrl).origin;

    // Act: the operator follows the REDIRECT advice — new `url`, the old one kept as `source`
    const configPath = deployment.env.CONFIG_PATH as string;
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as ConfigInput;
    const [portal] = config.portals;
    if (!portal) throw new Error('no portal');
    portal.url = 'https://acme.bitrix24.de';
    portal.source = firstUrl;
    writeFileSync(configPath, JSON.stringify(config));
    world().sim.admin.addMembers(chat.id, [7]);
    world().sim.admin.removeMembers(chat.id, [2]);
    await run(2);
    const after = await deployment.events();

    // Assess
    expect(after.map((e) => e.event.source)).toEqual([firstUrl, firstUrl]);
    expect(after.map((e) => e.event.data.sequence).sort()).toEqual([2, 3]);
    const consumer = createReferenceConsumer();
    for (const { event } of [...before, ...after]) expect(consumer.apply(event)).toBe('applied');
    expect([...(consumer.members(firstUrl, chat.id) ?? [])].sort()).toEqual([1, 3, 7]);
    expect(consumer.anomalies()).toEqual([]);
  });
});
