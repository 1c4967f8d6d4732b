import { describe, expect, it } from 'vitest';
import {
  attributesOf,
  BASELINE_PART_SIZE,
  buildAccessLostEvent,
  buildBaselineEvents,
  buildMassChangeHeldEvent,
  buildMemberEvents,
  buildRetiredEvent,
  type ChatEventContext,
  MAX_IDS_IN_HELD_EVENT,
} from '../../functions/core/build-events.js';
import { dataschemaOf, EventTypes } from '../../functions/core/cloud-event.js';
import { contentHash } from '../../functions/core/member-set.js';
import { DEFAULT_BREAKER, type UserDetails } from '../../functions/core/model.js';
import { schemaFor, schemaTypes, validateEvent } from '../support/event-schemas.js';
import { range } from '../support/fakes.js';

const SNS_MAX_MESSAGE_BYTES = 256 * 1024;

const ctx: ChatEventContext = {
  portal: {
    portalId: 'main',
    source: 'https://example.bitrix24.com',
  },
  chatId: 12,
  baseVersion: 4,
  previousSequence: 40,
  previousObservedAt: '2026-01-05T09:45:00.000Z',
  observedAt: '2026-01-05T10:00:00.000Z',
};

const alice: UserDetails = {
  id: 7,
  name: 'Alice Smith',
  firstName: 'Alice',
  lastName: 'Smith',
  workPosition: null,
  active: true,
  bot: false,
  extranet: true,
  network: false,
  connector: false,
  externalAuthId: 'socservices',
  type: 'extranet',
};

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

describe('schemas', () => {
  it('exist for every event type, with $id equal to the dataschema the core sets', () => {
    // Assess
    expect(schemaTypes().sort()).toEqual(Object.values(EventTypes).sort());
    for (const type of Object.values(EventTypes)) {
      expect(schemaFor(type).$id).toBe(dataschemaOf(type));
    }
  });
});

