import { createHash } from 'node:crypto';
import {
  DeleteItemCommand,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createDynamoDbSnapshotStore,
  type DynamoDbSnapshotStoreOptions,
} from '../../functions/adapters/dynamodb-snapshot-store.js';
import { SnapshotConflictError, SnapshotUnreadableError } from '../../functions/core/errors.js';
import { DEFAULT_BREAKER, type HeldChange, type Snapshot } from '../../functions/core/model.js';
import { syncWorkItem } from '../../functions/core/sync-work-item.js';
import { connectDynamo, type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';
import { FakeMemberReader, FixedClock, RecordingPublisher } from '../support/fakes.js';

function contentHash(members: readonly number[]): string {
  return createHash('sha256').update(members.join(',')).digest('hex');
}

function snapshot(
  portalId: string,
  chatId: number,
  members: readonly number[],
  version: number,
  extra: Partial<Pick<Snapshot, 'held' | 'accessLostAt' | 'observedAt' | 'sequence'>> = {},
): Snapshot {
  return {
    portalId,
    chatId,
    members,
    version,
    contentHash: contentHash(members),
    observedAt: extra.observedAt ?? `2026-11-21T10:00:0${version % 10}.000Z`,
    sequence: extra.sequence ?? version,
    ...(extra.held ? { held: extra.held } : {}),
    ...(extra.accessLostAt ? { accessLostAt: extra.accessLostAt } : {}),
  };
}

/** `count` distinct random IDs in 1..max, ascending. */
function sparseIds(count: number, max: number): number[] {
  const ids = new Set<number>();
  while (ids.size < count) ids.add(1 + Math.floor(Math.random() * max));
  return [...ids].sort((a, b) => a - b);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const backends: [string, () => Promise<DynamoEndpoint>][] = [
  ['dynalite', () => startDynalite()],
  ['DynamoDB Local', async () => connectDynamo(inject('dynamoDbLocalEndpoint'))],
];

describe.each(backends)('DynamoDbSnapshotStore on %s', (_name, start) => {
  let dynamo: DynamoEndpoint;
  let tableName: string;
  const store = (options: Partial<DynamoDbSnapshotStoreOptions> = {}) =>
    createDynamoDbSnapshotStore({ client: dynamo.documentClient, tableName, ...options });

  beforeAll(async () => {
    dynamo = await start();
    tableName = await dynamo.createSnapshotTable();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  /** A chat's items: its head's partition and its shards' (`<pk>#shards`). */
  async function partition(pk: string) {
    const items = [];
    for (const key of [pk, `${pk}#shards`]) {
      const out = await dynamo.client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: key } },
        }),
      );
      items.push(...(out.Items ?? []));
    }
    return items;
  }

  describe('the outbox', () => {
    const details = [
      { id: 8, name: 'Ann Lee', active: true, bot: false },
      { id: 9, name: 'Bo', active: false },
    ];
    function pendingOf(base: Snapshot, id: string, published = 0): Snapshot {
      return {
        ...base,
        method: 'im.chat.user.list',
        pending: {
          id,
          kind: 'apply',
          method: 'im.chat.user.list',
          observedAt: '2026-11-21T11:00:00.000Z',
          joined: [8],
          left: [2],
          details,
          eventCount: 2,
          published,
        },
      };
    }

    it('round-trips a pending change with its details, and commits only the change it names', async () => {
      const base = snapshot('ob', 1, [1, 2, 3], 1);
      await store().save(base, { version: undefined });
      const recorded = pendingOf(base, 'change-1');
      await store().save(recorded, { version: 1 });

      expect((await store().loadMany('ob', [1])).get(1)).toEqual(recorded);
      await expect(
        store().save(pendingOf(base, 'change-2'), { version: 1 }),
      ).rejects.toBeInstanceOf(SnapshotConflictError);
      const committed = {
        ...snapshot('ob', 1, [1, 3, 8], 2),
        method: 'im.chat.user.list' as const,
      };
      await expect(
        store().save(committed, { version: 1, pendingId: 'change-2' }),
      ).rejects.toBeInstanceOf(SnapshotConflictError);
      await expect(store().save(committed, { version: 1 })).rejects.toBeInstanceOf(
        SnapshotConflictError,
      );
      await store().save(committed, { version: 1, pendingId: 'change-1' });

      expect((await store().loadMany('ob', [1])).get(1)).toEqual(committed);
    });

    it('records a first change on a chat never synced at version 0, and commits it as version 1', async () => {
      const empty = { ...snapshot('ob0', 1, [], 1), version: 0, sequence: 0 };
      const recorded: Snapshot = {
        ...empty,
        pending: {
          id: 'base-1',
          kind: 'baseline',
          method: 'im.dialog.users.list',
          observedAt: '2026-11-21T11:00:00.000Z',
          joined: range(1, 30_000),
          left: [],
          eventCount: 3,
          published: 0,
        },
      };
      await store({ inlineBodyBytes: 1_000, shardBytes: 2_000 }).save(recorded, {
        version: undefined,
      });
      const rival = { ...recorded, pending: { ...recorded.pending, id: 'base-2' } } as Snapshot;
      await expect(store().save(rival, { version: undefined })).rejects.toBeInstanceOf(
        SnapshotConflictError,
      );

      expect((await store().loadMany('ob0', [1])).get(1)).toEqual(recorded);
      const committed = { ...snapshot('ob0', 1, range(1, 30_000), 1), sequence: 3 };
      await store().save(committed, { version: undefined, pendingId: 'base-1' });
      expect((await store().loadMany('ob0', [1])).get(1)).toEqual(committed);
    });

    it('keeps the progress of a first keyset read at version 0, then the first change replaces it', async () => {
      const progress = {
        lastId: 40_000,
        memberIds: range(1, 40_000),
        startedAt: '2026-11-21T11:00:00.000Z',
      };
      const first = {
        ...snapshot('kp', 1, [], 1),
        version: 0,
        sequence: 0,
        readProgress: progress,
      };
      await store({ inlineBodyBytes: 1_000, shardBytes: 2_000 }).save(first, {
        version: undefined,
      });
      const further = {
        ...first,
        readProgress: { ...progress, lastId: 41_000, memberIds: range(1, 41_000) },
      };
      await store().save(further, { version: 0 });

      expect((await store().loadMany('kp', [1])).get(1)).toEqual(further);
      const recorded: Snapshot = {
        ...snapshot('kp', 1, [], 1),
        version: 0,
        sequence: 0,
        pending: {
          id: 'base-1',
          kind: 'baseline',
          method: 'im.dialog.users.list',
          observedAt: '2026-11-21T11:05:00.000Z',
          joined: range(1, 41_500),
          left: [],
          eventCount: 5,
          published: 0,
        },
      };
      await store().save(recorded, { version: undefined });
      expect((await store().loadMany('kp', [1])).get(1)).toEqual(recorded);
    });

    it('advances the publish cursor of the named change only', async () => {
      const base = snapshot('cur', 1, [1, 2, 3], 1);
      await store().save(base, { version: undefined });
      await store().save(pendingOf(base, 'change-1'), { version: 1 });
      const s = store();
      const before = s.stats().writeCalls;

      await s.recordPublished('cur', 1, 'change-1', 1);
      await expect(s.recordPublished('cur', 1, 'other', 2)).rejects.toBeInstanceOf(
        SnapshotConflictError,
      );

      expect(s.stats().writeCalls).toBe(before + 2);
      expect((await store().loadMany('cur', [1])).get(1)?.pending?.published).toBe(1);
    });

    it('reads a head whose pending change is malformed as unreadable, not as committed', async () => {
      const base = snapshot('badp', 1, [1, 2, 3], 1);
      await store().save(base, { version: undefined });
      await store().save(pendingOf(base, 'change-1'), { version: 1 });
      await dynamo.client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'badp#1' }, sk: { S: 'head' } },
          UpdateExpression: 'SET pendingPublished = :n',
          ExpressionAttributeValues: { ':n': { N: '7' } },
        }),
      );

      const load = store().loadMany('badp', [1]);

      await expect(load).rejects.toBeInstanceOf(SnapshotUnreadableError);
    });
  });

  it('round-trips a snapshot; chats never saved are absent', async () => {
    const s = store();
    const saved = snapshot('rt', 1, [3, 7, 42, 2 ** 40], 1, {
      accessLostAt: '2026-11-21T09:00:00.000Z',
    });
    await s.save(saved, { version: undefined });

    const loaded = await store().loadMany('rt', [1, 2]);

    expect([...loaded.keys()]).toEqual([1]);
    expect(loaded.get(1)).toEqual(saved);
  });

  it('rejects a duplicate first save and a save on a stale version', async () => {
    await store().save(snapshot('cf', 1, [1, 2], 1), { version: undefined });
    await expect(
      store().save(snapshot('cf', 1, [1, 2, 3], 1), { version: undefined }),
    ).rejects.toBeInstanceOf(SnapshotConflictError);

    const a = store();
    const b = store();
    await a.loadMany('cf', [1]);
    await b.loadMany('cf', [1]);
    await a.save(snapshot('cf', 1, [1, 2, 4], 2), { version: 1 });
    const stale = b.save(snapshot('cf', 1, [1, 2, 5], 2), { version: 1 });

    await expect(stale).rejects.toBeInstanceOf(SnapshotConflictError);
    await expect(stale).rejects.toMatchObject({ portalId: 'cf', chatId: 1, expectedVersion: 1 });
    expect(b.stats().conflicts).toBe(1);
    expect((await store().loadMany('cf', [1])).get(1)?.members).toEqual([1, 2, 4]);
  });

  it('writes nothing when members, held change and accessLostAt are unchanged', async () => {
    await store().save(snapshot('nc', 1, [10, 20, 30], 1), { version: undefined });
    const s = store();
    await s.loadMany('nc', [1]);
    const before = s.stats();

    await s.save(snapshot('nc', 1, [10, 20, 30], 2, { observedAt: '2026-11-22T00:00:00.000Z' }), {
      version: 1,
    });

    expect(s.stats().writeCalls).toBe(before.writeCalls);
    expect(s.stats().readCalls).toBe(before.readCalls);
    expect(s.stats().skippedSaves).toBe(1);
    expect((await store().loadMany('nc', [1])).get(1)?.version).toBe(1);

    await s.save(snapshot('nc', 1, [10, 20, 30], 2, { accessLostAt: '2026-11-22T00:00:00.000Z' }), {
      version: 1,
    });
    expect(s.stats().writeCalls).toBe(before.writeCalls + 1);
    // The store remembers what it saved: saving the same state again is also free.
    await s.save(snapshot('nc', 1, [10, 20, 30], 3, { accessLostAt: '2026-11-22T00:00:00.000Z' }), {
      version: 2,
    });
    expect(s.stats().writeCalls).toBe(before.writeCalls + 1);
  });

  it('round-trips a held change (joined/left come back sorted)', async () => {
    const held: HeldChange = {
      baseVersion: 1,
      detectedAt: '2026-11-21T10:05:00.000Z',
      joined: [99],
      left: range(1, 40),
      observedCount: 11,
      released: false,
    };
    await store().save(snapshot('held', 1, range(1, 50), 1), { version: undefined });
    const s = store();
    await s.loadMany('held', [1]);
    await s.save(snapshot('held', 1, range(1, 50), 2, { held }), { version: 1 });

    expect((await store().loadMany('held', [1])).get(1)?.held).toEqual(held);

    // Releasing it is a change, so it is written.
    const writes = s.stats().writeCalls;
    await s.save(snapshot('held', 1, range(1, 50), 3, { held: { ...held, released: true } }), {
      version: 2,
    });
    expect(s.stats().writeCalls).toBe(writes + 1);
    expect((await store().loadMany('held', [1])).get(1)?.held?.released).toBe(true);
  });

  it('keeps a 200,000-member chat (sparse IDs up to 10 million) inline within 400 KB', async () => {
    const members = sparseIds(200_000, 10_000_000);
    const s = store();
    const t0 = performance.now();
    await s.save(snapshot('big', 1, members, 1), { version: undefined });
    const saveMs = performance.now() - t0;

    const t1 = performance.now();
    const loaded = await store().loadMany('big', [1]);
    const loadMs = performance.now() - t1;

    expect(loaded.get(1)?.members).toEqual(members);
    expect(s.stats()).toMatchObject({ shardsWritten: 0, headsWritten: 1, writeCalls: 1 });
    const raw = await dynamo.client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'big#1' }, sk: { S: 'head' } } }),
    );
    const bodyBytes = raw.Item?.body?.B?.length ?? 0;
    expect(bodyBytes).toBeGreaterThan(0);
    expect(bodyBytes).toBeLessThan(350_000);
    console.info(
      `200,000 sparse members: body ${bodyBytes} bytes (${raw.Item?.bodyEncoding?.S}), save ${saveMs.toFixed(0)} ms (${s.stats().writeCapacityUnits} WCU), load ${loadMs.toFixed(0)} ms`,
    );
  });

  it('round-trips a 200,000-member chat holding a 120,000-member mass leave', async () => {
    const members = sparseIds(200_000, 10_000_000);
    const left = members.filter((_, i) => i % 5 !== 0).slice(0, 120_000);
    const held: HeldChange = {
      baseVersion: 1,
      detectedAt: '2026-11-21T10:05:00.000Z',
      joined: [],
      left,
      observedCount: members.length - left.length,
      released: false,
    };
    await store().save(snapshot('bigheld', 1, members, 1, { held }), { version: undefined });

    const loaded = (await store().loadMany('bigheld', [1])).get(1);

    expect(loaded?.members).toEqual(members);
    expect(loaded?.held).toEqual(held);
  });

  it('shards a body over the inline budget, reuses and retires shards', async () => {
    const now = new Date('2026-11-21T12:00:00.000Z');
    const small = {
      inlineBodyBytes: 1_000,
      shardBytes: 4_000,
      compression: 'none' as const,
      now: () => now,
    };
    const first = sparseIds(20_000, 2_000_000);
    await store(small).save(snapshot('sh', 1, first, 1), { version: undefined });
    const heads = await partition('sh#1');
    const shardSks = heads.map((i) => i.sk?.S ?? '').filter((sk) => sk.startsWith('shard#'));
    expect(shardSks.length).toBeGreaterThan(4);

    const s = store(small);
    expect((await s.loadMany('sh', [1])).get(1)?.members).toEqual(first);
    expect(s.stats().shardsRead).toBe(shardSks.length);

    // accessLostAt only: the body is unchanged, so the head points at the same shards.
    await s.save(snapshot('sh', 1, first, 2, { accessLostAt: now.toISOString() }), { version: 1 });
    expect(s.stats().shardsWritten).toBe(0);

    const second = sparseIds(20_000, 2_000_000);
    await s.save(snapshot('sh', 1, second, 3), { version: 2 });
    expect(s.stats().shardsWritten).toBeGreaterThan(4);
    expect((await store(small).loadMany('sh', [1])).get(1)).toEqual(snapshot('sh', 1, second, 3));

    const items = await partition('sh#1');
    const retired = items.filter((i) => i.expiresAt !== undefined);
    expect(retired.map((i) => i.sk?.S).sort()).toEqual([...shardSks].sort());
    expect(retired.every((i) => i.expiresAt?.N === String(now.getTime() / 1000 + 86_400))).toBe(
      true,
    );
  });

  it('names the chat whose shard is missing and still reads the others', async () => {
    const small = { inlineBodyBytes: 1_000, shardBytes: 4_000, compression: 'none' as const };
    await store(small).save(snapshot('gone', 1, sparseIds(5_000, 1_000_000), 1), {
      version: undefined,
    });
    const shard = (await partition('gone#1')).find((i) => i.sk?.S?.startsWith('shard#'));
    await dynamo.client.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: { pk: { S: shard?.pk?.S ?? '' }, sk: { S: shard?.sk?.S ?? '' } },
      }),
    );

    await store().save(snapshot('gone', 2, [5, 6], 1), { version: undefined });

    const load = store(small).loadMany('gone', [1, 2, 3]);

    await expect(load).rejects.toBeInstanceOf(SnapshotUnreadableError);
    const error = (await load.catch((e: unknown) => e)) as SnapshotUnreadableError;
    expect([...error.unreadable.keys()]).toEqual([1]);
    expect(error.unreadable.get(1)).toMatch(/^gone#1: shard \d+ is missing$/);
    expect([...error.readable.keys()]).toEqual([2]);
    expect(error.readable.get(2)?.members).toEqual([5, 6]);
  });

  it('names a head without a usable version or sequence as unreadable instead of diffing it', async () => {
    await store().save(snapshot('nv', 1, [1, 2], 1), { version: undefined });
    await store().save(snapshot('nv', 2, [1, 2], 1), { version: undefined });
    await store().save(snapshot('nv', 3, [1, 2], 1), { version: undefined });
    const remove = (pk: string, attribute: string) =>
      dynamo.client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: pk }, sk: { S: 'head' } },
          UpdateExpression: 'REMOVE #a',
          ExpressionAttributeNames: { '#a': attribute },
        }),
      );
    await remove('nv#1', 'version');
    await remove('nv#2', 'sequence');

    const error = (await store()
      .loadMany('nv', [1, 2, 3])
      .catch((e: unknown) => e)) as SnapshotUnreadableError;

    expect(error).toBeInstanceOf(SnapshotUnreadableError);
    expect([...error.unreadable.keys()].sort()).toEqual([1, 2]);
    expect([...error.readable.keys()]).toEqual([3]);
  });

  it('syncs the other chats of a work item when one stored snapshot is corrupt', async () => {
    const small = { inlineBodyBytes: 1_000, shardBytes: 4_000, compression: 'none' as const };
    const big = sparseIds(5_000, 1_000_000);
    await store(small).save(snapshot('bad', 1, big, 1), { version: undefined });
    await store(small).save(snapshot('bad', 2, [1, 2, 3], 1), { version: undefined });
    const shard = (await partition('bad#1')).find((i) => i.sk?.S?.startsWith('shard#'));
    await dynamo.client.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: { pk: { S: shard?.pk?.S ?? '' }, sk: { S: shard?.sk?.S ?? '' } },
      }),
    );
    const reader = new FakeMemberReader().members(1, big.slice(1)).members(2, [1, 2]);
    const publisher = new RecordingPublisher();

    const report = await syncWorkItem(
      {
        reader,
        store: store(small),
        publisher,
        clock: new FixedClock('2026-11-22T10:00:00.000Z'),
        portal: {
          portalId: 'bad',
          source: 'https://example.bitrix24.com',
        },
        breaker: DEFAULT_BREAKER,
      },
      { portalId: 'bad', chatIds: [1, 2], scheduledAt: '2026-01-05T10:00:00.000Z' },
    );

    expect(report.chats.map((c) => [c.chatId, c.outcome, c.error?.code])).toEqual([
      [1, 'failed', 'snapshot_unreadable'],
      [2, 'changed', undefined],
    ]);
    expect(report.chats[0]?.error?.retryable).toBe(false);
    expect(publisher.published.map((e) => e.event.subject)).toEqual(['chat/2/user/3']);
    expect((await store().loadMany('bad', [2])).get(2)?.members).toEqual([1, 2]);
  });

  it('leaves the old head valid when a save crashes between shard writes and head update', async () => {
    const small = { inlineBodyBytes: 1_000, shardBytes: 4_000, compression: 'none' as const };
    const first = sparseIds(10_000, 1_000_000);
    await store(small).save(snapshot('crash', 1, first, 1), { version: undefined });
    const before = await partition('crash#1');

    // A client that dies on the head PutItem, after the shard PutItems went through.
    const crashingConnection = connectDynamo(dynamo.endpoint);
    const crashing = DynamoDBDocumentClient.from(crashingConnection.client);
    crashing.middlewareStack.add(
      (next, context) => async (args) => {
        const item = (args.input as { Item?: { sk?: unknown } }).Item;
        if (/^Put(Item)?Command$/.test(context.commandName ?? '') && item?.sk === 'head')
          throw new Error('simulated crash');
        return next(args);
      },
      { step: 'initialize', name: 'crashOnHeadPut' },
    );
    const doomed = createDynamoDbSnapshotStore({ client: crashing, tableName, ...small });
    await doomed.loadMany('crash', [1]);
    await expect(
      doomed.save(snapshot('crash', 1, sparseIds(10_000, 1_000_000), 2), { version: 1 }),
    ).rejects.toThrow('simulated crash');
    expect(doomed.stats().shardsWritten).toBeGreaterThan(0);
    await crashingConnection.stop();

    const after = await partition('crash#1');
    expect(after.length).toBeGreaterThan(before.length); // orphan shards, harmless
    const s = store(small);
    expect((await s.loadMany('crash', [1])).get(1)).toEqual(snapshot('crash', 1, first, 1));
    const next = sparseIds(10_000, 1_000_000);
    await s.save(snapshot('crash', 1, next, 2), { version: 1 });
    expect((await store(small).loadMany('crash', [1])).get(1)?.members).toEqual(next);
  });

  it('reports success, not a conflict, when its own head write is retried after a lost response', async () => {
    const small = { inlineBodyBytes: 1_000, shardBytes: 4_000, compression: 'none' as const };
    const first = sparseIds(5_000, 1_000_000);
    await store(small).save(snapshot('lost', 1, first, 1), { version: undefined });
    // The head PutItem reaches DynamoDB, its answer is lost, the SDK sends it again.
    const connection = connectDynamo(dynamo.endpoint);
    const retrying = DynamoDBDocumentClient.from(connection.client);
    retrying.middlewareStack.add(
      (next, context) => async (args) => {
        if (!/^Put(Item)?Command$/.test(context.commandName ?? '')) return next(args);
        await next(args);
        return next(args);
      },
      { step: 'initialize', name: 'lostResponseRetry' },
    );
    const s = createDynamoDbSnapshotStore({ client: retrying, tableName, ...small });
    await s.loadMany('lost', [1]);
    const second = sparseIds(5_000, 1_000_000);

    const held: HeldChange = {
      baseVersion: 1,
      detectedAt: '2026-11-21T10:05:00.000Z',
      joined: [7],
      left: first.slice(0, 100),
      observedCount: 4_901,
      released: true,
    };
    const saved = snapshot('lost', 1, second, 2, { held, accessLostAt: '2026-11-21T10:06:00Z' });

    await s.save(saved, { version: 1 });
    await connection.stop();

    expect(s.stats().conflicts).toBe(0);
    expect((await store(small).loadMany('lost', [1])).get(1)).toEqual(saved);
    const retired = (await partition('lost#1')).filter((i) => i.expiresAt !== undefined);
    expect(retired.length).toBeGreaterThan(0);
  });

  it('still reports a conflict when another writer saved the same version', async () => {
    await store().save(snapshot('race', 1, [1, 2], 1), { version: undefined });
    const a = store();
    const b = store();
    await a.loadMany('race', [1]);
    await b.loadMany('race', [1]);
    await a.save(snapshot('race', 1, [1, 2, 3], 2), { version: 1 });

    await expect(b.save(snapshot('race', 1, [1, 2, 4], 2), { version: 1 })).rejects.toBeInstanceOf(
      SnapshotConflictError,
    );
    await expect(
      b.save(snapshot('race', 1, [1, 2, 3], 2, { observedAt: 'other' }), { version: 1 }),
    ).rejects.toBeInstanceOf(SnapshotConflictError);
  });

  it('loads 120 chats with two BatchGetItem calls', async () => {
    const writer = store();
    for (let chatId = 1; chatId <= 120; chatId++) {
      await writer.save(snapshot('many', chatId, [chatId, chatId + 1000], 1), {
        version: undefined,
      });
    }
    const s = store();

    const loaded = await s.loadMany('many', [...range(1, 120), 500, 501]);

    expect(loaded.size).toBe(120);
    expect(loaded.get(77)?.members).toEqual([77, 1077]);
    expect(s.stats()).toMatchObject({ readCalls: 2, headsRead: 120, writeCalls: 0 });
  });

  it('lists every snapshot of one portal, in chat order, sharded ones included', async () => {
    const small = { inlineBodyBytes: 1_000, shardBytes: 4_000, compression: 'none' as const };
    const big = sparseIds(5_000, 1_000_000);
    await store(small).save(snapshot('ls', 30, big, 1), { version: undefined });
    for (const chatId of [20, 10])
      await store().save(snapshot('ls', chatId, [chatId], 1), { version: undefined });
    await store().save(snapshot('ls-other', 15, [1], 1), { version: undefined });
    await store().save(snapshot('l', 5, [1], 1), { version: undefined });

    const listed: Snapshot[] = [];
    for await (const s of store().list('ls')) listed.push(s);

    expect(listed.map((s) => s.chatId)).toEqual([10, 20, 30]);
    expect(listed[2]?.members).toEqual(big);
  });
});

