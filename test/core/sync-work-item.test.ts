import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceConsumer } from '../../functions/consumer/reference-consumer.js';
import {
  type CloudEvent,
  EventTypes,
  type OutgoingEvent,
} from '../../functions/core/cloud-event.js';
import { PublishError } from '../../functions/core/errors.js';
import { eventDigest } from '../../functions/core/event-chain.js';
import { contentHash } from '../../functions/core/member-set.js';
import {
  type ChatId,
  type ChatRead,
  DEFAULT_BREAKER,
  type Snapshot,
  type UserId,
} from '../../functions/core/model.js';
import type { EventPublisher, SnapshotStore } from '../../functions/core/ports.js';
import type { SyncReport } from '../../functions/core/sync-report.js';
import { type SyncDeps, syncWorkItem } from '../../functions/core/sync-work-item.js';
import { validateEvent } from '../support/event-schemas.js';
import {
  complete,
  FakeMemberReader,
  FixedClock,
  failedRead,
  InMemorySnapshotStore,
  noAccess,
  RecordingPublisher,
  range,
} from '../support/fakes.js';

const portal = {
  portalId: 'main',
  source: 'https://example.bitrix24.com',
};
const T0 = '2026-01-05T10:00:00.000Z';
const T1 = '2026-01-05T10:15:00.000Z';
const T2 = '2026-01-05T10:30:00.000Z';

const publishers: RecordingPublisher[] = [];

afterEach(() => {
  // Every event any sync published is valid against its schema.
  for (const publisher of publishers) for (const e of publisher.published) validateEvent(e.event);
  publishers.length = 0;
});

function setup() {
  const reader = new FakeMemberReader();
  const store = new InMemorySnapshotStore();
  const publisher = new RecordingPublisher();
  const clock = new FixedClock(T0);
  publishers.push(publisher);
  const deps: SyncDeps = { reader, store, publisher, clock, portal, breaker: DEFAULT_BREAKER };
  const sync = (chatIds: ChatId[] = [12], overrides: Partial<SyncDeps> = {}): Promise<SyncReport> =>
    syncWorkItem({ ...deps, ...overrides }, { portalId: 'main', chatIds, scheduledAt: T0 });
  /** A work item whose chats all left the configured or discovered set. */
  const syncDeparted = (chatIds: ChatId[] = [12]): Promise<SyncReport> =>
    syncWorkItem(deps, { portalId: 'main', chatIds, scheduledAt: T0, departed: chatIds });
  return { reader, store, publisher, clock, deps, sync, syncDeparted };
}

function snapshotOf(chatId: ChatId, members: UserId[], fields: Partial<Snapshot> = {}): Snapshot {
  return {
    portalId: 'main',
    chatId,
    members,
    version: 3,
    contentHash: contentHash(members),
    observedAt: '2026-01-05T09:00:00.000Z',
    sequence: 30,
    ...fields,
  };
}

function types(events: readonly OutgoingEvent[]): string[] {
  return events.map((e) => e.event.type);
}

function dataOf(e: OutgoingEvent | undefined): Record<string, unknown> {
  return (e?.event.data ?? {}) as Record<string, unknown>;
}

function chat(report: SyncReport, chatId: ChatId) {
  const result = report.chats.find((c) => c.chatId === chatId);
  if (result === undefined) throw new Error(`chat ${chatId} missing from the report`);
  return result;
}

