import { describe, expect, it } from 'vitest';
import { createReferenceConsumer } from '../../functions/consumer/reference-consumer.js';
import { contentHash } from '../../functions/core/member-set.js';
import type { Snapshot } from '../../functions/core/model.js';
import { eventsOfPending, recordPending } from '../../functions/core/pending-change.js';
import { exportRecordOf } from '../../local/cli/export-command.js';
import { HISTORY_PORTAL, HISTORY_SOURCE } from '../support/event-history.js';

const committed: Snapshot = {
  portalId: 'acme',
  chatId: 1307,
  members: [1, 2, 3],
  version: 4,
  contentHash: contentHash([1, 2, 3]),
  observedAt: '2026-03-03T13:00:00.000Z',
  sequence: 9,
  method: 'im.chat.user.list',
};

describe('exportRecordOf', () => {
  it('exports the committed members, version and sequence', () => {
    expect(exportRecordOf(committed, HISTORY_SOURCE)).toEqual({
      portalId: 'acme',
      source: HISTORY_SOURCE,
      chatId: 1307,
      members: [1, 2, 3],
      memberCount: 3,
      version: 4,
      sequence: 9,
      observedAt: '2026-03-03T13:00:00.000Z',
    });
  });

  it('says when the read behind the members began, when the snapshot knows it', () => {
    const record = exportRecordOf(
      { ...committed, readStartedAt: '2026-03-03T12:58:00.000Z' },
      HISTORY_SOURCE,
    );
    expect(record).toMatchObject({
      readStartedAt: '2026-03-03T12:58:00.000Z',
      observedAt: '2026-03-03T13:00:00.000Z',
    });
  });

  it('names a change in flight, and a consumer seeded from it takes that change from events', () => {
    // Prepare: user 4 joins, user 1 leaves; the first of the two events is already published
    const { pending: recorded } = recordPending(HISTORY_PORTAL, committed, {
      kind: 'apply',
      method: 'im.chat.user.list',
      observedAt: '2026-03-03T13:05:00.000Z',
      joined: [4],
      left: [1],
    });
    const pending = { ...committed, pending: { ...recorded, published: 1 } };

    // Act
    const record = exportRecordOf(pending, HISTORY_SOURCE);

    // Assess: the committed state, and where the in-flight events are
    expect(record).toMatchObject({ members: [1, 2, 3], sequence: 9 });
    expect(record.inFlight).toEqual({
      fromSequence: 10,
      toSequence: 11,
      published: 1,
      observedAt: '2026-03-03T13:05:00.000Z',
    });
    const events = eventsOfPending(HISTORY_PORTAL, committed, pending.pending).map((o) => o.event);
    const consumer = createReferenceConsumer();
    consumer.seed(record);
    expect(consumer.apply(events[1] as (typeof events)[number])).toBe('buffered');
    expect(consumer.apply(events[0] as (typeof events)[number])).toBe('applied');
    expect([...(consumer.members(HISTORY_SOURCE, 1307) ?? [])].sort()).toEqual([2, 3, 4]);
  });

  it('exports no members while nothing is committed; seeding such a line waits for the baseline', () => {
    const { pending: first } = recordPending(
      HISTORY_PORTAL,
      { ...committed, version: 0, sequence: 0, members: [], contentHash: contentHash([]) },
      {
        kind: 'baseline',
        method: 'im.chat.user.list',
        observedAt: committed.observedAt,
        joined: [5, 6],
        left: [],
      },
    );
    const snapshot: Snapshot = {
      ...committed,
      version: 0,
      sequence: 0,
      members: [],
      contentHash: contentHash([]),
      pending: first,
    };
    const record = exportRecordOf(snapshot, HISTORY_SOURCE);
    expect(record).toMatchObject({ members: null, memberCount: null, version: 0, sequence: 0 });
    const consumer = createReferenceConsumer();
    consumer.seed(record);
    expect(consumer.members(HISTORY_SOURCE, 1307)).toBeUndefined();
    for (const o of eventsOfPending(HISTORY_PORTAL, snapshot, first)) consumer.apply(o.event);
    expect([...(consumer.members(HISTORY_SOURCE, 1307) ?? [])]).toEqual([5, 6]);
  });
});
