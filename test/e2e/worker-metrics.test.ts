import { describe, expect, it } from 'vitest';
import { captureMetrics, sqsEvent, sqsRecord, useWorld, workItem } from './support/harness.js';

/**
 * The worker's EMF output, as CloudWatch would ingest it: one blob per work item, each with
 * exactly the `service` + `portal` dimension set the dashboard's per-portal views query and the
 * `service` set the alarms query (`infra/monitoring.ts`). A dimension left over from an earlier
 * item of the same invocation (or container) would move the metrics to a dimension set nothing
 * looks at.
 */

const world = useWorld();

interface EmfBlob {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

describe('worker metrics', () => {
  it('publishes one blob per work item with only its own portal dimension, across items and invocations', async () => {
    // Prepare: two portals; alpha has an unreadable chat (empty list), beta reads fine
    const beta = await world().startExtraSimulator();
    const a1 = world().sim.admin.createChat({ title: 'A1', memberIds: [1, 2] }).id;
    const hidden = world().sim.admin.createChat({ title: 'Hidden', memberIds: [2, 3] }).id;
    const b1 = beta.admin.createChat({ title: 'B1', memberIds: [1, 4, 5] }).id;
    const b2 = beta.admin.createChat({ title: 'B2', memberIds: [1, 6] }).id;
    const deployment = await world().deploy({
      portals: [
        { id: 'alpha', chats: [a1, hidden] },
        { id: 'beta', sim: beta, chats: [b1, b2] },
      ],
    });
    const queueArn = deployment.workQueueArn;
    const { metrics, lines } = captureMetrics();
    const worker = deployment.worker({ metrics });

    // Act: two items of different portals in one invocation, then a second invocation
    await worker(
      sqsEvent([
        sqsRecord(workItem('alpha', [a1, hidden]), { queueArn, messageId: 'a-1' }),
        sqsRecord(workItem('beta', [b1, b2]), { queueArn, messageId: 'b-1' }),
      ]),
    );
    await worker(
      sqsEvent([sqsRecord(workItem('beta', [b1, b2], 2), { queueArn, messageId: 'b-2' })]),
    );

    // Assess
    const blobs = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as EmfBlob);
    expect(blobs.map((b) => b.portal)).toEqual(['alpha', 'beta', 'beta']);
    for (const blob of blobs) {
      const [directive, ...more] = blob._aws.CloudWatchMetrics;
      expect(more).toEqual([]);
      expect(directive?.Namespace).toBe('MembershipSync');
      expect(directive?.Dimensions).toEqual([['service', 'portal'], ['service']]);
      expect(blob.service).toBe('membership-sync');
    }
    expect(blobs.map((b) => [b.ChatsSynced, b.ChatsFailed])).toEqual([
      [1, 1],
      [2, 0],
      [2, 0],
    ]);
  });
});

describe('worker metrics when the work item itself fails', () => {
  it('counts the chats of an item that threw as failed, under its portal', async () => {
    // Prepare: a chat synced once; then the snapshot table refuses every write
    const chatId = world().sim.admin.createChat({ title: 'Broken store', memberIds: [1, 2] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'gamma', chats: [chatId] }] });
    const queueArn = deployment.workQueueArn;
    const { metrics, lines } = captureMetrics();
    const worker = deployment.worker({ metrics });
    world().sim.admin.addMembers(chatId, [3]);
    world().edge.before = ({ service }) => {
      if (service === 'dynamodb') throw new Error('simulated outage: DynamoDB unreachable');
    };

    // Act
    let response: Awaited<ReturnType<typeof worker>>;
    try {
      response = await worker(
        sqsEvent([sqsRecord(workItem('gamma', [chatId]), { queueArn, messageId: 'g-1' })]),
      );
    } finally {
      world().edge.before = undefined;
    }

    // Assess
    const blobs = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as EmfBlob);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'g-1' }]);
    expect(blobs.map((b) => [b.portal, b.ChatsFailed])).toEqual([['gamma', 1]]);
  });
});

describe('worker metrics of a shared rate limit', () => {
  it('counts the answers of 503 QUERY_LIMIT_EXCEEDED per work item, under its portal', async () => {
    // Prepare: another integration has filled the portal's bucket for the next two requests
    const chatId = world().sim.admin.createChat({ title: 'Busy portal', memberIds: [1, 2] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'delta', chats: [chatId] }] });
    const queueArn = deployment.workQueueArn;
    const { metrics, lines } = captureMetrics();
    const worker = deployment.worker({ metrics });
    world().sim.faults.inject({
      method: 'batch',
      kind: 'status',
      status: 503,
      error: 'QUERY_LIMIT_EXCEEDED',
      description: 'Too many requests',
      times: 2,
    });

    // Act
    const first = await worker(
      sqsEvent([sqsRecord(workItem('delta', [chatId]), { queueArn, messageId: 'd-1' })]),
    );
    await worker(
      sqsEvent([sqsRecord(workItem('delta', [chatId], 2), { queueArn, messageId: 'd-2' })]),
    );

    // Assess: the item synced all the same; the second item's count starts from zero
    const blobs = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as EmfBlob);
    expect(first.batchItemFailures).toEqual([]);
    expect(blobs.map((b) => [b.portal, b.ChatsSynced, b.RateLimited])).toEqual([
      ['delta', 1, 2],
      ['delta', 1, 0],
    ]);
  });
});