describe('syncWorkItem', () => {
  describe('first sync', () => {
    it('publishes one baseline, not a join per member, and saves version 1', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      reader.members(12, [3, 1, 2, 2]);

      // Act
      const report = await sync();

      // Assess
      expect(types(publisher.published)).toEqual([EventTypes.baseline]);
      expect(dataOf(publisher.published[0])).toMatchObject({
        members: [1, 2, 3],
        memberCount: 3,
        sequence: 1,
        baseVersion: 0,
        version: 1,
        window: { from: null, to: T0 },
      });
      expect(store.get('main', 12)).toEqual({
        portalId: 'main',
        chatId: 12,
        members: [1, 2, 3],
        version: 1,
        contentHash: contentHash([1, 2, 3]),
        observedAt: T0,
        sequence: 1,
        method: 'im.chat.user.list',
        // The chain's next link: the baseline just published.
        lastEvent: {
          id: publisher.published[0]?.event.id,
          digest: eventDigest(publisher.published[0]?.event as CloudEvent),
        },
      });
      expect(dataOf(publisher.published[0])).toMatchObject({
        previousId: null,
        previousDigest: null,
      });
      expect(chat(report, 12)).toMatchObject({ outcome: 'baseline', events: 1, saved: true });
      expect(reader.detailsCalls).toEqual([]);
    });

    it('splits the baseline of a huge chat into parts and records the last sequence', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      reader.members(12, range(1, 25_000));

      // Act
      await sync();

      // Assess
      expect(types(publisher.published)).toEqual([
        EventTypes.baseline,
        EventTypes.baseline,
        EventTypes.baseline,
      ]);
      expect(store.get('main', 12)).toMatchObject({ version: 1, sequence: 3 });
    });
  });

  describe('changes across runs', () => {
    it('publishes leaves and joins, then saves the next version', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      reader.members(12, [1, 2, 3]);
      await sync();
      publisher.clear();
      clock.set(T1);
      reader.members(12, [1, 3, 4]);
      reader.user({ id: 2, name: 'Bob', active: true }).user({ id: 4, name: 'Dee', bot: true });

      // Act
      const report = await sync();

      // Assess
      expect(publisher.published.map((e) => [e.event.subject, dataOf(e).sequence])).toEqual([
        ['chat/12/user/2', 2],
        ['chat/12/user/4', 3],
      ]);
      expect(types(publisher.published)).toEqual([EventTypes.left, EventTypes.joined]);
      expect(dataOf(publisher.published[0])).toMatchObject({
        reason: 'left_or_removed',
        user: { name: 'Bob', active: true },
        window: { from: T0, to: T1 },
        baseVersion: 1,
        version: 2,
      });
      expect(publisher.published[1]?.attributes).toMatchObject({ userId: 4, bot: true });
      expect(store.get('main', 12)).toMatchObject({
        members: [1, 3, 4],
        version: 2,
        sequence: 3,
        observedAt: T1,
      });
      expect(chat(report, 12)).toMatchObject({ outcome: 'changed', joined: 1, left: 1, events: 2 });
      expect(report.totals).toMatchObject({ joins: 1, leaves: 1, events: 2, membersRead: 3 });
    });

    it('looks up the details of every changed user of the item once', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1, 2])).put(snapshotOf(13, [5, 6]));
      reader.members(12, [1, 3]).members(13, [5, 6, 3, 7]);

      // Act
      await sync([12, 13]);

      // Assess
      expect(reader.detailsCalls).toEqual([[2, 3, 7]]);
    });

    it('publishes changes without details when the details lookup fails', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2]));
      reader.members(12, [1, 3]).failDetailsWith(new Error('QUERY_LIMIT_EXCEEDED'));

      // Act
      const report = await sync();

      // Assess
      expect(publisher.published.map(dataOf)).toEqual([
        expect.objectContaining({ userId: 2, user: null, reason: 'unknown' }),
        expect.objectContaining({ userId: 3, user: null }),
      ]);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 3], version: 4 });
      expect(report.retryable).toBe(false);
    });

    it('publishes nothing and saves nothing when nothing changed', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [3, 2, 1]);

      // Act
      const report = await sync();

      // Assess
      expect(publisher.calls).toEqual([]);
      expect(store.saves).toEqual([]);
      expect(chat(report, 12)).toMatchObject({
        outcome: 'unchanged',
        saved: false,
        membersRead: 3,
      });
      expect(reader.detailsCalls).toEqual([]);
    });

    it('counts the Bitrix24 requests the sync made', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1, 2]));
      reader.members(12, [1, 3]);
      await reader.readMembers([99]);

      // Act
      const report = await sync();

      // Assess
      expect(report.bitrix24Requests).toBe(2);
    });
  });

  describe('no false leave', () => {
    it('keeps the snapshot when the list comes back empty', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, []);

      // Act
      const report = await sync();

      // Assess
      expect(types(publisher.published)).toEqual([EventTypes.accessLost]);
      expect(dataOf(publisher.published[0])).toMatchObject({
        code: 'empty_member_list',
        lastKnownMemberCount: 3,
      });
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3], accessLostAt: T0 });
      expect(chat(report, 12).outcome).toBe('access_lost');
    });

    it('announces a refused chat once and keeps its members while access stays lost', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      const before = snapshotOf(12, [1, 2, 3]);
      store.put(before);
      reader.script(12, noAccess(12));

      // Act
      const first = await sync();
      clock.set(T1);
      const second = await sync();

      // Assess
      expect(types(publisher.published)).toEqual([EventTypes.accessLost]);
      expect(publisher.published[0]?.event.subject).toBe('chat/12');
      expect(dataOf(publisher.published[0])).toMatchObject({
        code: 'ACCESS_ERROR',
        sequence: 31,
        baseVersion: 3,
        version: 4,
      });
      expect(store.get('main', 12)).toEqual({
        ...before,
        version: 4,
        sequence: 31,
        accessLostAt: T0,
        lastEvent: { id: publisher.published[0]?.event.id, digest: expect.any(String) },
      });
      // The change recorded, then committed; the second run writes nothing.
      expect(store.writes().map((w) => w.snapshot.pending?.kind)).toEqual([
        'access_lost',
        undefined,
      ]);
      expect(chat(first, 12)).toMatchObject({ outcome: 'access_lost', events: 1 });
      expect(chat(second, 12)).toMatchObject({ outcome: 'access_lost', events: 0, saved: false });
      expect(second.retryable).toBe(false);
    });

    it('never produces a leave from a failed read and asks for a retry', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      const before = snapshotOf(12, [1, 2, 3]);
      store.put(before);
      reader.script(12, failedRead(12, 'QUERY_LIMIT_EXCEEDED'));

      // Act
      const report = await sync();

      // Assess
      expect(publisher.calls).toEqual([]);
      expect(store.saves).toEqual([]);
      expect(store.get('main', 12)).toEqual(before);
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'QUERY_LIMIT_EXCEEDED', retryable: true },
      });
      expect(report.retryable).toBe(true);
    });

    it('fails a chat whose read failed for good without asking for a retry', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.script(12, failedRead(12, 'ACCESS_ERROR', false));

      // Act
      const report = await sync();

      // Assess
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'ACCESS_ERROR', retryable: false },
      });
      expect(report.retryable).toBe(false);
    });

    it('fails a chat whose list is malformed and keeps its snapshot', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      const before = snapshotOf(12, [1, 2, 3]);
      store.put(before);
      reader.members(12, [1, -2] as UserId[]);

      // Act
      const report = await sync();

      // Assess
      expect(publisher.calls).toEqual([]);
      expect(store.get('main', 12)).toEqual(before);
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'invalid_member_list', retryable: false },
      });
    });

    it('reports a never-synced refused chat without an event', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      reader.script(12, noAccess(12));

      // Act
      const report = await sync();

      // Assess
      expect(publisher.calls).toEqual([]);
      expect(store.saves).toEqual([]);
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'ACCESS_ERROR', retryable: false },
      });
    });

    it('applies the gap diff when access returns, and announces a later loss again', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.script(12, noAccess(12), noAccess(12));
      await sync();
      await sync();
      clock.set(T1);
      reader.members(12, [1, 2]);

      // Act
      const regained = await sync();
      clock.set(T2);
      reader.script(12, noAccess(12));
      await sync();

      // Assess
      expect(chat(regained, 12)).toMatchObject({ outcome: 'changed', left: 1 });
      expect(types(publisher.published)).toEqual([
        EventTypes.accessLost,
        EventTypes.left,
        EventTypes.accessLost,
      ]);
      expect(dataOf(publisher.published[1])).toMatchObject({
        window: { from: '2026-01-05T09:00:00.000Z', to: T1 },
      });
      expect(publisher.published.map((e) => dataOf(e).sequence)).toEqual([31, 32, 33]);
      expect(new Set(publisher.ids()).size).toBe(3);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2], accessLostAt: T2 });
    });

    it('clears a stale access flag when the chat reads again unchanged', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2], { accessLostAt: '2026-01-05T09:30:00.000Z' }));
      reader.members(12, [1, 2]);

      // Act
      const report = await sync();

      // Assess
      expect(publisher.calls).toEqual([]);
      expect(store.get('main', 12)?.accessLostAt).toBeUndefined();
      expect(chat(report, 12)).toMatchObject({ outcome: 'unchanged', saved: true });
    });
  });

  describe('mass-change breaker', () => {
    it('holds a mass leave: announces it once, keeps the members, applies it once released', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, range(1, 10)));
      reader.members(12, [1, 2, 11]);

      // Act: the breaker trips, then the same read comes back before anyone releases it
      const held = await sync();
      clock.set(T1);
      const stillHeld = await sync();

      // Assess
      expect(types(publisher.published)).toEqual([EventTypes.massChangeHeld]);
      expect(dataOf(publisher.published[0])).toMatchObject({
        previousCount: 10,
        observedCount: 3,
        leftCount: 8,
        joinedCount: 1,
        left: range(3, 10),
        joined: [11],
      });
      expect(store.get('main', 12)).toMatchObject({
        members: range(1, 10),
        version: 4,
        sequence: 31,
        held: {
          baseVersion: 3,
          detectedAt: T0,
          left: range(3, 10),
          joined: [11],
          observedCount: 3,
          released: false,
        },
      });
      expect(chat(held, 12)).toMatchObject({ outcome: 'held', heldLeft: 8, left: 0, events: 1 });
      expect(chat(stillHeld, 12)).toMatchObject({ outcome: 'held', events: 0, saved: false });
      expect(held.totals.held).toBe(1);

      // Prepare: an operator releases the hold
      const current = store.get('main', 12) as Snapshot;
      const { held: hold } = current;
      store.put({
        ...current,
        version: 5,
        held: { ...(hold as NonNullable<typeof hold>), released: true },
      });
      clock.set(T2);

      // Act
      const released = await sync();
      const after = await sync();

      // Assess
      expect(chat(released, 12)).toMatchObject({ outcome: 'released', left: 8, joined: 1 });
      expect(types(publisher.published.slice(1))).toEqual([
        ...Array(8).fill(EventTypes.left),
        EventTypes.joined,
      ]);
      expect(dataOf(publisher.published[1])).toMatchObject({
        heldSince: T0,
        window: { from: '2026-01-05T09:00:00.000Z', to: T2 },
        sequence: 32,
      });
      const saved = store.get('main', 12);
      expect(saved).toMatchObject({ members: [1, 2, 11], version: 6, sequence: 40 });
      expect(saved?.held).toBeUndefined();
      expect(chat(after, 12).outcome).toBe('unchanged');
    });

    it('holds again when a released change now removes members nobody approved', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(
        snapshotOf(12, range(1, 10), {
          held: {
            baseVersion: 2,
            detectedAt: '2026-01-05T09:30:00.000Z',
            joined: [],
            left: range(3, 10),
            observedCount: 2,
            released: true,
          },
        }),
      );
      reader.members(12, [1]);

      // Act
      const report = await sync();

      // Assess
      expect(chat(report, 12).outcome).toBe('held');
      expect(types(publisher.published)).toEqual([EventTypes.massChangeHeld]);
      expect(store.get('main', 12)).toMatchObject({
        members: range(1, 10),
        held: { left: range(2, 10), released: false, detectedAt: T0 },
      });
    });

    it('drops a hold when the chat recovers below the thresholds', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(
        snapshotOf(12, range(1, 10), {
          held: {
            baseVersion: 2,
            detectedAt: '2026-01-05T09:30:00.000Z',
            joined: [],
            left: range(3, 10),
            observedCount: 2,
            released: false,
          },
        }),
      );
      reader.members(12, range(1, 9));

      // Act
      const report = await sync();

      // Assess
      expect(chat(report, 12)).toMatchObject({ outcome: 'changed', left: 1 });
      expect(types(publisher.published)).toEqual([EventTypes.left]);
      expect(store.get('main', 12)?.held).toBeUndefined();
    });
  });

  describe('no lost change', () => {
    /** Each event ID once, in first-publish order (what a deduplicating consumer keeps). */
    function delivered(publisher: RecordingPublisher): OutgoingEvent[] {
      const seen = new Set<string>();
      return publisher.published.filter((e) => !seen.has(e.event.id) && seen.add(e.event.id));
    }

    /** Members after folding a deduplicated event stream onto `start`. */
    function fold(start: readonly UserId[], events: readonly OutgoingEvent[]): UserId[] {
      const members = new Set(start);
      for (const e of [...events].sort((x, y) => seq(x) - seq(y))) {
        const userId = dataOf(e).userId as UserId;
        if (e.event.type === EventTypes.joined) members.add(userId);
        if (e.event.type === EventTypes.left) members.delete(userId);
      }
      return [...members].sort((x, y) => x - y);
    }

    function seq(e: OutgoingEvent): number {
      return dataOf(e).sequence as number;
    }

    it('records the change on the snapshot before publishing any of its events', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 3, 4]);
      let savesAtFirstPublish = -1;
      const spy: EventPublisher = {
        publish: async (events) => {
          if (savesAtFirstPublish < 0) savesAtFirstPublish = store.saves.length;
          await publisher.publish(events);
        },
      };

      // Act
      await sync([12], { publisher: spy });

      // Assess
      expect(savesAtFirstPublish).toBe(1);
      expect(store.saves[0]?.snapshot.pending).toMatchObject({
        kind: 'apply',
        joined: [4],
        left: [2],
        eventCount: 2,
        published: 0,
      });
      expect(store.saves[0]?.snapshot.version).toBe(3);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 3, 4], version: 4, sequence: 32 });
      expect(store.get('main', 12)?.pending).toBeUndefined();
    });

    it('finishes a join whose commit failed before diffing a retry that no longer sees the user', async () => {
      // Prepare: 20 joins, the commit fails, 20 leaves again before the retry
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3, 4]));
      reader.script(12, complete(12, [1, 2, 3, 4, 20]), complete(12, [1, 2, 3, 4]));
      store.failNextSaveWith(new Error('DynamoDB throttled'), { of: 'commit' });

      // Act
      const crashed = await sync();
      clock.set(T1);
      const retried = await sync();

      // Assess: subscribers see 20 join and leave, in that order
      expect(chat(crashed, 12)).toMatchObject({
        outcome: 'failed',
        events: 1,
        error: { code: 'snapshot_save_failed', retryable: true },
      });
      expect(crashed.retryable).toBe(true);
      const events = delivered(publisher);
      expect(events.map((e) => [e.event.type, dataOf(e).userId, seq(e)])).toEqual([
        [EventTypes.joined, 20, 31],
        [EventTypes.left, 20, 32],
      ]);
      expect(fold([1, 2, 3, 4], events)).toEqual([1, 2, 3, 4]);
      expect(chat(retried, 12)).toMatchObject({ outcome: 'changed', resumed: true, left: 1 });
      expect(store.get('main', 12)).toMatchObject({
        members: [1, 2, 3, 4],
        version: 5,
        sequence: 32,
      });
    });

    it('finishes a leave whose publish failed before diffing a retry that sees the user again', async () => {
      // Prepare: 20 leaves, the publish fails, 20 re-joins before the retry
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3, 4, 20]));
      reader.script(12, complete(12, [1, 2, 3, 4]), complete(12, [1, 2, 3, 4, 20]));
      publisher.failNext();

      // Act
      const failed = await sync();
      clock.set(T1);
      await sync();

      // Assess
      expect(chat(failed, 12)).toMatchObject({
        outcome: 'failed',
        saved: true,
        error: { code: 'publish_failed', retryable: true },
      });
      const events = delivered(publisher);
      expect(events.map((e) => [e.event.type, dataOf(e).userId, seq(e)])).toEqual([
        [EventTypes.left, 20, 31],
        [EventTypes.joined, 20, 32],
      ]);
      expect(fold([1, 2, 3, 4, 20], events)).toEqual([1, 2, 3, 4, 20]);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3, 4, 20], sequence: 32 });
    });

    it('never gives two distinct events of a chat the same sequence when the retry sees another change', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.script(12, complete(12, [1, 2, 3, 4]), complete(12, [1, 2, 3, 5]));
      publisher.failFor((e) => dataOf(e).userId === 4);

      // Act
      await sync();
      publisher.failFor(undefined);
      clock.set(T1);
      await sync();

      // Assess
      const bySequence = new Map<number, Set<string>>();
      for (const e of publisher.published) {
        const ids = bySequence.get(seq(e)) ?? new Set<string>();
        bySequence.set(seq(e), ids.add(e.event.id));
      }
      expect([...bySequence.values()].every((ids) => ids.size === 1)).toBe(true);
      expect([...bySequence.keys()].sort()).toEqual([31, 32, 33]);
      expect(fold([1, 2, 3], delivered(publisher))).toEqual([1, 2, 3, 5]);
    });

    it('re-publishes identical IDs when the commit answer was lost after it was written, and publishes nothing more', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 3, 4]);
      store.failNextSaveWith(new Error('socket hang up'), { of: 'commit', afterWrite: true });

      // Act
      await sync();
      const firstIds = publisher.ids();
      clock.set(T1);
      const rerun = await sync();

      // Assess
      expect(publisher.ids()).toEqual(firstIds);
      expect(chat(rerun, 12)).toMatchObject({ outcome: 'unchanged', events: 0 });
      expect(store.get('main', 12)).toMatchObject({ members: [1, 3, 4], version: 4, sequence: 32 });
    });

    it('finishes a change whose record was written though its answer was lost', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 3, 4]);
      store.failNextSaveWith(new Error('socket hang up'), { of: 'record', afterWrite: true });

      // Act
      const lost = await sync();
      clock.set(T1);
      const rerun = await sync();

      // Assess
      expect(chat(lost, 12)).toMatchObject({ outcome: 'failed', error: { retryable: true } });
      expect(publisher.calls).toHaveLength(1);
      expect(types(publisher.published)).toEqual([EventTypes.left, EventTypes.joined]);
      expect(publisher.published.map((e) => e.event.time)).toEqual([T0, T0]);
      expect(chat(rerun, 12)).toMatchObject({ outcome: 'changed', resumed: true });
      expect(store.get('main', 12)).toMatchObject({ members: [1, 3, 4], version: 4, sequence: 32 });
    });

    it('publishes a change past the deadline in chunks and resumes from the recorded cursor', async () => {
      // Prepare: 2,500 joins, 1,000 events per publish, the deadline passes after the first chunk
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1]));
      reader.members(12, range(1, 2_501));
      const deadline = clock.now().getTime() + 1_000;
      const slow: EventPublisher = {
        publish: async (events) => {
          await publisher.publish(events);
          clock.advance(5_000);
        },
      };

      // Act
      const first = await sync([12], {
        publisher: slow,
        publishChunkEvents: 1_000,
        deadlineAt: () => deadline,
      });
      const cursor = store.get('main', 12)?.pending?.published;
      const second = await sync([12], { publishChunkEvents: 1_000 });

      // Assess
      expect(chat(first, 12)).toMatchObject({
        outcome: 'failed',
        events: 1_000,
        error: { code: 'deadline_exceeded', retryable: true },
      });
      expect(cursor).toBe(1_000);
      expect(chat(second, 12)).toMatchObject({ outcome: 'changed', events: 1_500, resumed: true });
      const sequences = publisher.published.map(seq);
      expect(sequences).toEqual(range(31, 2_530));
      expect(new Set(publisher.ids()).size).toBe(2_500);
      expect(store.get('main', 12)).toMatchObject({ version: 4, sequence: 2_530 });
      expect(store.get('main', 12)?.members).toHaveLength(2_501);
    });

    it('hands the deadline to the publisher and reports a chunk it cut short as deadline_exceeded, its cursor kept', async () => {
      // Prepare: one chunk of 1,000 events; the publisher gets through 400 before the deadline
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1]));
      reader.members(12, range(1, 1_001));
      const deadline = clock.now().getTime() + 60_000;
      const seen: (number | undefined)[] = [];
      const throttled: EventPublisher = {
        publish: async (events, options) => {
          seen.push(options?.deadlineAt);
          await publisher.publish(events.slice(0, 400));
          throw new PublishError(
            'not sent: the deadline came first',
            events.slice(400).map((e) => e.event.id),
            { deadlineReached: true },
          );
        },
      };

      // Act
      const first = await sync([12], { publisher: throttled, deadlineAt: () => deadline });

      // Assess
      expect(seen).toEqual([deadline]);
      expect(chat(first, 12)).toMatchObject({
        outcome: 'failed',
        events: 400,
        error: { code: 'deadline_exceeded', retryable: true },
      });
      expect(store.get('main', 12)?.pending?.published).toBe(400);
    });

    it('stops a chat at its first unacknowledged event and resumes from it', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1]));
      reader.members(12, [1, 2, 3, 4, 5]);
      publisher.failFor((e) => dataOf(e).userId === 3);

      // Act
      await sync();
      const cursor = store.get('main', 12)?.pending?.published;
      publisher.failFor(undefined);
      publisher.clear();
      clock.set(T1);
      await sync();

      // Assess
      expect(cursor).toBe(1);
      expect(publisher.published.map((e) => dataOf(e).userId)).toEqual([3, 4, 5]);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3, 4, 5], sequence: 34 });
    });

    it('finishes the first baseline on the retry, then reports a later leave as a leave', async () => {
      // Prepare: the first baseline is published, its commit fails, user 3 leaves before the retry
      const { reader, store, publisher, clock, sync } = setup();
      reader.script(12, complete(12, [1, 2, 3]), complete(12, [1, 2]));
      store.failNextSaveWith(new Error('DynamoDB throttled'), { of: 'commit' });

      // Act
      await sync();
      clock.set(T1);
      const report = await sync();

      // Assess
      const events = delivered(publisher);
      expect(types(events)).toEqual([EventTypes.baseline, EventTypes.left]);
      expect(dataOf(events[0])).toMatchObject({ members: [1, 2, 3], sequence: 1 });
      expect(dataOf(events[1])).toMatchObject({ userId: 3, sequence: 2, baseVersion: 1 });
      expect(chat(report, 12)).toMatchObject({ outcome: 'changed', resumed: true });
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2], version: 2, sequence: 2 });
    });

    it('fails a chat whose pending change cannot be finished without reading anything new into it', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.script(12, complete(12, [1, 2, 3, 4]), complete(12, [1, 2, 3, 4, 5]));
      publisher.failNext(2);

      // Act
      await sync();
      clock.set(T1);
      const second = await sync();

      // Assess
      expect(chat(second, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'publish_failed' },
      });
      expect(store.get('main', 12)?.pending).toMatchObject({ joined: [4] });
      expect(store.get('main', 12)?.members).toEqual([1, 2, 3]);
    });

    it('finishes pending changes even when the new read fails', async () => {
      // Prepare
      const { reader, store, publisher, clock, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 2, 3, 4]);
      store.failNextSaveWith(new Error('throttled'), { of: 'commit' });
      await sync();

      // Act
      reader.failReadsWith(new Error('portal down'));
      clock.set(T1);
      const report = await sync();

      // Assess
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        resumed: true,
        error: { code: 'read_members_failed' },
      });
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3, 4], version: 4 });
      expect(new Set(publisher.ids()).size).toBe(1);
    });
  });

  describe('reads', () => {
    it('keeps a deactivated member that im.dialog.users.list no longer lists, and reports an active one as left', async () => {
      // Prepare: 7 is deactivated (the method hides them), 8 left
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 7, 8], { method: 'im.chat.user.list' }));
      reader.members(12, [1, 2], 'im.dialog.users.list');
      reader.user({ id: 7, active: false }).user({ id: 8, active: true });

      // Act
      const report = await sync();

      // Assess
      expect(publisher.published.map((e) => [e.event.type, dataOf(e).userId])).toEqual([
        [EventTypes.left, 8],
      ]);
      expect(chat(report, 12)).toMatchObject({ outcome: 'changed', left: 1, paged: true });
      expect(store.get('main', 12)).toMatchObject({
        members: [1, 2, 7],
        method: 'im.dialog.users.list',
      });
    });

    it('says which chats it read page by page, and only those', async () => {
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1, 2]));
      store.put(snapshotOf(13, [1, 2]));
      reader.members(12, [1, 2, 3], 'im.chat.user.list');
      reader.members(13, [1, 2, 4], 'im.dialog.users.list');
      reader.user({ id: 3, active: true }).user({ id: 4, active: true });
      const report = await sync([12, 13]);
      expect(report.chats.map((c) => [c.chatId, c.outcome, c.paged])).toEqual([
        [12, 'changed', undefined],
        [13, 'changed', true],
      ]);
    });

    it('fails, without a leave, a chat read by im.dialog.users.list when its missing members cannot be checked', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 7], { method: 'im.dialog.users.list' }));
      reader.members(12, [1, 2], 'im.dialog.users.list');
      reader.failDetailsWith(new Error('QUERY_LIMIT_EXCEEDED'));

      // Act
      const report = await sync();

      // Assess
      expect(publisher.published).toEqual([]);
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'leaves_unverified', retryable: true },
      });
      expect(store.get('main', 12)?.members).toEqual([1, 2, 7]);
    });

    it('records how far a keyset read got when time ran out, and hands it back to the next read', async () => {
      // Prepare: chat 1 (general) has never been synced; its read stops after 400 members
      const { reader, store, publisher, clock, sync } = setup();
      const progress = { lastId: 400, memberIds: range(1, 400), startedAt: T0 };
      reader.script(
        1,
        { kind: 'partial', chatId: 1, progress },
        complete(1, range(1, 600), 'im.dialog.users.list'),
      );

      // Act
      const first = await sync([1], { deadlineAt: () => Date.parse(T0) + 300_000 });
      const stored = store.get('main', 1);
      clock.set(T1);
      const second = await sync([1]);

      // Assess
      expect(chat(first, 1)).toMatchObject({
        outcome: 'failed',
        saved: true,
        error: { code: 'deadline_exceeded', retryable: true },
      });
      expect(reader.readOptions[0]?.keysetStopAt).toBe(Date.parse(T0) + 300_000 - 60_000);
      expect(stored).toMatchObject({ version: 0, readProgress: progress });
      expect(reader.readOptions[1]?.resume?.get(1)).toEqual(progress);
      expect(chat(second, 1)).toMatchObject({ outcome: 'baseline', membersRead: 600 });
      expect(types(publisher.published)).toEqual([EventTypes.baseline]);
      expect(store.get('main', 1)).toMatchObject({ version: 1, sequence: 1 });
      expect(store.get('main', 1)?.readProgress).toBeUndefined();
    });

    it('clears the progress of a finished keyset read that found no change', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      const progress = { lastId: 2, memberIds: [1, 2], startedAt: T0 };
      store.put(snapshotOf(1, [1, 2, 3], { readProgress: progress }));
      reader.members(1, [1, 2, 3], 'im.dialog.users.list');

      // Act
      const report = await sync([1]);

      // Assess
      expect(reader.readOptions[0]?.resume?.get(1)).toEqual(progress);
      expect(chat(report, 1)).toMatchObject({ outcome: 'unchanged', saved: true });
      expect(store.get('main', 1)?.readProgress).toBeUndefined();
      expect(store.get('main', 1)?.members).toEqual([1, 2, 3]);
    });

    it('starts a keyset read over when its progress is older than an hour', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      store.put(
        snapshotOf(1, [1, 2, 3], {
          readProgress: { lastId: 2, memberIds: [1, 2], startedAt: '2026-01-05T08:00:00.000Z' },
        }),
      );
      reader.members(1, [1, 2, 3], 'im.dialog.users.list');

      // Act
      await sync([1]);

      // Assess
      expect(reader.readOptions[0]?.resume).toBeUndefined();
    });

    it('checks every member missing from im.dialog.users.list, even past the details budget', async () => {
      // Prepare: 30 members gone from the general chat, a budget of 10 users
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(1, range(1, 40), { method: 'im.dialog.users.list' }));
      reader.members(1, range(1, 10), 'im.dialog.users.list');
      for (const id of range(11, 40)) reader.user({ id, active: false });

      // Act
      const report = await sync([1], { maxDetailsLookup: 10 });

      // Assess: all deactivated, so nothing left and nothing fails
      expect(reader.detailsCalls).toEqual([range(11, 40)]);
      expect(chat(report, 1)).toMatchObject({ outcome: 'unchanged' });
      expect(publisher.published).toEqual([]);
    });

    it('fails a chat with a permanent read error without asking for a retry of the item', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1, 2]));
      reader.script(12, failedRead(12, 'CHAT_ID_EMPTY', false));

      // Act
      const report = await sync();

      // Assess
      expect(chat(report, 12)).toMatchObject({
        outcome: 'failed',
        error: { code: 'CHAT_ID_EMPTY', retryable: false },
      });
      expect(report.retryable).toBe(false);
    });

    it('does not apply a read older than the one already committed by an overlapping run', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3], { observedAt: T1 }));
      reader.members(12, [1, 2]);

      // Act
      const report = await sync();

      // Assess
      expect(publisher.published).toEqual([]);
      expect(chat(report, 12)).toMatchObject({
        outcome: 'conflict',
        error: { code: 'stale_read', retryable: false },
      });
    });
  });

  describe('optimistic concurrency', () => {
    it('lets the loser of two overlapping runs report a conflict before publishing; history single', async () => {
      // Prepare: both runs load version 3 before either saves
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 3, 4]);
      const gate = barrier(2);
      const gatedStore: SnapshotStore = {
        loadMany: async (portalId, chatIds) => {
          const loaded = await store.loadMany(portalId, chatIds);
          await gate();
          return loaded;
        },
        save: (snapshot, expected) => store.save(snapshot, expected),
        recordPublished: (...args) => store.recordPublished(...args),
        list: (portalId) => store.list(portalId),
        listChatIds: (portalId) => store.listChatIds(portalId),
      };
      const a = new RecordingPublisher();
      const b = new RecordingPublisher();
      publishers.push(a, b);

      // Act
      const reports = await Promise.all([
        sync([12], { store: gatedStore, publisher: a }),
        sync([12], { store: gatedStore, publisher: b }),
      ]);

      // Assess
      expect(reports.map((r) => chat(r, 12).outcome).sort()).toEqual(['changed', 'conflict']);
      // Only the run that recorded the change publishes it.
      expect([a.ids().length, b.ids().length].sort()).toEqual([0, 2]);
      expect(store.saves.map((s) => s.outcome).sort()).toEqual(['conflict', 'written', 'written']);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 3, 4], version: 4 });
      expect(reports.every((r) => !r.retryable)).toBe(true);
    });
  });

  describe('isolation between chats', () => {
    it('publishes and saves the other chats when one fails to read and one fails to publish', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store
        .put(snapshotOf(11, [1]))
        .put(snapshotOf(12, [1]))
        .put(snapshotOf(13, [1]));
      reader.script(11, failedRead(11)).members(12, [1, 2]).members(13, [1, 3]);
      publisher.failFor((e) => e.attributes.chatId === 13);

      // Act
      const report = await sync([11, 12, 13]);

      // Assess
      expect(report.chats.map((c) => [c.chatId, c.outcome, c.error?.code])).toEqual([
        [11, 'failed', 'QUERY_LIMIT_EXCEEDED'],
        [12, 'changed', undefined],
        [13, 'failed', 'publish_failed'],
      ]);
      expect(publisher.published.map((e) => e.event.subject)).toEqual(['chat/12/user/2']);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2], version: 4 });
      expect(store.get('main', 13)).toMatchObject({ members: [1], version: 3 });
      expect(report.totals).toMatchObject({ chats: 3, failed: 2, joins: 1 });
      expect(report.retryable).toBe(true);
    });

    it("publishes a work item's events in one call, not one call per chat", async () => {
      // Prepare: one baseline and two changed chats
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1])).put(snapshotOf(13, [1]));
      reader.members(11, [1, 5]).members(12, [1, 2]).members(13, [1, 3]);

      // Act
      const report = await sync([11, 12, 13]);

      // Assess
      expect(publisher.calls).toHaveLength(1);
      expect(publisher.calls[0]?.map((e) => e.event.subject)).toEqual([
        'chat/11',
        'chat/12/user/2',
        'chat/13/user/3',
      ]);
      expect(report.chats.map((c) => [c.chatId, c.outcome, c.saved])).toEqual([
        [11, 'baseline', true],
        [12, 'changed', true],
        [13, 'changed', true],
      ]);
    });

    it('saves no chat when the publisher fails without naming the unacknowledged events', async () => {
      // Prepare
      const { reader, store, sync } = setup();
      store.put(snapshotOf(12, [1])).put(snapshotOf(13, [1]));
      reader.members(12, [1, 2]).members(13, [1, 3]);
      const crashing: EventPublisher = {
        publish: async () => {
          throw new Error('socket hang up');
        },
      };

      // Act
      const report = await sync([12, 13], { publisher: crashing });

      // Assess
      expect(report.chats.map((c) => [c.chatId, c.outcome, c.error?.code])).toEqual([
        [12, 'failed', 'publish_failed'],
        [13, 'failed', 'publish_failed'],
      ]);
      expect(store.get('main', 12)).toMatchObject({ members: [1], version: 3 });
      expect(store.get('main', 13)).toMatchObject({ members: [1], version: 3 });
      expect(report.retryable).toBe(true);
    });

    it('fails every chat, and keeps every snapshot, when the portal cannot be read at all', async () => {
      // Prepare
      const { reader, store, publisher, sync } = setup();
      store.put(snapshotOf(12, [1]));
      reader.failReadsWith(
        new Error('401 from https://example.bitrix24.com/rest/1/s3cr3tc0de/batch.json'),
      );

      // Act
      const report = await sync([12, 13]);

      // Assess
      expect(report.chats.map((c) => c.error?.code)).toEqual([
        'read_members_failed',
        'read_members_failed',
      ]);
      expect(JSON.stringify(report)).not.toContain('s3cr3tc0de');
      expect(chat(report, 12).error?.message).toContain('https://example.bitrix24.com');
      expect(publisher.calls).toEqual([]);
      expect(store.saves).toEqual([]);
      expect(report.retryable).toBe(true);
    });
  });
});

