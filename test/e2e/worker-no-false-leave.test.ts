import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../functions/core/model.js';
import type { Fault } from '../../local/simulator/types.js';
import {
  captureLogger,
  type Deployment,
  FAST_BITRIX24,
  memberChanges,
  sqsEvent,
  sqsRecord,
  typesOf,
  useWorld,
  workItem,
} from './support/harness.js';

/**
 * docs/design.md, guarantees 2 (no false leave) and 8 (a malformed answer fails that chat, not the run):
 * every way a read can go wrong, through the real worker, client and simulator, must leave the
 * stored snapshot as it was and publish no `left` event.
 */

const world = useWorld();
let tick = 0;

interface Synced {
  readonly deployment: Deployment;
  readonly chatIds: number[];
  run(options?: { timeoutMs?: number }): Promise<{ failed: boolean; messageId: string }>;
  snapshots(): Promise<(Snapshot | undefined)[]>;
}

/** A deployment whose chats have been baselined (their first events drained). */
async function synced(chatIds: number[]): Promise<Synced> {
  const deployment = await world().deploy({ portals: [{ id: 'acme', chats: chatIds }] });
  const run = async (options: { timeoutMs?: number } = {}) => {
    const messageId = `msg-${++tick}`;
    const worker = deployment.worker({
      logger: captureLogger(),
      bitrix24: { ...FAST_BITRIX24, ...options },
    });
    const response = await worker(
      sqsEvent([
        sqsRecord(workItem('acme', chatIds, tick), {
          queueArn: deployment.workQueueArn,
          messageId,
        }),
      ]),
    );
    return {
      messageId,
      failed: response.batchItemFailures.some((f) => f.itemIdentifier === messageId),
    };
  };
  const first = await run();
  expect(first.failed).toBe(false);
  const baselines = await deployment.events();
  expect(new Set(typesOf(baselines))).toEqual(new Set(['chat.baseline.v1']));
  return {
    deployment,
    chatIds,
    run,
    snapshots: () => Promise.all(chatIds.map((id) => deployment.snapshot('acme', id))),
  };
}

function newChat(members: number[]): number {
  return world().sim.admin.createChat({ title: 'Team', memberIds: members }).id;
}

