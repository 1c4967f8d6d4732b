import { describe, expect, it } from 'vitest';
import { contentHash } from '../../functions/core/member-set.js';
import type { ChatId, Snapshot } from '../../functions/core/model.js';
import { planRun } from '../../functions/core/plan-run.js';
import { planWorkItems } from '../../functions/core/plan-work-items.js';
import type { PlannedWorkItem, WorkQueue } from '../../functions/core/work-queue.js';
import { InMemorySnapshotStore } from '../support/fakes.js';

const tick = '2026-11-21T10:15:00.000Z';

function recordingQueue(failFor?: string): WorkQueue & { items: PlannedWorkItem[] } {
  const items: PlannedWorkItem[] = [];
  return {
    items,
    async enqueue(batch) {
      if (batch.some((p) => p.groupId === failFor)) throw new Error('queue unavailable');
      items.push(...batch);
    },
  };
}

describe('planWorkItems', () => {
  it('splits 120 chats into work items of at most 50, sorted and de-duplicated', () => {
    const chats = [...Array.from({ length: 120 }, (_, i) => 120 - i), 7, 7];
    const planned = planWorkItems('main', chats, tick);
    expect(planned.map((p) => p.item.chatIds.length)).toEqual([50, 50, 20]);
    expect(planned[0]?.item.chatIds[0]).toBe(1);
    expect(planned.flatMap((p) => p.item.chatIds)).toEqual(
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    expect(planned.every((p) => p.groupId === 'main' && p.item.scheduledAt === tick)).toBe(true);
  });

  it('gives the same deduplication IDs for the same tick, and new ones for the next tick', () => {
    const first = planWorkItems('main', [3, 1, 2], tick).map((p) => p.deduplicationId);
    const again = planWorkItems('main', [1, 2, 3], tick).map((p) => p.deduplicationId);
    const next = planWorkItems('main', [1, 2, 3], '2026-11-21T10:30:00.000Z').map(
      (p) => p.deduplicationId,
    );
    expect(again).toEqual(first);
    expect(next[0]).not.toBe(first[0]);
    expect(first[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('plans nothing for a portal without chats', () => {
    expect(planWorkItems('main', [], tick)).toEqual([]);
  });
});

describe('planRun', () => {
  it('enqueues explicit chats and discovered chats minus the excluded ones', async () => {
    const queue = recordingQueue();
    const report = await planRun(
      { queue, discoverChats: async () => [10, 11, 12], storedChats: new InMemorySnapshotStore() },
      [
        { portalId: 'a', chats: [1, 2] },
        { portalId: 'b', chats: { discover: true, exclude: [11] } },
      ],
      tick,
    );
    expect(report.failed).toBe(0);
    expect(queue.items.map((p) => [p.groupId, p.item.chatIds])).toEqual([
      ['a', [1, 2]],
      ['b', [10, 12]],
    ]);
  });

  it('reports a portal whose discovery fails without stopping the others', async () => {
    const queue = recordingQueue();
    const report = await planRun(
      {
        queue,
        discoverChats: async () => {
          throw new Error('Bitrix24AuthError: INVALID_CREDENTIALS');
        },
        storedChats: new InMemorySnapshotStore(),
      },
      [
        { portalId: 'a', chats: { discover: true, exclude: [] } },
        { portalId: 'b', chats: [5] },
      ],
      tick,
    );
    expect(report.failed).toBe(1);
    expect(report.portals.find((p) => p.portalId === 'a')?.error).toContain('INVALID_CREDENTIALS');
    expect(queue.items.map((p) => p.groupId)).toEqual(['b']);
  });

  it('reports a portal whose work items the queue refused', async () => {
    const report = await planRun(
      {
        queue: recordingQueue('a'),
        discoverChats: async () => [],
        storedChats: new InMemorySnapshotStore(),
      },
      [{ portalId: 'a', chats: [1] }],
      tick,
    );
    expect(report.portals[0]).toMatchObject({ portalId: 'a', error: 'Error: queue unavailable' });
  });

  it('reads every stored chat that left the set and still owes its last word, marked departed', async () => {
    const snapshot = (chatId: ChatId, fields: Partial<Snapshot> = {}): Snapshot => ({
      portalId: 'a',
      chatId,
      members: [1, 2],
      version: 3,
      contentHash: contentHash([1, 2]),
      observedAt: tick,
      sequence: 5,
      ...fields,
    });
    const storedChats = new InMemorySnapshotStore()
      .put(snapshot(1))
      .put(snapshot(7)) // removed from the config: owes its retirement
      .put(snapshot(8, { retiredAt: tick })) // retired: done
      .put(snapshot(9, { accessLostAt: tick })) // access lost announced: done
      .put(
        snapshot(10, {
          accessLostAt: tick,
          pending: {
            kind: 'access_lost',
            code: 'ACCESS_ERROR',
            id: 'p',
            observedAt: tick,
            joined: [],
            left: [],
            eventCount: 1,
            published: 0,
          },
        }),
      ) // a change still to publish
      .put(snapshot(11, { version: 0 })) // nothing committed: owes nothing
      .put({ ...snapshot(7), portalId: 'other' });
    const queue = recordingQueue();

    const report = await planRun(
      { queue, discoverChats: async () => [], storedChats },
      [{ portalId: 'a', chats: [1, 2] }],
      tick,
    );

    expect(queue.items.map((p) => p.item)).toEqual([
      { portalId: 'a', chatIds: [1, 2, 7, 10], scheduledAt: tick, departed: [7, 10] },
    ]);
    expect(report.portals[0]).toMatchObject({ chats: 2, reads: 4, departed: 2 });
  });
});
