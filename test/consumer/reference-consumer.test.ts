import { describe, expect, it } from 'vitest';
import {
  createReferenceConsumer,
  InvalidEventError,
  type ReferenceConsumer,
} from '../../functions/consumer/reference-consumer.js';
import {
  buildAccessLostEvent,
  buildBaselineEvents,
  buildMemberEvents,
  type ChatEventContext,
} from '../../functions/core/build-events.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import {
  generateHistory,
  HISTORY_PORTAL,
  HISTORY_SOURCE,
  shuffled,
  withDuplicates,
} from '../support/event-history.js';

const SOURCE = HISTORY_SOURCE;

function ctx(over: Partial<ChatEventContext> = {}): ChatEventContext {
  return {
    portal: HISTORY_PORTAL,
    chatId: 5,
    baseVersion: 0,
    previousSequence: 0,
    previousObservedAt: null,
    observedAt: '2026-03-03T13:00:00.000Z',
    ...over,
  };
}

const baseline = (members: number[], partSize?: number, over: Partial<ChatEventContext> = {}) =>
  buildBaselineEvents(ctx(over), members, 'im.chat.user.list', partSize).map((e) => e.event);

/** Member events of a diff against a chat at (version, sequence). */
function changes(
  diff: { joined: number[]; left: number[] },
  at: { version: number; sequence: number; from: string; to: string },
): CloudEvent[] {
  return buildMemberEvents(
    ctx({
      baseVersion: at.version,
      previousSequence: at.sequence,
      previousObservedAt: at.from,
      observedAt: at.to,
    }),
    diff,
    { method: 'im.chat.user.list', details: undefined },
  ).map((e) => e.event);
}

const T0 = '2026-03-03T13:00:00.000Z';
const T1 = '2026-03-03T13:05:00.000Z';
const T2 = '2026-03-03T13:10:00.000Z';

function applyAll(consumer: ReferenceConsumer, events: readonly CloudEvent[]): string[] {
  // As a subscriber receives them: JSON, not the producer's objects.
  return events.map((e) => consumer.apply(JSON.parse(JSON.stringify(e)) as CloudEvent));
}

const sorted = (set: ReadonlySet<number> | undefined) =>
  set === undefined ? undefined : [...set].sort((a, b) => a - b);

