import { createHash } from 'node:crypto';
import { brotliCompressSync } from 'node:zlib';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoDbBucketStore } from '../../functions/adapters/dynamodb-bucket-store.js';
import { createDynamoDbHintStore } from '../../functions/adapters/dynamodb-hint-store.js';
import { portalStatePartitionKey } from '../../functions/adapters/snapshot-table.js';
import { HintStateConflictError } from '../../functions/core/errors.js';
import type { HintState } from '../../functions/core/select-reads.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { connectDynamo, type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';

const WATERMARK = Date.UTC(2026, 5, 1, 12, 0, 0);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A state of `chats` chats with scattered IDs, read times and counts (so it compresses badly). */
function stateOf(chats: number, extra: Partial<HintState> = {}): HintState {
  const random = createRandom(chats);
  let id = 1;
  return {
    watermark: WATERMARK,
    settingsKey: 'key-1',
    chats: new Map(
      Array.from({ length: chats }, (_, i) => {
        id += 1 + Math.floor(random() * 5_000);
        const lastFullReadAt = WATERMARK - Math.floor(random() * 3_600_000);
        return [
          id,
          i % 3 === 0
            ? { lastFullReadAt }
            : { lastFullReadAt, activeCount: Math.floor(random() * 500) },
        ];
      }),
    ),
    recentRows: new Map([[7, WATERMARK - 12_000]]),
    ...extra,
  };
}

const backends: [string, () => Promise<DynamoEndpoint>][] = [
  ['dynalite', () => startDynalite()],
  ['DynamoDB Local', async () => connectDynamo(inject('dynamoDbLocalEndpoint'))],
];