describe('buildMemberEvents', () => {
  it('builds leaves then joins, ascending, with consecutive sequences', () => {
    // Act
    const events = buildMemberEvents(
      ctx,
      { joined: [3, 9], left: [1, 7] },
      { method: 'im.chat.user.list', details: new Map([[7, alice]]) },
    );

    // Assess
    expect(
      events.map((e) => [
        e.event.type,
        e.event.subject,
        (e.event.data as { sequence: number }).sequence,
      ]),
    ).toEqual([
      [EventTypes.left, 'chat/12/user/1', 41],
      [EventTypes.left, 'chat/12/user/7', 42],
      [EventTypes.joined, 'chat/12/user/3', 43],
      [EventTypes.joined, 'chat/12/user/9', 44],
    ]);
    for (const e of events) validateEvent(e.event);
  });

  it('fills the CloudEvents envelope from the portal and the observation', () => {
    // Act
    const [outgoing] = buildMemberEvents(
      ctx,
      { joined: [7], left: [] },
      { method: 'im.chat.user.list', details: new Map([[7, alice]]) },
    );

    // Assess
    expect(outgoing).toEqual({
      event: {
        specversion: '1.0',
        id: expect.stringMatching(/^[0-9a-f]{64}$/),
        source: 'https://example.bitrix24.com',
        type: EventTypes.joined,
        subject: 'chat/12/user/7',
        time: '2026-01-05T10:00:00.000Z',
        datacontenttype: 'application/json',
        dataschema: dataschemaOf(EventTypes.joined),
        data: {
          portalId: 'main',
          portal: 'https://example.bitrix24.com',
          chatId: 12,
          dialogId: 'chat12',
          userId: 7,
          user: {
            name: 'Alice Smith',
            firstName: 'Alice',
            lastName: 'Smith',
            workPosition: null,
            active: true,
            bot: false,
            extranet: true,
            network: false,
            connector: false,
            externalAuthId: 'socservices',
            type: 'extranet',
          },
          method: 'im.chat.user.list',
          window: { from: '2026-01-05T09:45:00.000Z', to: '2026-01-05T10:00:00.000Z' },
          sequence: 41,
          baseVersion: 4,
          version: 5,
        },
      },
      attributes: {
        type: EventTypes.joined,
        portal: 'https://example.bitrix24.com',
        chatId: 12,
        userId: 7,
        bot: false,
        extranet: true,
      },
      groupKey: 'main#12',
    });
    validateEvent(outgoing?.event);
  });

  it('never puts a webhook path into source or data', () => {
    // Prepare
    const leaky = {
      ...ctx,
      portal: {
        portalId: 'main',
        source: 'https://example.bitrix24.com/rest/1/s3cr3tc0de/',
      },
    };

    // Act
    const [outgoing] = buildMemberEvents(
      leaky,
      { joined: [7], left: [] },
      { method: 'im.chat.user.list', details: new Map() },
    );

    // Assess
    expect(JSON.stringify(outgoing)).not.toContain('s3cr3tc0de');
    expect(outgoing?.event.source).toBe('https://example.bitrix24.com');
  });

  it.each([
    {
      name: 'a deactivated user',
      details: new Map([[7, { ...alice, active: false }]]),
      reason: 'user_deactivated',
    },
    { name: 'an active user', details: new Map([[7, alice]]), reason: 'left_or_removed' },
    {
      name: 'a user Bitrix24 no longer knows',
      details: new Map<number, UserDetails>(),
      reason: 'user_not_found',
    },
    { name: 'a failed details lookup', details: undefined, reason: 'unknown' },
  ])('gives the leave of $name the reason $reason', ({ details, reason }) => {
    // Act
    const [outgoing] = buildMemberEvents(
      ctx,
      { joined: [], left: [7] },
      { method: 'im.dialog.users.list', details },
    );

    // Assess
    expect(outgoing?.event.data).toMatchObject({ reason });
    validateEvent(outgoing?.event);
  });

  it('publishes without details and without user flags when details are unknown', () => {
    // Act
    const [outgoing] = buildMemberEvents(
      ctx,
      { joined: [7], left: [] },
      { method: 'im.chat.user.list', details: undefined },
    );

    // Assess
    expect(outgoing?.event.data).toMatchObject({ user: null });
    expect(outgoing?.attributes).toEqual({
      type: EventTypes.joined,
      portal: 'https://example.bitrix24.com',
      chatId: 12,
      userId: 7,
    });
    validateEvent(outgoing?.event);
  });

  it('keeps only modelled user fields an adapter filled in', () => {
    // Prepare
    const noisy = {
      id: 7,
      name: 'Alice',
      bot: undefined,
      avatar: 'https://cdn/x.png',
    } as UserDetails;

    // Act
    const [outgoing] = buildMemberEvents(
      ctx,
      { joined: [7], left: [] },
      { method: 'im.chat.user.list', details: new Map([[7, noisy]]) },
    );

    // Assess
    expect(outgoing?.event.data).toMatchObject({ user: { name: 'Alice' } });
    expect((outgoing?.event.data as { user: object } | undefined)?.user).toEqual({ name: 'Alice' });
    validateEvent(outgoing?.event);
  });

  it('marks a change applied after a released hold', () => {
    // Act
    const [outgoing] = buildMemberEvents(
      ctx,
      { joined: [], left: [7] },
      { method: 'im.chat.user.list', details: new Map(), heldSince: '2026-01-05T09:30:00.000Z' },
    );

    // Assess
    expect(outgoing?.event.data).toMatchObject({ heldSince: '2026-01-05T09:30:00.000Z' });
    validateEvent(outgoing?.event);
  });

  it('builds identical IDs for the same diff on the same base version, at any time', () => {
    // Prepare
    const diff = { joined: [3], left: [7] };
    const options = { method: 'im.chat.user.list' as const, details: undefined };

    // Act
    const first = buildMemberEvents(ctx, diff, options);
    const later = buildMemberEvents(
      { ...ctx, observedAt: '2026-01-05T10:15:00.000Z' },
      diff,
      options,
    );
    const nextVersion = buildMemberEvents({ ...ctx, baseVersion: 5 }, diff, options);

    // Assess
    expect(later.map((e) => e.event.id)).toEqual(first.map((e) => e.event.id));
    expect(nextVersion.map((e) => e.event.id)).not.toContain(first[0]?.event.id);
    expect(new Set(first.map((e) => e.event.id)).size).toBe(2);
  });
});

describe('buildBaselineEvents', () => {
  const first: ChatEventContext = {
    ...ctx,
    baseVersion: 0,
    previousSequence: 0,
    previousObservedAt: null,
  };

  it('sends a small chat as one event with its member list', () => {
    // Act
    const events = buildBaselineEvents(first, [1, 2, 3], 'im.chat.user.list');

    // Assess
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toMatchObject({
      type: EventTypes.baseline,
      subject: 'chat/12',
      data: {
        memberCount: 3,
        members: [1, 2, 3],
        part: 1,
        parts: 1,
        sequence: 1,
        baseVersion: 0,
        version: 1,
        window: { from: null },
        membersHash: contentHash([1, 2, 3]),
      },
    });
    expect(events[0]?.attributes).toEqual({
      type: EventTypes.baseline,
      portal: 'https://example.bitrix24.com',
      chatId: 12,
    });
    validateEvent(events[0]?.event);
  });

  it('splits a 200,000-member chat into parts that each stay under the SNS limit', () => {
    // Prepare
    const members = range(4_294_767_296, 4_294_967_295);

    // Act
    const events = buildBaselineEvents(first, members, 'im.chat.user.list');

    // Assess
    expect(events).toHaveLength(200_000 / BASELINE_PART_SIZE);
    expect(events.map((e) => (e.event.data as { part: number }).part)).toEqual(range(1, 20));
    expect(events.map((e) => (e.event.data as { sequence: number }).sequence)).toEqual(
      range(1, 20),
    );
    expect(events.flatMap((e) => (e.event.data as { members: number[] }).members)).toEqual(members);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(20);
    for (const e of events) {
      expect(bytesOf(e.event) + bytesOf(e.attributes)).toBeLessThan(SNS_MAX_MESSAGE_BYTES);
      validateEvent(e.event);
    }
  });
});

