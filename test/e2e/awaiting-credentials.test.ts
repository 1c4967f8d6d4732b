import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { AWAITING_CREDENTIALS_PLACEHOLDER } from '../../functions/adapters/secrets-manager-credentials.js';
import {
  captureLogger,
  captureMetrics,
  sqsEvent,
  sqsRecord,
  useWorld,
  workItem,
} from './support/harness.js';

/**
 * A first deploy before the operator has written the secrets: a portal whose secret does not
 * exist yet or holds the placeholder is "awaiting credentials" — a log line and a metric, never a
 * failed chat, a failed invocation, a retried work item or a DLQ'd tick (docs/operations.md).
 */

const world = useWorld();

interface EmfBlob {
  readonly _aws: { readonly CloudWatchMetrics: readonly { readonly Dimensions: string[][] }[] };
  readonly [key: string]: unknown;
}

const blobsOf = (lines: readonly string[]) =>
  lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as EmfBlob);

describe('a portal awaiting credentials', () => {
  it('is skipped by the worker: the item succeeds, nothing is read or stored, and it is logged and counted', async () => {
    // Prepare: one portal without a secret, one with the placeholder, one ready
    const chatId = world().sim.admin.createChat({ title: 'Calm', memberIds: [1, 2] }).id;
    const deployment = await world().deploy({
      portals: [
        { id: 'absent', chats: [chatId], secret: { kind: 'missing' } },
        {
          id: 'placeholder',
          chats: [chatId],
          secret: { kind: 'raw', value: AWAITING_CREDENTIALS_PLACEHOLDER },
        },
        { id: 'ready', chats: [chatId] },
      ],
    });
    const queueArn = deployment.workQueueArn;
    const logger = captureLogger();
    const { metrics, lines } = captureMetrics();
    const worker = deployment.worker({ logger, metrics });

    // Act
    const response = await worker(
      sqsEvent(
        ['absent', 'placeholder', 'ready'].map((portal) =>
          sqsRecord(workItem(portal, [chatId]), { queueArn, messageId: portal }),
        ),
      ),
    );
    const events = await deployment.events({ expected: 1 });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(events.map((e) => e.event.data.portalId)).toEqual(['ready']);
    expect(await deployment.snapshot('absent', chatId)).toBeUndefined();
    expect(await deployment.snapshot('placeholder', chatId)).toBeUndefined();
    const awaiting = logger.lines.filter((l) => l.includes('awaiting credentials'));
    expect(awaiting).toHaveLength(2);
    expect(awaiting[0]).toContain('"reason":"not_found"');
    expect(awaiting[1]).toContain('"reason":"placeholder"');
    expect(logger.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    const blobs = blobsOf(lines);
    expect(blobs.map((b) => [b.portal, b.AwaitingCredentials, b.ChatsFailed])).toEqual([
      ['absent', 1, undefined],
      ['placeholder', 1, undefined],
      ['ready', undefined, 0],
    ]);
    expect(blobs[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'portal'],
      ['service'],
    ]);
  });

  it('is left out of discovery by the planner without failing the tick, and counted', async () => {
    // Prepare
    const deployment = await world().deploy({
      portals: [
        { id: 'absent', chats: { discover: true }, secret: { kind: 'missing' } },
        {
          id: 'placeholder',
          chats: { discover: true },
          secret: { kind: 'raw', value: AWAITING_CREDENTIALS_PLACEHOLDER },
        },
        { id: 'explicit', chats: [2] },
      ],
    });
    const logger = captureLogger();
    const { metrics, lines } = captureMetrics();

    // Act
    const report = await deployment.planner({ logger, metrics })({
      scheduledTime: '2026-11-21T12:00:00Z',
    });
    const { Messages = [] } = await world().aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deployment.workQueueUrl, MaxNumberOfMessages: 10 }),
    );

    // Assess
    expect(report.failed).toBe(0);
    expect(report.awaitingCredentials).toEqual([
      { portalId: 'absent', secretId: deployment.secretArns.absent, reason: 'not_found' },
      {
        portalId: 'placeholder',
        secretId: deployment.secretArns.placeholder,
        reason: 'placeholder',
      },
    ]);
    expect(
      Messages.map((m) => (JSON.parse(m.Body ?? '{}') as { portalId: string }).portalId),
    ).toEqual(['explicit']);
    expect(logger.lines.filter((l) => l.includes('awaiting credentials'))).toHaveLength(2);
    expect(blobsOf(lines).map((b) => [b.portal, b.AwaitingCredentials])).toEqual([
      ['absent', 1],
      ['placeholder', 1],
    ]);
  });
});