/** Resolves every waiter once `parties` have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

describe('syncWorkItem guards', () => {
  it('fails only the chat whose stored snapshot is corrupt', async () => {
    // Prepare
    const { reader, store, sync } = setup();
    store.put(snapshotOf(12, [1, 2])).put(snapshotOf(13, [1]));
    store.put({ ...snapshotOf(12, [1]), members: [1, 0] });
    reader.members(12, [1, 2]).members(13, [1, 5]);

    // Act
    const report = await sync([12, 13]);

    // Assess
    expect(report.chats.map((c) => [c.outcome, c.error?.code])).toEqual([
      ['failed', 'sync_error'],
      ['changed', undefined],
    ]);
  });

  it('fails only the chat the store cannot read back, and never re-baselines it', async () => {
    // Prepare
    const { reader, store, publisher, sync } = setup();
    store
      .put(snapshotOf(12, [1, 2]))
      .put(snapshotOf(13, [1]))
      .corrupt('main', 12);
    reader.members(12, [1]).members(13, [1, 5]);

    // Act
    const report = await sync([12, 13]);

    // Assess
    expect(report.chats.map((c) => [c.outcome, c.error?.code, c.error?.retryable])).toEqual([
      ['failed', 'snapshot_unreadable', false],
      ['changed', undefined, undefined],
    ]);
    expect(publisher.published.map((e) => e.event.subject)).toEqual(['chat/13/user/5']);
    expect(store.saves.map((s) => s.snapshot.chatId)).toEqual([13, 13]);
  });

  it('refuses a work item of another portal', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const run = syncWorkItem(deps, { portalId: 'other', chatIds: [12], scheduledAt: T0 });

    // Assess
    await expect(run).rejects.toThrow(/portal other/);
  });
});

describe('syncWorkItem user details budget', () => {
  it('skips details for a chat whose change exceeds the budget, not for the others', async () => {
    // Prepare
    const { reader, store, publisher, sync } = setup();
    store.put(snapshotOf(12, [1])).put(snapshotOf(13, [1]));
    reader.members(12, [1, 2]).members(13, [1, ...range(100, 120)]);
    reader.user({ id: 2, name: 'Bob' }).user({ id: 100, name: 'Cy' });

    // Act
    const report = await sync([12, 13], { maxDetailsLookup: 10 });

    // Assess
    expect(reader.detailsCalls).toEqual([[2]]);
    expect(dataOf(publisher.ofType(EventTypes.joined)[0])).toMatchObject({ user: { name: 'Bob' } });
    expect(dataOf(publisher.ofType(EventTypes.joined)[1])).toMatchObject({
      userId: 100,
      user: null,
    });
    expect(report.totals.joins).toBe(22);
  });

  describe('a chat that left the configured or discovered set', () => {
    it('announces its retirement once when still readable, without diffing its new members', async () => {
      const { reader, store, publisher, clock, sync, syncDeparted } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 4]);

      const first = await syncDeparted();
      clock.set(T1);
      const again = await syncDeparted();

      expect(types(publisher.published)).toEqual([EventTypes.retired]);
      expect(dataOf(publisher.published[0])).toMatchObject({
        lastKnownMemberCount: 3,
        sequence: 31,
        window: { from: '2026-01-05T09:00:00.000Z', to: T0 },
      });
      expect(chat(first, 12)).toMatchObject({ outcome: 'retired', events: 1 });
      expect(chat(again, 12)).toMatchObject({ outcome: 'retired', events: 0 });
      expect(store.get('main', 12)).toMatchObject({
        members: [1, 2, 3],
        retiredAt: T0,
        sequence: 31,
      });

      // Back in the set: diffed against what subscribers last heard, the retirement cleared.
      clock.set(T2);
      await sync();
      expect(types(publisher.published.slice(1))).toEqual([
        EventTypes.left,
        EventTypes.left,
        EventTypes.joined,
      ]);
      expect(store.get('main', 12)?.retiredAt).toBeUndefined();
    });

    it('is no longer shown retired once back in the set, even when nothing changed meanwhile, and retires again when it leaves again', async () => {
      const { reader, store, publisher, clock, sync, syncDeparted } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 2, 3]);
      await syncDeparted();

      clock.set(T1);
      const back = await sync();
      clock.set(T2);
      await syncDeparted();

      expect(chat(back, 12)).toMatchObject({ outcome: 'unchanged', events: 0 });
      expect(types(publisher.published)).toEqual([EventTypes.retired, EventTypes.retired]);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3], retiredAt: T2 });
    });

    it('announces access lost, never a leave, when it can no longer be read', async () => {
      const { reader, store, publisher, syncDeparted } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.script(12, noAccess(12));

      const report = await syncDeparted();

      expect(types(publisher.published)).toEqual([EventTypes.accessLost]);
      expect(chat(report, 12)).toMatchObject({ outcome: 'access_lost' });
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3] });
    });

    it('finishes its pending change before retiring it', async () => {
      const { reader, store, publisher, sync, syncDeparted } = setup();
      store.put(snapshotOf(12, [1, 2, 3]));
      reader.members(12, [1, 2, 3, 4]);
      publisher.failNext();
      await sync();
      expect(store.get('main', 12)?.pending?.kind).toBe('apply');

      await syncDeparted();

      expect(types(publisher.published)).toEqual([EventTypes.joined, EventTypes.retired]);
      expect(publisher.published.map((e) => dataOf(e).sequence)).toEqual([31, 32]);
      expect(store.get('main', 12)).toMatchObject({ members: [1, 2, 3, 4], retiredAt: T0 });
    });
  });

  describe('honest time', () => {
    it('starts the next window at the previous read’s start, so a change made while a long read was under way is not placed after it', async () => {
      // Prepare: a baseline, then a long read from 09:56 to 10:00 that finds user 3 gone
      const { reader, store, publisher, clock, sync } = setup();
      const read = (memberIds: UserId[], startedAt: string): ChatRead => ({
        kind: 'complete',
        chatId: 12,
        memberIds,
        method: 'im.dialog.users.list',
        startedAt,
      });
      clock.set('2026-01-05T09:45:00.000Z');
      reader.script(12, read([1, 2, 3], '2026-01-05T09:44:00.000Z'));
      await sync();
      clock.set(T0);
      reader.script(12, read([1, 2], '2026-01-05T09:56:00.000Z'));
      await sync();

      // Act: user 4 joined at 09:58, behind that read's position; the next read finds them
      clock.set(T1);
      reader.script(12, read([1, 2, 4], '2026-01-05T10:14:00.000Z'));
      await sync();

      // Assess
      const joined = publisher.published.at(-1);
      expect(dataOf(joined).window).toEqual({ from: '2026-01-05T09:56:00.000Z', to: T1 });
      expect(store.get('main', 12)).toMatchObject({
        readStartedAt: '2026-01-05T10:14:00.000Z',
        observedAt: T1,
      });
      // What history --at 09:58 answers: user 4 may have joined by then, not "was not there".
      const consumer = createReferenceConsumer();
      for (const e of publisher.published) consumer.apply(e.event);
      const uncertain = consumer.uncertainAt(portal.source, 12, '2026-01-05T09:58:00.000Z');
      expect(uncertain.map((e) => `${e.kind}:${'userId' in e ? e.userId : ''}`)).toContain(
        'joined:4',
      );
    });
  });
});
