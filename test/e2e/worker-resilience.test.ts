import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamoDbSnapshotStore } from '../../functions/adapters/dynamodb-snapshot-store.js';
import { DEADLINE_MARGIN_MS } from '../../functions/app/lambda-worker.js';
import { EventTypes } from '../../functions/core/cloud-event.js';
import { releaseHeldChange } from '../../functions/core/release-held-change.js';
import { DYNAMODB_WRITES } from './support/aws-edge.js';
import {
  captureLogger,
  type Deployment,
  lambdaContext,
  memberChanges,
  type ReceivedEvent,
  sqsEvent,
  sqsEventFromMessages,
  sqsRecord,
  typesOf,
  useWorld,
  workItem,
} from './support/harness.js';

const world = useWorld();
let tick = 0;

afterEach(() => {
  world().edge.before = undefined;
});

async function run(
  deployment: Deployment,
  chatIds: number[],
  worker = deployment.worker(),
): Promise<{ failed: boolean }> {
  const messageId = `msg-${++tick}`;
  const response = await worker(
    sqsEvent([
      sqsRecord(workItem('acme', chatIds, tick), { queueArn: deployment.workQueueArn, messageId }),
    ]),
  );
  return { failed: response.batchItemFailures.some((f) => f.itemIdentifier === messageId) };
}

const ids = (events: readonly ReceivedEvent[]) => events.map((e) => e.event.id).sort();