describe.each(backends)('DynamoDbHintStore on %s', (_name, start) => {
  let dynamo: DynamoEndpoint;
  let tableName: string;
  const store = (partBytes?: number) =>
    createDynamoDbHintStore({
      client: dynamo.documentClient,
      tableName,
      ...(partBytes ? { partBytes } : {}),
    });

  beforeAll(async () => {
    dynamo = await start();
    tableName = await dynamo.createSnapshotTable();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  it('loads nothing for a portal never planned, in one read', async () => {
    const hints = store();
    const loaded = await hints.load('fresh');
    expect(loaded).toEqual({
      state: undefined,
      version: undefined,
      unfinished: new Map(),
      recall: { byHint: 0, byReconcile: 0 },
      misses: new Map(),
    });
    expect(hints.stats().readCalls).toBe(1);
  });

  it('stores the state of 10,000 chats and reads it back exactly, versioned', async () => {
    const hints = store();
    const state = stateOf(10_000, { discoveredAt: WATERMARK - 60_000, departed: [3, 99_999_999] });
    await hints.saveState('big', state, undefined);
    const loaded = await hints.load('big');
    expect(loaded.version).toBe(1);
    expect(loaded.state).toEqual(state);
    await hints.saveState('big', { ...state, watermark: WATERMARK + 1 }, 1);
    expect((await hints.load('big')).state?.watermark).toBe(WATERMARK + 1);
  });

  it('returns the rate budget stored beside the state from the same single read', async () => {
    const hints = store();
    const buckets = createDynamoDbBucketStore({ client: dynamo.documentClient, tableName });
    await hints.saveState('budget', stateOf(3), undefined);
    await buckets.handBack('budget', { level: 17, at: WATERMARK }, {});
    const loaded = await hints.load('budget');
    expect(loaded.bucket).toEqual({ level: 17, at: WATERMARK, version: 1 });
    expect(loaded.state).toEqual(stateOf(3));
    expect(hints.stats().readCalls).toBe(1);
  });

  it('splits a body over parts and reads it back', async () => {
    const hints = store(200);
    const state = stateOf(5_000);
    await hints.saveState('parts', state, undefined);
    expect((await hints.load('parts')).state).toEqual(state);
    expect(hints.stats().writeCalls).toBeGreaterThan(3);
  });

  it('writes the chat-ID list only when it changes: a tick that moves read times writes the head alone', async () => {
    const hints = store();
    const state = stateOf(10_000);
    await hints.saveState('ids', state, undefined);
    expect(hints.stats().writeCalls).toBe(2);
    const later = { ...state, watermark: WATERMARK + 60_000 };
    await hints.saveState('ids', later, 1);
    expect(hints.stats().writeCalls).toBe(3);
    // Another process (a new planner) loads first, then saves the same list.
    const fresh = store();
    await fresh.load('ids');
    await fresh.saveState('ids', { ...later, watermark: WATERMARK + 120_000 }, 2);
    expect(fresh.stats().writeCalls).toBe(1);
    const grown = new Map(state.chats).set(99_999_999, { lastFullReadAt: WATERMARK });
    await fresh.saveState('ids', { ...later, chats: grown }, 3);
    expect(fresh.stats().writeCalls).toBe(3);
    expect((await hints.load('ids')).state?.chats).toEqual(grown);
  });

  it('reads a state saved before the IDs moved to their own item (format 2)', async () => {
    const hints = store();
    const body = {
      format: 2,
      watermark: WATERMARK,
      settingsKey: 'key-1',
      ids: [5, 2, 10],
      readTimes: [0, 60_000],
      readAt: [0, 1, 0],
      active: [[7, 12]],
      recent: [[7, -12_000]],
    };
    const packed = brotliCompressSync(Buffer.from(JSON.stringify(body)));
    const bytes = Buffer.concat([Uint8Array.of(1), packed]);
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: portalStatePartitionKey('old'),
          sk: 'hints',
          version: 4,
          bodyHash: createHash('sha256').update(bytes).digest('hex'),
          body: bytes,
        },
      }),
    );
    const loaded = await hints.load('old');
    expect(loaded.version).toBe(4);
    expect(loaded.state).toEqual({
      watermark: WATERMARK,
      settingsKey: 'key-1',
      chats: new Map([
        [5, { lastFullReadAt: WATERMARK }],
        [7, { lastFullReadAt: WATERMARK - 60_000, activeCount: 12 }],
        [17, { lastFullReadAt: WATERMARK }],
      ]),
      recentRows: new Map([[7, WATERMARK - 12_000]]),
    });
  });

  it('loads no state when the ID list is not the one the head names, and the next save writes it again', async () => {
    const hints = store(2_000);
    const state = stateOf(5_000);
    await hints.saveState('swap', state, undefined);
    // A save that lost its race after writing its own list: the head still names the old one.
    await store(2_000)
      .saveState('swap', stateOf(4_000), undefined)
      .catch(() => undefined);
    expect((await hints.load('swap')).state).toBeUndefined();
    await hints.saveState('swap', state, 1);
    expect((await hints.load('swap')).state).toEqual(state);
    // A torn list (a part missing) is not taken for stored either.
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: portalStatePartitionKey('swap'), sk: 'hints#ids#0', body: Uint8Array.of(9) },
      }),
    );
    expect((await hints.load('swap')).state).toBeUndefined();
    await hints.saveState('swap', state, 2);
    expect((await hints.load('swap')).state).toEqual(state);
  });

  it('refuses a save on a stale version and a second first save', async () => {
    const hints = store();
    await hints.saveState('race', stateOf(3), undefined);
    await expect(hints.saveState('race', stateOf(3), undefined)).rejects.toBeInstanceOf(
      HintStateConflictError,
    );
    await hints.saveState('race', stateOf(3), 1);
    await expect(hints.saveState('race', stateOf(3), 1)).rejects.toBeInstanceOf(
      HintStateConflictError,
    );
  });

  it('loads no state (so the tick reads everything) when the body is torn or corrupt', async () => {
    const hints = store(200);
    await hints.saveState('torn', stateOf(5_000), undefined);
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: portalStatePartitionKey('torn'),
          sk: 'hints#1',
          body: new Uint8Array([1, 2, 3]),
        },
      }),
    );
    const loaded = await hints.load('torn');
    expect(loaded.state).toBeUndefined();
    expect(loaded.version).toBe(1);
  });

  it('records unfinished business and recall counts, and clears finished chats', async () => {
    const hints = store();
    await hints.recordOutcomes('work', {
      unfinished: new Map([
        [5, 'held'],
        [9, 'failed'],
      ]),
      finished: [],
      detected: { byHint: 3, byReconcile: 1 },
      missed: [],
    });
    await hints.recordOutcomes('work', {
      unfinished: new Map([[11, 'access_lost']]),
      finished: [9, 404],
      detected: { byHint: 2, byReconcile: 0 },
      missed: [],
    });
    const loaded = await hints.load('work');
    expect(loaded.unfinished).toEqual(
      new Map([
        [5, 'held'],
        [11, 'access_lost'],
      ]),
    );
    expect(loaded.recall).toEqual({ byHint: 5, byReconcile: 1 });
  });

  it('writes nothing when there is nothing to record, and copes with more than 100 chats', async () => {
    const hints = store();
    const before = hints.stats().writeCalls;
    await hints.recordOutcomes('quiet', {
      unfinished: new Map(),
      finished: [],
      detected: { byHint: 0, byReconcile: 0 },
      missed: [],
    });
    expect(hints.stats().writeCalls).toBe(before);
    const many = new Map(Array.from({ length: 250 }, (_, i) => [i + 1, 'failed' as const]));
    await hints.recordOutcomes('quiet', {
      unfinished: many,
      finished: [],
      detected: { byHint: 1, byReconcile: 0 },
      missed: [],
    });
    const loaded = await hints.load('quiet');
    expect(loaded.unfinished.size).toBe(250);
    expect(loaded.recall).toEqual({ byHint: 1, byReconcile: 0 });
  });

  it('remembers misses apart from the unfinished business, and forgets only those unchanged since', async () => {
    const hints = store();
    const many = Array.from({ length: 230 }, (_, i) => i + 1);
    await hints.recordMisses('learn', many, 1_000);
    await hints.recordOutcomes('learn', {
      unfinished: new Map([[5, 'failed']]),
      finished: [],
      detected: { byHint: 0, byReconcile: 1 },
      missed: [5],
    });
    let loaded = await hints.load('learn');
    expect(loaded.misses.size).toBe(230);
    expect(loaded.unfinished).toEqual(new Map([[5, 'failed']]));
    await hints.recordMisses('learn', [3], 2_000);
    // Chat 3 missed again after the planner looked: the 100 entries written with it stay.
    await hints.forgetMisses(
      'learn',
      new Map(many.filter((id) => id <= 150).map((id) => [id, 1_000])),
    );
    loaded = await hints.load('learn');
    expect([...loaded.misses.keys()].sort((a, b) => a - b)).toEqual([
      ...range(1, 100),
      ...range(151, 230),
    ]);
    expect(loaded.misses.get(3)).toBe(2_000);
    expect(loaded.unfinished).toEqual(new Map([[5, 'failed']]));
  });
});