describe('buildAccessLostEvent', () => {
  it('carries the reader code and the last known member count', () => {
    // Act
    const outgoing = buildAccessLostEvent(ctx, 'ACCESS_ERROR', 120);

    // Assess
    expect(outgoing.event).toMatchObject({
      type: EventTypes.accessLost,
      subject: 'chat/12',
      data: { code: 'ACCESS_ERROR', lastKnownMemberCount: 120, sequence: 41, version: 5 },
    });
    validateEvent(outgoing.event);
  });
});

describe('buildMassChangeHeldEvent', () => {
  it('carries the counts and the held user IDs, capped', () => {
    // Prepare
    const diff = { joined: [900_001], left: range(1, 5_000) };

    // Act
    const outgoing = buildMassChangeHeldEvent(
      ctx,
      diff,
      { previousCount: 6_000, observedCount: 1_001 },
      DEFAULT_BREAKER,
    );

    // Assess
    expect(outgoing.event.data).toMatchObject({
      previousCount: 6_000,
      observedCount: 1_001,
      joinedCount: 1,
      leftCount: 5_000,
      breaker: { maxRemovedShare: 0.5, minRemoved: 5 },
      leftHash: contentHash(diff.left),
      left: range(1, MAX_IDS_IN_HELD_EVENT),
      leftTruncated: true,
      joined: [900_001],
      joinedTruncated: false,
    });
    expect(bytesOf(outgoing.event)).toBeLessThan(SNS_MAX_MESSAGE_BYTES);
    validateEvent(outgoing.event);
  });

  it('gives a different held leave set on the same base version a different ID', () => {
    // Act
    const a = buildMassChangeHeldEvent(
      ctx,
      { joined: [], left: range(1, 8) },
      { previousCount: 10, observedCount: 2 },
      DEFAULT_BREAKER,
    );
    const b = buildMassChangeHeldEvent(
      ctx,
      { joined: [], left: range(1, 9) },
      { previousCount: 10, observedCount: 1 },
      DEFAULT_BREAKER,
    );
    const again = buildMassChangeHeldEvent(
      ctx,
      { joined: [], left: range(1, 8) },
      { previousCount: 10, observedCount: 2 },
      DEFAULT_BREAKER,
    );

    // Assess
    expect(a.event.id).not.toBe(b.event.id);
    expect(again.event.id).toBe(a.event.id);
  });
});

describe('attributesOf', () => {
  it('reads from an archived event (parsed back from JSON) the attributes the sync published with it', () => {
    // Prepare
    const bot: UserDetails = { ...alice, id: 8, bot: true, extranet: false };
    const built = [
      ...buildMemberEvents(
        ctx,
        { joined: [7, 9], left: [8, 10] },
        {
          method: 'im.chat.user.list',
          details: new Map([
            [7, alice],
            [8, bot],
          ]),
        },
      ),
      ...buildMemberEvents(
        ctx,
        { joined: [7], left: [8] },
        { method: 'im.dialog.users.list', details: undefined },
      ),
      ...buildBaselineEvents(ctx, [1, 2, 3], 'im.chat.user.list', 2),
      buildAccessLostEvent(ctx, 'ACCESS_ERROR', 3),
      buildRetiredEvent(ctx, 3),
      buildMassChangeHeldEvent(
        ctx,
        { joined: [4], left: range(1, 3) },
        { previousCount: 3, observedCount: 1 },
        DEFAULT_BREAKER,
      ),
    ];

    // Act
    const read = built.map((o) => attributesOf(JSON.parse(JSON.stringify(o.event))));

    // Assess
    expect(new Set(built.map((o) => o.event.type))).toEqual(new Set(Object.values(EventTypes)));
    expect(read.map((a) => JSON.stringify(a))).toEqual(
      built.map((o) => JSON.stringify(o.attributes)),
    );
  });
});

describe('validateEvent', () => {
  const valid = buildAccessLostEvent(ctx, 'ACCESS_ERROR', 3).event;

  it.each([
    ['an unknown envelope field', { ...valid, extra: 1 }],
    ['an unknown data field', { ...valid, data: { ...(valid.data as object), extra: 1 } }],
    ['a missing data field', { ...valid, data: { ...(valid.data as object), code: undefined } }],
    ['a member subject on a chat event', { ...valid, subject: 'chat/12/user/7' }],
    ['a webhook path as source', { ...valid, source: 'https://example.bitrix24.com/rest/1/code' }],
    ['a foreign dataschema', { ...valid, dataschema: 'https://example.com/x.json' }],
    ['a non-ISO time', { ...valid, time: 'yesterday' }],
  ])('rejects %s', (_name, event) => {
    expect(() => validateEvent(event)).toThrow(/does not match its schema/);
  });
});
