import { describe, expect, it } from 'vitest';
import {
  decodeSnapshot,
  encodeBody,
  encodeHead,
  encodeShards,
  type Item,
  type Key,
  SnapshotCorruptError,
  stateKey,
} from '../../functions/adapters/snapshot-item-codec.js';
import { contentHash } from '../../functions/core/member-set.js';
import type { Snapshot, UserId } from '../../functions/core/model.js';
import { createRandom } from '../../local/simulator/seeded-random.js';

const BROTLI = { compression: 'brotli' as const };

function someIds(random: () => number, max: number, share: number): UserId[] {
  const ids: UserId[] = [];
  for (let id = 1; id <= max; id++) if (random() < share) ids.push(id);
  return ids;
}

/** A snapshot with whatever a head can carry: a held change, a pending change, read progress. */
function randomSnapshot(random: () => number): Snapshot {
  const members = someIds(random, 5_000, random());
  const joined = someIds(random, 6_000, 0.01);
  const left = members.filter(() => random() < 0.05);
  const base: Snapshot = {
    portalId: 'portal.example',
    chatId: 1 + Math.floor(random() * 1e6),
    members,
    version: 1 + Math.floor(random() * 50),
    contentHash: contentHash(members),
    observedAt: '2026-03-02T10:00:00.000Z',
    sequence: Math.floor(random() * 500),
    method: random() < 0.5 ? 'im.chat.user.list' : 'im.dialog.users.list',
    ...(random() < 0.3 ? { accessLostAt: '2026-03-01T09:00:00.000Z' } : {}),
    ...(random() < 0.2 ? { retiredAt: '2026-03-01T09:30:00.000Z' } : {}),
    ...(random() < 0.5 ? { readStartedAt: '2026-03-02T09:58:00.000Z' } : {}),
    ...(random() < 0.5 ? { lastEvent: { id: 'a'.repeat(64), digest: 'b'.repeat(64) } } : {}),
    ...(random() < 0.3
      ? {
          held: {
            baseVersion: 2,
            detectedAt: '2026-03-01T08:00:00.000Z',
            joined: [],
            left,
            observedCount: members.length - left.length,
            released: random() < 0.5,
          },
        }
      : {}),
  };
  if (random() < 0.3) {
    return {
      ...base,
      readProgress: {
        lastId: 9_000,
        memberIds: [...someIds(random, 8_999, 0.1), 9_000],
        startedAt: '2026-03-02T09:59:00.000Z',
      },
    };
  }
  if (random() < 0.5) return base;
  if (random() < 0.2) {
    return {
      ...base,
      pending: {
        kind: 'retire',
        id: 'change-2',
        observedAt: '2026-03-02T10:00:00.000Z',
        joined: [],
        left: [],
        eventCount: 1,
        published: 0,
        lastEvent: { id: 'c'.repeat(64), digest: 'd'.repeat(64) },
      },
    };
  }
  return {
    ...base,
    pending: {
      kind: 'apply',
      method: 'im.chat.user.list',
      id: 'change-1',
      observedAt: '2026-03-02T10:00:00.000Z',
      joined,
      left,
      ...(random() < 0.5 ? { details: joined.map((id) => ({ id, name: `User ${id}` })) } : {}),
      eventCount: joined.length + left.length,
      published: Math.floor(random() * (joined.length + left.length)),
    },
  };
}

function shardLookup(items: readonly Item[]): (key: Key) => unknown {
  const data = new Map(items.map((item) => [`${item.pk}|${item.sk}`, item.data]));
  return (key) => data.get(`${key.pk}|${key.sk}`);
}

describe.each([1, 2, 3, 4, 5])('snapshot items (seed %i)', (seed) => {
  const random = createRandom(seed);
  const snapshots = Array.from({ length: 20 }, () => randomSnapshot(random));

  it(`decode to the snapshot they encode, body inline or in shards (seed ${seed})`, () => {
    for (const snapshot of snapshots) {
      const body = encodeBody(snapshot, BROTLI);
      expect(decodeSnapshot(encodeHead(snapshot, body, undefined), () => undefined)).toEqual(
        snapshot,
      );
      const { shards, items } = encodeShards(snapshot, body, 97);
      expect(items.length).toBe(Math.ceil(body.bytes.length / 97));
      expect(decodeSnapshot(encodeHead(snapshot, body, shards), shardLookup(items))).toEqual(
        snapshot,
      );
    }
  });

  it(`name the chat whose shard is missing or whose body was altered (seed ${seed})`, () => {
    for (const snapshot of snapshots) {
      const body = encodeBody(snapshot, BROTLI);
      const { shards, items } = encodeShards(snapshot, body, 97);
      const head = encodeHead(snapshot, body, shards);
      const lost = Math.floor(random() * items.length);
      expect(() => decodeSnapshot(head, shardLookup(items.toSpliced(lost, 1)))).toThrow(
        new SnapshotCorruptError(`portal.example#${snapshot.chatId}: shard ${lost} is missing`),
      );
      const altered = Uint8Array.from(body.bytes);
      const at = Math.floor(random() * altered.length);
      altered[at] = (altered[at] as number) ^ 1;
      const inline = { ...encodeHead(snapshot, body, undefined), body: altered };
      expect(() => decodeSnapshot(inline, () => undefined)).toThrow(/body hash mismatch/);
    }
  });
});

describe('stateKey', () => {
  const members = [3, 5, 8];
  const snapshot: Snapshot = {
    portalId: 'p',
    chatId: 1,
    members,
    version: 1,
    contentHash: contentHash(members),
    observedAt: '2026-03-02T10:00:00.000Z',
    sequence: 3,
  };

  it('ignores what a save never compares: the time, the version and sequence', () => {
    expect(
      stateKey({ ...snapshot, observedAt: '2026-03-02T11:00:00.000Z', version: 2, sequence: 9 }),
    ).toBe(stateKey(snapshot));
  });

  it('tells apart members, method, access flag and held change, whatever the held order', () => {
    const held = {
      baseVersion: 1,
      detectedAt: '2026-03-02T10:00:00.000Z',
      joined: [],
      left: [5, 3],
      observedCount: 1,
      released: false,
    };
    const keys = [
      snapshot,
      { ...snapshot, contentHash: contentHash([3, 5]) },
      { ...snapshot, method: 'im.chat.user.list' as const },
      { ...snapshot, accessLostAt: '2026-03-02T10:00:00.000Z' },
      { ...snapshot, held },
      { ...snapshot, held: { ...held, released: true } },
    ].map(stateKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(stateKey({ ...snapshot, held: { ...held, left: [3, 5, 5] } })).toBe(
      stateKey({ ...snapshot, held }),
    );
  });
});