describe('worker Lambda: no false leave', () => {
  it('keeps the snapshot and announces access_lost once when the webhook user is removed (empty list)', async () => {
    // Prepare
    const chatId = newChat([1, 2, 3, 4, 5, 6]);
    const chat = await synced([chatId]);
    const [before] = await chat.snapshots();
    world().sim.admin.removeMembers(chatId, [1]);

    // Act
    const lost = await chat.run();
    const lostEvents = await chat.deployment.events();
    const again = await chat.run();
    const againEvents = await chat.deployment.events();

    // Assess
    expect(lost.failed).toBe(false);
    expect(typesOf(lostEvents)).toEqual(['chat.access_lost.v1']);
    expect(lostEvents[0]?.event.data).toMatchObject({
      code: 'EMPTY_MEMBER_LIST',
      lastKnownMemberCount: 6,
    });
    expect(again.failed).toBe(false);
    expect(againEvents).toEqual([]);
    const [after] = await chat.snapshots();
    expect(after?.members).toEqual(before?.members);
    expect(after?.observedAt).toBe(before?.observedAt);
    expect(after?.accessLostAt).toBeDefined();

    // Act: access comes back with the same members
    world().sim.admin.addMembers(chatId, [1]);
    await chat.run();
    const backEvents = await chat.deployment.events();

    // Assess: no leave, no join, the flag is cleared
    expect(backEvents).toEqual([]);
    const [back] = await chat.snapshots();
    expect(back?.members).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back?.accessLostAt).toBeUndefined();
  });

  it('publishes nothing and stores nothing for a chat the webhook user was never in', async () => {
    // Prepare: demo chat 5 ("Finance") does not include the webhook user
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [5] }] });
    const worker = deployment.worker();

    // Act
    const response = await worker(
      sqsEvent([sqsRecord(workItem('acme', [5]), { queueArn: deployment.workQueueArn })]),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await deployment.events()).toEqual([]);
    expect(await deployment.snapshot('acme', 5)).toBeUndefined();
  });

  it('keeps the snapshot when a deleted chat answers with an empty list', async () => {
    // Prepare
    const chatId = newChat([1, 7, 8, 9]);
    const chat = await synced([chatId]);
    const [before] = await chat.snapshots();
    world().sim.admin.deleteChat(chatId);

    // Act
    await chat.run();
    const events = await chat.deployment.events();

    // Assess
    expect(typesOf(events)).toEqual(['chat.access_lost.v1']);
    const [after] = await chat.snapshots();
    expect(after?.members).toEqual(before?.members);
  });

  it('keeps the snapshot when the chat refuses both list methods with 403 ACCESS_ERROR', async () => {
    // Prepare
    const chatId = newChat([1, 10, 11, 12]);
    const chat = await synced([chatId]);
    const [before] = await chat.snapshots();
    world().sim.faults.inject({
      kind: 'status',
      status: 403,
      error: 'ACCESS_ERROR',
      method: 'im.chat.user.list',
    });
    world().sim.faults.inject({
      kind: 'status',
      status: 403,
      error: 'ACCESS_ERROR',
      description: 'You do not have access to the specified dialog',
      method: 'im.dialog.users.list',
    });

    // Act
    const result = await chat.run();
    const events = await chat.deployment.events();

    // Assess
    expect(result.failed).toBe(false);
    expect(typesOf(events)).toEqual(['chat.access_lost.v1']);
    expect(events[0]?.event.data.code).toBe('ACCESS_ERROR');
    const [after] = await chat.snapshots();
    expect(after?.members).toEqual(before?.members);
    expect(world().sim.faults.pending()).toBe(0);
  });

  it('returns the item for retry and keeps every snapshot when the whole request is refused with 403', async () => {
    // Prepare
    const chatIds = [newChat([1, 13, 14]), newChat([1, 15, 16])];
    const chat = await synced(chatIds);
    const before = await chat.snapshots();
    world().sim.faults.inject({
      kind: 'status',
      status: 403,
      error: 'insufficient_scope',
      description: 'The request requires higher privileges than provided by the webhook token',
      method: 'batch',
    });

    // Act
    const result = await chat.run();

    // Assess
    expect(result.failed).toBe(true);
    expect(await chat.deployment.events()).toEqual([]);
    expect(await chat.snapshots()).toEqual(before);
  });

  it('returns the item for retry and keeps the general chat when a keyset page comes back short', async () => {
    // Prepare: the general chat refuses im.chat.user.list; the worker falls back to keyset pages
    const general = world().sim.admin.generalChatId;
    const chat = await synced([general]);
    const [before] = await chat.snapshots();
    expect(before?.members.length).toBeGreaterThan(20);
    world().sim.faults.inject({ kind: 'short-page', drop: 3, method: 'im.dialog.users.list' });

    // Act
    const result = await chat.run();

    // Assess
    expect(result.failed).toBe(true);
    expect(await chat.deployment.events()).toEqual([]);
    expect(await chat.snapshots()).toEqual([before]);
    expect(world().sim.faults.pending()).toBe(0);
  });

  it.each<[string, Fault]>([
    ['an HTML error page', { kind: 'html', status: 502, method: 'batch', times: 2 }],
    ['an empty body', { kind: 'empty-body', status: 200, method: 'batch', times: 2 }],
    ['a dropped connection', { kind: 'drop-connection', method: 'batch', times: 2 }],
  ])(
    'returns the item for retry and keeps the snapshot when the portal answers %s',
    async (_, fault) => {
      // Prepare
      const chatId = newChat([1, 17, 18, 19]);
      const chat = await synced([chatId]);
      const [before] = await chat.snapshots();
      world().sim.admin.removeMembers(chatId, [17]);
      world().sim.faults.inject(fault);

      // Act
      const result = await chat.run();

      // Assess
      expect(result.failed).toBe(true);
      expect(await chat.deployment.events()).toEqual([]);
      expect(await chat.snapshots()).toEqual([before]);

      // Act: the retry, once the portal answers again, sees the real leave
      const retry = await chat.run();
      const events = await chat.deployment.events();

      // Assess
      expect(retry.failed).toBe(false);
      expect(memberChanges(events, chatId)).toEqual(['left:17']);
    },
  );

  it('returns the item for retry and keeps the snapshot when the portal does not answer in time', async () => {
    // Prepare
    const chatId = newChat([1, 2, 24, 25]);
    const chat = await synced([chatId]);
    const [before] = await chat.snapshots();
    world().sim.faults.inject({ kind: 'slow', delayMs: 1_500, method: 'batch', times: 2 });

    // Act: 200 ms per request instead of the production 60 s
    const result = await chat.run({ timeoutMs: 200 });

    // Assess
    expect(result.failed).toBe(true);
    expect(await chat.deployment.events()).toEqual([]);
    expect(await chat.snapshots()).toEqual([before]);
  });

  it('fails only the chat with a malformed answer: its snapshot is kept, the other chat of the item syncs', async () => {
    // Prepare: the general chat is read with im.dialog.users.list, the other with im.chat.user.list
    const general = world().sim.admin.generalChatId;
    const chatId = newChat([1, 3, 4, 5]);
    const chat = await synced([chatId, general]);
    const [beforeMalformed] = await chat.snapshots();
    world().sim.admin.removeMembers(general, [25]);
    world().sim.faults.inject({
      kind: 'malformed-result',
      method: 'im.chat.user.list',
      result: { error: 'not a list' },
    });

    // Act
    await chat.run();
    const events = await chat.deployment.events();

    // Assess
    expect(memberChanges(events, chatId)).toEqual([]);
    expect(memberChanges(events, general)).toEqual(['left:25']);
    const [afterMalformed, generalAfter] = await chat.snapshots();
    expect(afterMalformed).toEqual(beforeMalformed);
    expect(generalAfter?.members).not.toContain(25);
    world().sim.admin.addMembers(general, [25]);
  });
});
