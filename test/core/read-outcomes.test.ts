import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../functions/core/model.js';
import { readOutcomesOf } from '../../functions/core/read-outcomes.js';
import {
  type ChatSyncResult,
  chatResult,
  type SyncReport,
} from '../../functions/core/sync-report.js';

const item: WorkItem = {
  portalId: 'main',
  chatIds: [1, 2, 3, 4, 5, 6],
  scheduledAt: '2026-01-05T10:00:00.000Z',
  reasons: { hint: [1], reconcile: [2, 3, 6], learned: [4], retry: [5] },
};

function chat(chatId: number, fields: Partial<ChatSyncResult> = {}): ChatSyncResult {
  return chatResult(chatId, 'changed', {
    membersRead: 10,
    joined: 1,
    events: 1,
    saved: true,
    ...fields,
  });
}

function report(chats: ChatSyncResult[]): SyncReport {
  return {
    portalId: 'main',
    scheduledAt: item.scheduledAt,
    observedAt: item.scheduledAt,
    chats,
    totals: {
      chats: chats.length,
      membersRead: 0,
      joins: 0,
      leaves: 0,
      held: 0,
      failed: 0,
      conflicts: 0,
      events: 0,
    },
    bitrix24Requests: 0,
    retryable: false,
  };
}

describe('readOutcomesOf: what the learned reconcile learns', () => {
  it('counts a change found by a reconcile or learned read as a miss, and learns its chat unless it was read page by page', () => {
    const outcomes = readOutcomesOf(
      item,
      report([
        chat(1),
        chat(2),
        chat(3, { paged: true }),
        chat(4),
        chat(5),
        chat(6, { outcome: 'unchanged', joined: 0, events: 0, saved: false }),
      ]),
    );
    expect(outcomes?.detected).toEqual({ byHint: 1, byReconcile: 3 });
    expect(outcomes?.missed).toEqual([2, 4]);
  });

  it('learns nothing in full mode', () => {
    const { reasons: _, ...full } = item;
    expect(readOutcomesOf(full, report([chat(2)]))).toBeUndefined();
  });
});