describe('DynamoDbSnapshotStore BatchGetItem retries', () => {
  it('retries UnprocessedKeys until every head is read', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    const head = (chatId: number) => ({
      pk: `p#${chatId}`,
      sk: 'head',
      portalId: 'p',
      chatId,
      version: 1,
      contentHash: 'h',
      observedAt: 't',
      sequence: 1,
      memberCount: 0,
      bodyEncoding: 'none',
      body: new Uint8Array([1, 3, 0, 0, 0]),
      bodyHash: createHash('sha256')
        .update(new Uint8Array([1, 3, 0, 0, 0]))
        .digest('hex'),
    });
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { t: [head(1)] },
        UnprocessedKeys: { t: { Keys: [{ pk: 'p#2', sk: 'head' }] } },
      })
      .resolvesOnce({ Responses: { t: [head(2)] } });
    const s = createDynamoDbSnapshotStore({
      client: DynamoDBDocumentClient.from(connectDynamo('http://127.0.0.1:9').client),
      tableName: 't',
      retry: { baseDelayMs: 1 },
    });

    const loaded = await s.loadMany('p', [1, 2]);

    expect([...loaded.keys()].sort()).toEqual([1, 2]);
    expect(s.stats().readCalls).toBe(2);
    ddb.restore();
  });
});
