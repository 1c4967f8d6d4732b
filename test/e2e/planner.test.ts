import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../functions/core/model.js';
import {
  captureLogger,
  type Deployment,
  sqsEventFromMessages,
  typesOf,
  useWorld,
} from './support/harness.js';

const world = useWorld();

/** What EventBridge Scheduler sends: the stack's input `{ scheduledTime: <aws.scheduler.scheduled-time> }`. */
const tick = (scheduledTime: string) => ({ scheduledTime });

const receiveAll = (deployment: Deployment) => deployment.workMessages();

const bodyOf = (m: Message) => JSON.parse(m.Body ?? 'null') as WorkItem;

describe('planner Lambda', () => {
  it('turns a Scheduler tick into FIFO work items of at most 50 chats, one group per portal', async () => {
    // Prepare
    const many = Array.from({ length: 120 }, (_, i) => 1_000 + i);
    const deployment = await world().deploy({
      portals: [
        { id: 'acme', chats: [...many].reverse() },
        { id: 'globex', chats: [2, 3, 4] },
      ],
    });
    const planner = deployment.planner();

    // Act
    const report = await planner(tick('2026-11-21T10:15:00Z'));
    const messages = await receiveAll(deployment);

    // Assess
    expect(report).toMatchObject({
      scheduledAt: '2026-11-21T10:15:00.000Z',
      failed: 0,
      portals: [
        { portalId: 'acme', chats: 120, workItems: 3 },
        { portalId: 'globex', chats: 3, workItems: 1 },
      ],
    });
    const byGroup = (group: string) =>
      messages.filter((m) => m.Attributes?.MessageGroupId === group).map(bodyOf);
    expect(byGroup('acme').map((i) => i.chatIds)).toEqual([
      many.slice(0, 50),
      many.slice(50, 100),
      many.slice(100),
    ]);
    // Hinted reads (the default): the first tick reads every chat, each a new one.
    expect(byGroup('globex')).toEqual([
      {
        portalId: 'globex',
        chatIds: [2, 3, 4],
        scheduledAt: '2026-11-21T10:15:00.000Z',
        reasons: { new: [2, 3, 4] },
      },
    ]);
    expect(
      messages.every((m) => /^[0-9a-f]{64}$/.test(m.Attributes?.MessageDeduplicationId ?? '')),
    ).toBe(true);
  });

  it('enqueues nothing twice when the same tick is planned again, and a new tick plans anew', async () => {
    // Prepare: full reads, so that the next tick plans every chat again
    const deployment = await world().deploy({
      portals: [
        {
          id: 'acme',
          chats: Array.from({ length: 60 }, (_, i) => i + 1),
          reads: { mode: 'full' },
        },
      ],
    });
    const planner = deployment.planner();

    // Act: Scheduler's retry of a tick (and a second container doing the same)
    await planner(tick('2026-11-21T10:30:00Z'));
    await planner(tick('2026-11-21T10:30:00Z'));
    await deployment.planner()(tick('2026-11-21T10:30:00Z'));
    const first = await receiveAll(deployment);
    await planner(tick('2026-11-21T10:30:00Z'));
    const repeated = await receiveAll(deployment);
    await planner(tick('2026-11-21T10:45:00Z'));
    const next = await receiveAll(deployment);

    // Assess
    expect(first.map((m) => bodyOf(m).chatIds.length)).toEqual([50, 10]);
    expect(repeated).toEqual([]);
    expect(next.map((m) => bodyOf(m).scheduledAt)).toEqual([
      '2026-11-21T10:45:00.000Z',
      '2026-11-21T10:45:00.000Z',
    ]);
    const dedup = (ms: Message[]) => ms.map((m) => m.Attributes?.MessageDeduplicationId);
    expect(dedup(next)).not.toEqual(dedup(first));
  });

  it('plans the discovered group chats of the integration user, minus exclusions, and the worker syncs them', async () => {
    // Prepare
    const deployment = await world().deploy({
      portals: [{ id: 'acme', chats: { discover: true, exclude: [4] } }],
    });
    const visible = world()
      .sim.admin.chats()
      .filter((c) => c.memberIds.includes(1) && c.type !== 'general' && c.id !== 4)
      .map((c) => c.id);

    // Act
    await deployment.planner()(tick('2026-11-21T11:00:00Z'));
    const messages = await receiveAll(deployment);
    const planned = messages.flatMap((m) => bodyOf(m).chatIds);
    const response = await deployment.worker()(
      sqsEventFromMessages(messages, deployment.workQueueArn),
    );
    const events = await deployment.events();

    // Assess
    expect(planned.filter((id) => id !== world().sim.admin.generalChatId)).toEqual(visible);
    expect(planned).not.toContain(4);
    expect(planned).not.toContain(5);
    expect(response.batchItemFailures).toEqual([]);
    expect(new Set(events.map((e) => e.event.data.chatId))).toEqual(new Set(planned));
    expect(new Set(typesOf(events))).toEqual(new Set(['chat.baseline.v1']));
  });

  it('refreshes an expired OAuth token while discovering, stores the new pair, and the worker uses it', async () => {
    // Prepare
    const deployment = await world().deploy({
      portals: [{ id: 'acme', chats: { discover: true }, secret: { kind: 'oauth' } }],
    });
    const secretArn = deployment.secretArns.acme ?? '';
    const before = JSON.parse(world().secrets.version(secretArn)?.secretString ?? '{}');
    world().sim.faults.inject({ kind: 'expire-tokens' });

    // Act
    await deployment.planner()(tick('2026-11-21T12:00:00Z'));
    const afterPlanning = JSON.parse(world().secrets.version(secretArn)?.secretString ?? '{}');
    const messages = await receiveAll(deployment);
    const response = await deployment.worker()(
      sqsEventFromMessages(messages, deployment.workQueueArn),
    );

    // Assess
    expect(afterPlanning.refreshToken).not.toBe(before.refreshToken);
    expect(messages.length).toBeGreaterThan(0);
    expect(response.batchItemFailures).toEqual([]);
    // The worker's own container loaded the planner's pair: no further refresh was needed.
    expect(JSON.parse(world().secrets.version(secretArn)?.secretString ?? '{}')).toEqual(
      afterPlanning,
    );
  });

  it('fails the invocation naming each portal whose secret is invalid or rejected, without the secret', async () => {
    // Prepare
    const leakyCode = 'leakycode4b9f2e7c1d';
    const wrongCode = 'wrongcode8a7d6c5b4e';
    const deployment = await world().deploy({
      portals: [
        { id: 'good', chats: [2] },
        {
          id: 'malformed',
          chats: { discover: true },
          secret: {
            kind: 'raw',
            value: { type: 'webhook', webhookUrl: `${world().sim.baseUrl}/rest/1/${leakyCode}` },
          },
        },
        {
          id: 'rejected',
          chats: { discover: true },
          secret: { kind: 'webhook', webhookUrl: `${world().sim.baseUrl}/rest/1/${wrongCode}/` },
        },
      ],
    });
    const logger = captureLogger();

    // Act
    const outcome = await deployment
      .planner({ logger })(tick('2026-11-21T11:15:00Z'))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const messages = await receiveAll(deployment);

    // Assess
    expect(outcome).toBeInstanceOf(Error);
    const message = (outcome as Error).message;
    expect(message).toMatch(/^2 portal\(s\) not planned/);
    for (const portal of ['malformed', 'rejected']) {
      expect(message).toContain(`${portal} (`);
    }
    expect(message).not.toContain('good (');
    expect(message).toContain('webhookUrl');
    const everything = [message, (outcome as Error).stack ?? '', ...logger.lines].join('\n');
    for (const secret of [leakyCode, wrongCode, ...deployment.secretValues]) {
      expect(everything).not.toContain(secret);
    }
    expect(messages.map((m) => bodyOf(m))).toEqual([
      {
        portalId: 'good',
        chatIds: [2],
        scheduledAt: '2026-11-21T11:15:00.000Z',
        reasons: { new: [2] },
      },
    ]);
  });
});