describe('worker Lambda: breaker, crashes and overlapping runs', () => {
  it('holds a mass removal, keeps the snapshot, and applies it on the next run after a release', async () => {
    // Prepare: 12 members, 7 of them leave (> 50 % and > 5)
    const chatId = world().sim.admin.createChat({
      title: 'Mass',
      memberIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    }).id;
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chatId] }] });
    await run(deployment, [chatId]);
    await deployment.events();
    const baseline = await deployment.snapshot('acme', chatId);
    world().sim.admin.removeMembers(chatId, [2, 3, 4, 5, 6, 7, 8]);

    // Act
    const held = await run(deployment, [chatId]);
    const heldEvents = await deployment.events();
    const heldAgain = await run(deployment, [chatId]);
    const heldAgainEvents = await deployment.events();

    // Assess
    expect(held.failed).toBe(false);
    expect(typesOf(heldEvents)).toEqual(['chat.mass_change_held.v1']);
    expect(heldEvents[0]?.event.data).toMatchObject({
      previousCount: 12,
      observedCount: 5,
      leftCount: 7,
      left: [2, 3, 4, 5, 6, 7, 8],
      breaker: { maxRemovedShare: 0.5, minRemoved: 5 },
    });
    expect(heldAgain.failed).toBe(false);
    expect(heldAgainEvents).toEqual([]);
    const heldSnapshot = await deployment.snapshot('acme', chatId);
    expect(heldSnapshot?.members).toEqual(baseline?.members);
    expect(heldSnapshot?.held).toMatchObject({ left: [2, 3, 4, 5, 6, 7, 8], released: false });

    // Act: the operator releases it (what `membership-sync release` does), then the next run
    const store = createDynamoDbSnapshotStore({
      client: world().dynamo.documentClient,
      tableName: deployment.tableName,
    });
    if (!heldSnapshot) throw new Error('no snapshot');
    await store.save(releaseHeldChange(heldSnapshot), { version: heldSnapshot.version });
    const applied = await run(deployment, [chatId]);
    const appliedEvents = await deployment.events();

    // Assess
    expect(applied.failed).toBe(false);
    expect(memberChanges(appliedEvents, chatId)).toEqual(
      [2, 3, 4, 5, 6, 7, 8].map((id) => `left:${id}`).sort(),
    );
    expect(
      appliedEvents.every((e) => e.event.data.heldSince === heldSnapshot.held?.detectedAt),
    ).toBe(true);
    const after = await deployment.snapshot('acme', chatId);
    expect(after?.members).toEqual([1, 9, 10, 11, 12]);
    expect(after?.held).toBeUndefined();
  });

  it('finishes the recorded change with identical IDs when the commit fails after publishing', async () => {
    // Prepare
    const chatId = world().sim.admin.createChat({ title: 'Crash', memberIds: [1, 2, 3] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chatId] }] });
    await run(deployment, [chatId]);
    await deployment.events();
    world().sim.admin.addMembers(chatId, [4, 5]);
    world().sim.admin.removeMembers(chatId, [2]);
    // The first write records the change (the outbox); every later one fails.
    let writes = 0;
    world().edge.before = ({ service, operation }) => {
      if (service === 'dynamodb' && DYNAMODB_WRITES.has(operation) && ++writes > 1) {
        throw new Error('simulated crash: the process died before the commit');
      }
    };

    // Act: the crashed run
    const crashed = await run(deployment, [chatId]);
    const firstDelivery = await deployment.events();
    const afterCrash = await deployment.snapshot('acme', chatId);
    world().edge.before = undefined;

    // Assess
    expect(writes).toBeGreaterThan(1);
    expect(crashed.failed).toBe(true);
    expect(memberChanges(firstDelivery, chatId)).toEqual(['joined:4', 'joined:5', 'left:2']);
    expect(afterCrash?.version).toBe(1);
    expect(afterCrash?.members).toEqual([1, 2, 3]);
    expect(afterCrash?.pending).toMatchObject({ joined: [4, 5], left: [2] });

    // Act: the retry
    const retried = await run(deployment, [chatId]);
    const secondDelivery = await deployment.events();
    const quiet = await run(deployment, [chatId]);
    const thirdDelivery = await deployment.events();

    // Assess: same IDs, same changes, then the snapshot reflects them
    expect(retried.failed).toBe(false);
    expect(ids(secondDelivery)).toEqual(ids(firstDelivery));
    expect(memberChanges(secondDelivery, chatId)).toEqual(memberChanges(firstDelivery, chatId));
    expect(quiet.failed).toBe(false);
    expect(thirdDelivery).toEqual([]);
    expect(await deployment.snapshot('acme', chatId)).toMatchObject({
      members: [1, 3, 4, 5],
      version: 2,
    });
  });

  it('records the change once when two runs overlap: one set of IDs, history stays single', async () => {
    // Prepare
    const chatId = world().sim.admin.createChat({ title: 'Race', memberIds: [1, 2, 3] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chatId] }] });
    await run(deployment, [chatId]);
    await deployment.events();
    world().sim.admin.addMembers(chatId, [6]);
    world().sim.admin.removeMembers(chatId, [3]);
    // Interleave: neither run may write before both have read the snapshot.
    let loads = 0;
    let bothLoaded!: () => void;
    const gate = new Promise<void>((resolve) => {
      bothLoaded = resolve;
    });
    world().edge.before = async ({ service, operation }) => {
      if (service !== 'dynamodb') return;
      if (operation === 'BatchGetItem' && ++loads === 2) bothLoaded();
      if (DYNAMODB_WRITES.has(operation)) await gate;
    };

    // Act: two Lambda containers, the same work item
    const [a, b] = await Promise.all([
      run(deployment, [chatId], deployment.worker()),
      run(deployment, [chatId], deployment.worker()),
    ]);
    world().edge.before = undefined;
    const delivered = await deployment.events({ expected: 2 });
    const straggling = await deployment.events();

    // Assess: one change, recorded once. The loser's record write fails its condition before it
    // publishes; only a loser that recorded the very same change (same read, same instant) may
    // publish it too, with the same IDs.
    expect(loads).toBe(2);
    expect([a.failed, b.failed]).toEqual([false, false]);
    const all = [...delivered, ...straggling];
    const distinct = [...new Map(all.map((e) => [e.event.id, e])).values()];
    expect(memberChanges(distinct, chatId)).toEqual(['joined:6', 'left:3']);
    expect(all.length === 2 || all.length === 4).toBe(true);
    const after = await deployment.snapshot('acme', chatId);
    expect(after).toMatchObject({ members: [1, 2, 6], version: 2, sequence: 3 });

    // Act: the history goes on from version 2
    world().sim.admin.addMembers(chatId, [7]);
    await run(deployment, [chatId]);
    const next = await deployment.events();

    // Assess
    expect(next.map((e) => e.event.data)).toEqual([
      expect.objectContaining({ userId: 7, baseVersion: 2, version: 3, sequence: 4 }),
    ]);
  });

  it('stops publishing a huge change at the deadline, records its progress and continues it in a fresh message', async () => {
    // Prepare: 2,500 members join; the invocation's deadline passes while the first 1,000 events
    // are being published (the first PublishBatch waits past it)
    const chatId = world().sim.admin.createChat({ title: 'Huge', memberIds: [1] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chatId] }] });
    await run(deployment, [chatId]);
    await deployment.events();
    world().sim.admin.addUsers(2_500);
    world().sim.admin.addMembers(chatId, world().sim.admin.userIds().slice(-2_500));
    let publishes = 0;
    world().edge.before = async ({ service, operation }) => {
      if (service === 'sns' && operation === 'PublishBatch' && ++publishes === 1) {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      }
    };
    const context = lambdaContext(DEADLINE_MARGIN_MS + 2_000);
    const messageId = 'msg-huge';
    const record = sqsRecord(workItem('acme', [chatId], ++tick), {
      queueArn: deployment.workQueueArn,
      messageId,
    });

    // Act: the first invocation runs out of time
    const first = await deployment.worker()(sqsEvent([record]), context);
    world().edge.before = undefined;
    const stopped = await deployment.snapshot('acme', chatId);
    const { Messages = [] } = await world().aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deployment.workQueueUrl, MaxNumberOfMessages: 10 }),
    );

    // Assess: acknowledged (no receive spent), progress recorded, a continuation queued
    expect(first.batchItemFailures).toEqual([]);
    expect(stopped?.pending).toMatchObject({ eventCount: 2_500, published: 1_000 });
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages[0]?.Body ?? '{}')).toMatchObject({ chatIds: [chatId] });

    // Act: the continuation
    const second = await deployment.worker()(
      sqsEventFromMessages(Messages, deployment.workQueueArn),
    );
    const delivered = await deployment.events({ expected: 2_500 });

    // Assess: every join once or more, each ID with one sequence, the change committed
    expect(second.batchItemFailures).toEqual([]);
    expect(new Set(ids(delivered)).size).toBe(2_500);
    expect(await deployment.snapshot('acme', chatId)).toMatchObject({
      version: 2,
      sequence: 2_501,
    });
    expect((await deployment.snapshot('acme', chatId))?.pending).toBeUndefined();
  });

  it('blocks the later items of a failing FIFO group in the batch while another group proceeds', async () => {
    // Prepare: two portals (two message groups); the first item of "alpha" fails
    const beta = await world().startExtraSimulator();
    const a1 = world().sim.admin.createChat({ title: 'A1', memberIds: [1, 2] }).id;
    const a2 = world().sim.admin.createChat({ title: 'A2', memberIds: [1, 3] }).id;
    const b1 = beta.admin.createChat({ title: 'B1', memberIds: [1, 4, 5] }).id;
    const deployment = await world().deploy({
      portals: [
        { id: 'alpha', chats: [a1, a2] },
        { id: 'beta', sim: beta, chats: [b1] },
      ],
    });
    const queueArn = deployment.workQueueArn;
    const records = [
      sqsRecord(workItem('alpha', [a1]), { queueArn, messageId: 'alpha-1', receiveCount: 3 }),
      sqsRecord(workItem('beta', [b1]), { queueArn, messageId: 'beta-1' }),
      sqsRecord(workItem('alpha', [a2]), { queueArn, messageId: 'alpha-2' }),
    ];
    world().sim.faults.inject({ kind: 'html', status: 502, method: 'batch', times: 2 });
    world().sim.resetStats();
    const backoffs: number[] = [];

    // Act
    const logger = captureLogger();
    const response = await deployment.worker({
      logger,
      retryBackoff: (receiveCount) => {
        backoffs.push(receiveCount);
        return 1;
      },
    })(sqsEvent(records));
    const events = await deployment.events();

    // Assess: only the failed item waits out a backoff; the one behind it is released at once
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'alpha-1' },
      { itemIdentifier: 'alpha-2' },
    ]);
    expect(backoffs).toEqual([3]);
    expect(world().sim.stats().byMethod.batch).toBe(2);
    expect(events.map((e) => [e.event.type, e.event.data.portalId, e.event.data.chatId])).toEqual([
      [EventTypes.baseline, 'beta', b1],
    ]);
    expect(await deployment.snapshot('alpha', a1)).toBeUndefined();
    expect(await deployment.snapshot('alpha', a2)).toBeUndefined();
    expect((await deployment.snapshot('beta', b1))?.members).toEqual([1, 4, 5]);
  });

  it('retries a failed item after a short backoff instead of the queue visibility timeout', async () => {
    // Prepare: a work item received from the real FIFO queue with a 30-minute visibility
    const a1 = world().sim.admin.createChat({ title: 'A1', memberIds: [1, 2] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'alpha', chats: [a1] }] });
    await world().aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: deployment.workQueueUrl,
        MessageBody: JSON.stringify(workItem('alpha', [a1])),
        MessageGroupId: 'alpha',
        MessageDeduplicationId: `chat${a1}`,
      }),
    );
    const receive = () =>
      world().aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: deployment.workQueueUrl, VisibilityTimeout: 1800 }),
      );
    const { Messages = [] } = await receive();
    world().sim.faults.inject({ kind: 'html', status: 502, method: 'batch', times: 3 });
    const backoffs: number[] = [];

    // Act: the real backoff is 30 s for a first receive; this one is 1 s so the test can see it
    const response = await deployment.worker({
      bitrix24: { retry: { maxAttempts: 1 } },
      retryBackoff: (receiveCount) => {
        backoffs.push(receiveCount);
        return 1;
      },
    })(sqsEventFromMessages(Messages, deployment.workQueueArn));
    const atOnce = await receive();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const afterBackoff = await receive();

    // Assess: invisible during the backoff, back after it, not after the queue's 30 minutes
    expect(response.batchItemFailures).toHaveLength(1);
    expect(backoffs).toEqual([1]);
    expect(atOnce.Messages ?? []).toEqual([]);
    expect(afterBackoff.Messages?.map((m) => JSON.parse(m.Body ?? '{}').chatIds)).toEqual([[a1]]);
  });
});
