import { describe, expect, it } from 'vitest';
import { DEADLINE_MARGIN_MS } from '../../functions/app/lambda-worker.js';
import { MIN_REQUEST_MS } from '../../functions/bitrix24/bitrix24-client.js';
import { lambdaContext, sqsEvent, sqsRecord, useWorld, workItem } from './support/harness.js';

/**
 * The worker's deadline comes from the Lambda context: every Bitrix24 wait and request ends
 * DEADLINE_MARGIN_MS before the invocation would be stopped, and work that cannot be done by
 * then goes back to the queue instead of being cut off mid-way.
 */

const world = useWorld();

describe('worker Lambda deadline', () => {
  it('reads nothing and returns the item when too little time is left, keeping the snapshot', async () => {
    // Prepare: a synced chat, then a member leaves
    const chatId = world().sim.admin.createChat({ title: 'Late', memberIds: [1, 2, 3] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'late', chats: [chatId] }] });
    const queueArn = deployment.workQueueArn;
    const worker = deployment.worker();
    await worker(sqsEvent([sqsRecord(workItem('late', [chatId]), { queueArn })]));
    const before = await deployment.snapshot('late', chatId);
    await deployment.events();
    world().sim.admin.removeMembers(chatId, [3]);
    world().sim.resetStats();

    // Act: the invocation has less than one request's time left after the margin
    const response = await worker(
      sqsEvent([sqsRecord(workItem('late', [chatId], 2), { queueArn, messageId: 'late-1' })]),
      lambdaContext(DEADLINE_MARGIN_MS + MIN_REQUEST_MS - 1),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'late-1' }]);
    expect(world().sim.stats().requests).toBe(0);
    expect(await deployment.snapshot('late', chatId)).toEqual(before);
    expect(await deployment.events({ idleMs: 300 })).toEqual([]);
  });

  it('syncs in a later invocation with time to spare what an earlier one had no time for', async () => {
    // Prepare: the first invocation of the container starts with its margin already used up
    const chatId = world().sim.admin.createChat({ title: 'On time', memberIds: [1, 2] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'ontime', chats: [chatId] }] });
    const queueArn = deployment.workQueueArn;
    const worker = deployment.worker();
    const late = await worker(
      sqsEvent([sqsRecord(workItem('ontime', [chatId]), { queueArn, messageId: 'on-1' })]),
      lambdaContext(DEADLINE_MARGIN_MS),
    );

    // Act: the same container, a new invocation with minutes left
    const onTime = await worker(
      sqsEvent([sqsRecord(workItem('ontime', [chatId]), { queueArn, messageId: 'on-2' })]),
      lambdaContext(300_000),
    );

    // Assess
    expect(late.batchItemFailures).toEqual([{ itemIdentifier: 'on-1' }]);
    expect(onTime.batchItemFailures).toEqual([]);
    expect(await deployment.snapshot('ontime', chatId)).toMatchObject({ members: [1, 2] });
  });
});