describe('reference consumer', () => {
  it('delivers the same member sets from shuffled, duplicated delivery as in order (seeded)', () => {
    for (let run = 0; run < 25; run++) {
      const seed = 1_000 + run;
      const random = createRandom(seed);
      const history = generateHistory(random, { chats: 4, steps: 12, partSize: 3 });

      const inOrder = createReferenceConsumer();
      applyAll(inOrder, history.events);
      const shuffledConsumer = createReferenceConsumer();
      applyAll(shuffledConsumer, shuffled(random, withDuplicates(random, history.events, 0.3)));

      for (const [chatId, observations] of history.truth) {
        const last = observations.at(-1)?.members;
        expect(sorted(inOrder.members(SOURCE, chatId)), `seed ${seed} chat ${chatId}`).toEqual(
          last,
        );
        expect(
          sorted(shuffledConsumer.members(SOURCE, chatId)),
          `seed ${seed} chat ${chatId}`,
        ).toEqual(last);
      }
      expect(shuffledConsumer.anomalies(), `seed ${seed}`).toEqual([]);
      expect(
        [...shuffledConsumer.chats()].map((c) => c.buffered),
        `seed ${seed}`,
      ).toEqual([...inOrder.chats()].map(() => 0));
    }
  });

  it('answers membersAt each observation time with the membership observed then (seeded)', () => {
    for (let run = 0; run < 10; run++) {
      const seed = 2_000 + run;
      const random = createRandom(seed);
      const history = generateHistory(random, { chats: 3, steps: 10, partSize: 4 });
      const consumer = createReferenceConsumer();
      applyAll(consumer, shuffled(random, history.events));
      for (const [chatId, observations] of history.truth) {
        const first = observations[0];
        if (first === undefined) throw new Error('no baseline observation');
        const before = new Date(Date.parse(first.time) - 1);
        expect(consumer.membersAt(SOURCE, chatId, before), `seed ${seed}`).toBeUndefined();
        observations.forEach(({ time, members }, i) => {
          expect(
            sorted(consumer.membersAt(SOURCE, chatId, time)),
            `seed ${seed} at ${time}`,
          ).toEqual(members);
          // Until the next observation's window closes, nothing else is known to have changed.
          const next = observations[i + 1];
          if (next !== undefined) {
            const justBefore = new Date(Date.parse(next.time) - 1);
            expect(sorted(consumer.membersAt(SOURCE, chatId, justBefore)), `seed ${seed}`).toEqual(
              members,
            );
          }
        });
      }
    }
  });

  it('reports duplicates on source + id, also when the copy arrives while the original is buffered', () => {
    const consumer = createReferenceConsumer();
    const [first, second] = baseline([1, 2, 3, 4], 2);
    if (!first || !second) throw new Error('expected two parts');
    expect(consumer.apply(second)).toBe('buffered');
    expect(consumer.apply(second)).toBe('duplicate');
    expect(consumer.apply(first)).toBe('applied');
    expect(consumer.apply(first)).toBe('duplicate');
    expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2, 3, 4]);
    // The same id from another portal is another event.
    expect(consumer.apply({ ...first, source: 'https://other.bitrix24.com' })).toBe('applied');
  });

  it('holds events after a gap back and applies them in order once it fills', () => {
    const consumer = createReferenceConsumer();
    const base = baseline([1, 2]);
    const join3 = changes({ joined: [3], left: [] }, { version: 1, sequence: 1, from: T0, to: T1 });
    const leave3 = changes(
      { joined: [], left: [3] },
      { version: 2, sequence: 2, from: T1, to: T2 },
    );
    applyAll(consumer, base);
    expect(applyAll(consumer, leave3)).toEqual(['buffered']);
    // The leave of 3 waits: applying it before the join would leave 3 in the chat.
    expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2]);
    expect([...consumer.chats()]).toMatchObject([{ sequence: 1, buffered: 1 }]);
    expect(applyAll(consumer, join3)).toEqual(['applied']);
    expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2]);
    expect([...consumer.chats()]).toMatchObject([{ sequence: 3, buffered: 0 }]);
    expect(consumer.timeline(SOURCE, 5).map((e) => e.kind)).toEqual(['baseline', 'joined', 'left']);
    expect(consumer.anomalies()).toEqual([]);
  });

  it('knows no members before every baseline part arrived', () => {
    const consumer = createReferenceConsumer();
    const parts = baseline([1, 2, 3, 4, 5], 2);
    applyAll(consumer, parts.slice(0, 2));
    expect(consumer.members(SOURCE, 5)).toBeUndefined();
    expect([...consumer.chats()]).toMatchObject([{ baselined: false, sequence: 2 }]);
    applyAll(consumer, parts.slice(2));
    expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2, 3, 4, 5]);
  });

  it('takes the sequence of access_lost and mass_change_held without changing members', () => {
    const consumer = createReferenceConsumer();
    applyAll(consumer, baseline([1, 2]));
    const lost = buildAccessLostEvent(
      ctx({ baseVersion: 1, previousSequence: 1, observedAt: T1 }),
      'ACCESS_ERROR',
      2,
    ).event;
    const join = changes({ joined: [9], left: [] }, { version: 2, sequence: 2, from: T0, to: T2 });
    expect(applyAll(consumer, [...join, lost])).toEqual(['buffered', 'applied']);
    expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2, 9]);
  });

  describe('anomalies', () => {
    it('records two distinct events with one sequence as sequence_conflict and keeps the first', () => {
      const consumer = createReferenceConsumer();
      applyAll(consumer, baseline([1, 2]));
      const at = { version: 1, sequence: 1, from: T0, to: T1 };
      const [join7] = changes({ joined: [7], left: [] }, at);
      const [join8] = changes({ joined: [8], left: [] }, at);
      if (!join7 || !join8) throw new Error('no events');
      expect(applyAll(consumer, [join7, join8])).toEqual(['applied', 'duplicate']);
      expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2, 7]);
      expect(consumer.anomalies()).toMatchObject([
        { kind: 'sequence_conflict', chatId: 5, sequence: 2, eventId: join8.id },
      ]);
    });

    it('records sequence_conflict against a buffered event too', () => {
      const consumer = createReferenceConsumer();
      const at = { version: 1, sequence: 1, from: T0, to: T1 };
      expect(
        applyAll(consumer, [
          ...changes({ joined: [7], left: [] }, at),
          ...changes({ joined: [8], left: [] }, at),
        ]),
      ).toEqual(['buffered', 'duplicate']);
      expect(consumer.anomalies().map((a) => a.kind)).toEqual(['sequence_conflict']);
    });

    it('records redundant_join and redundant_leave', () => {
      const consumer = createReferenceConsumer();
      applyAll(consumer, baseline([1, 2]));
      applyAll(
        consumer,
        changes({ joined: [2], left: [3] }, { version: 1, sequence: 1, from: T0, to: T1 }),
      );
      expect(consumer.anomalies().map((a) => [a.kind, a.sequence])).toEqual([
        ['redundant_leave', 2],
        ['redundant_join', 3],
      ]);
      expect(sorted(consumer.members(SOURCE, 5))).toEqual([1, 2]);
    });

    it('records no_baseline for a member event that applies before any baseline', () => {
      const consumer = createReferenceConsumer();
      applyAll(
        consumer,
        changes({ joined: [4], left: [] }, { version: 0, sequence: 0, from: T0, to: T1 }),
      );
      expect(consumer.anomalies().map((a) => a.kind)).toEqual(['no_baseline']);
      expect(consumer.members(SOURCE, 5)).toBeUndefined();
    });

    it('records baseline_hash_mismatch when the parts do not match membersHash', () => {
      const consumer = createReferenceConsumer();
      const [part1, part2] = baseline([1, 2, 3, 4], 2);
      if (!part1 || !part2) throw new Error('expected two parts');
      const tampered = { ...part2, data: { ...(part2.data as object), members: [3, 5] } };
      applyAll(consumer, [part1, tampered]);
      expect(consumer.anomalies()).toMatchObject([{ kind: 'baseline_hash_mismatch', sequence: 2 }]);
    });

    it('records baseline_incomplete when another baseline or event cuts a baseline short', () => {
      const consumer = createReferenceConsumer();
      const [a1] = baseline([1, 2, 3, 4], 2);
      const [, b2] = baseline([1, 2, 3, 5], 2);
      if (!a1 || !b2) throw new Error('expected parts');
      applyAll(consumer, [a1, b2]);
      expect(consumer.anomalies().map((a) => a.kind)).toEqual(['baseline_incomplete']);
      expect(consumer.members(SOURCE, 5)).toBeUndefined();
    });

    it('records unknown_type and still takes its sequence', () => {
      const consumer = createReferenceConsumer();
      const [base] = baseline([1]);
      if (!base) throw new Error('no baseline');
      const future = {
        ...base,
        id: 'f'.repeat(64),
        type: 'com.bitrix24.membership-sync.chat.renamed.v1',
        data: { ...(base.data as object), sequence: 2 },
      } as unknown as CloudEvent;
      expect(applyAll(consumer, [future, base])).toEqual(['buffered', 'applied']);
      expect([...consumer.chats()]).toMatchObject([{ sequence: 2 }]);
      expect(consumer.anomalies().map((a) => a.kind)).toEqual(['unknown_type']);
    });
  });

  it('throws InvalidEventError for something that is not a membership event', () => {
    const consumer = createReferenceConsumer();
    expect(() => consumer.apply({ hello: 'world' } as unknown as CloudEvent)).toThrow(
      InvalidEventError,
    );
  });

  describe('seed', () => {
    it('starts a chat from an export line: earlier events are duplicates, later ones apply', () => {
      const random = createRandom(77);
      const history = generateHistory(random, { chats: 1, steps: 15, partSize: 2 });
      const observations = history.truth.get(1) ?? [];
      const cut = observations[Math.floor(observations.length / 2)];
      if (cut === undefined) throw new Error('no observation');
      // The export: the state after every event observed by `cut`.
      const upTo = history.events.filter((e) => Date.parse(e.time) <= Date.parse(cut.time));
      const sequence = Math.max(...upTo.map((e) => (e.data as { sequence: number }).sequence));
      const consumer = createReferenceConsumer();
      consumer.seed({
        portalId: 'acme',
        source: SOURCE,
        chatId: 1,
        members: cut.members,
        version: 0,
        sequence,
        observedAt: cut.time,
      });
      const outcomes = applyAll(consumer, shuffled(random, history.events));
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(upTo.length);
      expect(sorted(consumer.members(SOURCE, 1))).toEqual(observations.at(-1)?.members);
      expect(consumer.anomalies()).toEqual([]);
      expect(consumer.membersAt(SOURCE, 1, new Date(Date.parse(cut.time) - 1))).toBeUndefined();
    });

    it('refuses to seed a chat that already has state', () => {
      const consumer = createReferenceConsumer();
      applyAll(consumer, baseline([1]));
      const line = {
        portalId: 'acme',
        source: SOURCE,
        chatId: 5,
        members: [1],
        version: 1,
        sequence: 1,
        observedAt: T0,
      };
      expect(() => consumer.seed(line)).toThrow(/already has state/);
    });
  });

  it('lists changes whose observation window contains a time as uncertain', () => {
    const consumer = createReferenceConsumer();
    applyAll(consumer, baseline([1, 2]));
    applyAll(
      consumer,
      changes({ joined: [3], left: [1] }, { version: 1, sequence: 1, from: T0, to: T2 }),
    );
    expect(sorted(consumer.membersAt(SOURCE, 5, T1))).toEqual([1, 2]);
    expect(consumer.uncertainAt(SOURCE, 5, T1).map((e) => e.kind)).toEqual(['left', 'joined']);
    expect(sorted(consumer.membersAt(SOURCE, 5, T2))).toEqual([2, 3]);
    expect(consumer.uncertainAt(SOURCE, 5, T2)).toEqual([]);
  });

  it('places an attributed change at its system message time, a silent one at its window end, and says which', () => {
    const consumer = createReferenceConsumer();
    applyAll(consumer, baseline([1, 2]));
    const joinedAt = '2026-03-03T13:01:00.000Z';
    const attribution = new Map([
      [3, { actorId: 1, at: joinedAt, how: 'invited' as const, messageId: 77 }],
      [1, null],
    ]);
    applyAll(
      consumer,
      buildMemberEvents(
        ctx({ baseVersion: 1, previousSequence: 1, previousObservedAt: T0, observedAt: T2 }),
        { joined: [3], left: [1] },
        { method: 'im.chat.user.list', details: undefined, attribution },
      ).map((e) => e.event),
    );

    expect(consumer.timeline(SOURCE, 5).map((e) => [e.kind, e.basis, e.at])).toEqual([
      ['baseline', 'window', T0],
      ['left', 'window', T2],
      ['joined', 'attribution', joinedAt],
    ]);
    // 13:00:30: before the message; 13:05: user 3 is in, user 1's silent leave is still open.
    expect(sorted(consumer.membersAt(SOURCE, 5, '2026-03-03T13:00:30.000Z'))).toEqual([1, 2]);
    expect(sorted(consumer.membersAt(SOURCE, 5, T1))).toEqual([1, 2, 3]);
    expect(consumer.uncertainAt(SOURCE, 5, T1).map((e) => e.kind)).toEqual(['left']);
    expect(sorted(consumer.membersAt(SOURCE, 5, T2))).toEqual([2, 3]);
  });
});
