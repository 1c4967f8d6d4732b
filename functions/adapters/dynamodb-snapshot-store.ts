import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SnapshotConflictError, SnapshotUnreadableError } from '../core/errors.js';
import type { ChatId, Snapshot } from '../core/model.js';
import type { SnapshotStore, StoredState } from '../core/ports.js';
import { fullJitter } from '../timing/backoff.js';
import { sleep } from '../timing/sleep.js';
import { isConditionalCheckFailed } from './conditional-check.js';
import type { Compression } from './id-list-codec.js';
import { createHeadCache } from './snapshot-head-cache.js';
import {
  decodeSnapshot,
  encodeBody,
  encodeHead,
  encodeShards,
  HEAD_SK,
  type Item,
  type Key,
  partitionKey,
  type ShardRef,
  SnapshotCorruptError,
  sameHead,
  shardKeys,
  shardRef,
  stateKey,
} from './snapshot-item-codec.js';
import { snapshotTableDefinition } from './snapshot-table.js';

/**
 * SnapshotStore on DynamoDB (key schema: `snapshot-table.ts`; a snapshot as items:
 * `snapshot-item-codec.ts`).
 *
 * A body up to `inlineBodyBytes` lives in the head item (DynamoDB items are capped at 400 KB
 * including attribute names; the default 350,000 bytes leaves room for the other attributes). A
 * larger body is cut into immutable shard items that are written FIRST; then the head is written
 * conditionally on the version that was read. A crash in between leaves the old head and its
 * shards intact; the new shards are unreferenced orphans. No TransactWriteItems: dynalite (the
 * local emulator) lacks it, and the order above makes it unnecessary.
 *
 * Shard keys include the head version they were written for and the body hash, so two writers
 * racing for the same version never overwrite each other's shards, and a shard key is never
 * reused after its head moved on. That makes retiring replaced shards safe: after a successful
 * head update, the shards of the replaced head get `expiresAt = now + retiredShardTtlSeconds`
 * (readers that loaded the old head may still fetch them meanwhile) and DynamoDB TTL deletes them.
 * Orphans of a crashed save are not retired; a sweeper could Query a chat's shard partition for
 * shards its head does not reference. Shards live in a partition of their own
 * (`<pk>#shards`, `snapshot-table.ts`) so that IAM can allow the TTL mark there and nowhere else;
 * the deployed worker cannot mark shards of the older layout (in the head's partition): they
 * stay, counted as `retireFailures`.
 * Shards are written with conditional PutItem calls, never BatchWriteItem (whose grant would also
 * allow deleting any item).
 *
 * The outbox: a snapshot's pending change lives on its head; writes are conditional on its ID
 * (`pendingId`), and `recordPublished` advances its publish cursor (`pendingPublished`) with one
 * small UpdateItem.
 *
 * Unchanged saves: the store keeps a bounded cache of the heads it loaded or saved
 * (`snapshot-head-cache.ts`; per instance, per chat). A save whose expected state is the cached
 * one and whose content hash, method, held change, access flag and pending change equal the
 * cached ones returns without any DynamoDB call. A save of a chat this instance never loaded
 * always writes (conditionally). A skipped save cannot detect that another process wrote in
 * between; that is harmless because the skipped write had nothing to add.
 */
export interface DynamoDbSnapshotStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Largest stored body kept inline in the head item. @default 350_000 */
  readonly inlineBodyBytes?: number | undefined;
  /** Body bytes per shard item (must stay below 400 KB). @default 350_000 */
  readonly shardBytes?: number | undefined;
  /** @default 'brotli' (kept only when smaller than the raw varints) */
  readonly compression?: Compression | undefined;
  /** @default 5 */
  readonly brotliQuality?: number | undefined;
  /**
   * Strongly consistent reads (2× the read cost). An eventually consistent head read can only
   * cause a version conflict on save, never a wrong diff being saved. @default true
   */
  readonly consistentRead?: boolean | undefined;
  /** Grace period before TTL may delete replaced shards; 0 disables retiring. @default 86_400 */
  readonly retiredShardTtlSeconds?: number | undefined;
  /** Retries of UnprocessedKeys with full-jitter exponential backoff. */
  readonly retry?: {
    readonly maxAttempts?: number;
    readonly baseDelayMs?: number;
    readonly maxDelayMs?: number;
  };
  readonly now?: (() => Date) | undefined;
  /** Heads remembered for the unchanged-save check (least recently used dropped). @default 10_000 */
  readonly headCacheSize?: number | undefined;
}

/** DynamoDB calls made by one store instance, for the benchmark and metrics. */
export interface SnapshotStoreStats {
  /** BatchGetItem and Query calls, retries included. */
  readonly readCalls: number;
  /** PutItem and UpdateItem calls, retries included. */
  readonly writeCalls: number;
  /** Sum of ConsumedCapacity.CapacityUnits of read calls (0 where the endpoint returns none). */
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
  readonly headsRead: number;
  readonly shardsRead: number;
  readonly headsWritten: number;
  readonly shardsWritten: number;
  readonly skippedSaves: number;
  readonly conflicts: number;
  /** Failed best-effort TTL marks on replaced shards (they stay as orphans). */
  readonly retireFailures: number;
}

export interface DynamoDbSnapshotStore extends SnapshotStore {
  stats(): SnapshotStoreStats;
}

/** DynamoDB limit: BatchGetItem 100 keys. */
const BATCH_GET_MAX = 100;
/** Shard PutItem calls in flight per save. */
const SHARD_PUT_CONCURRENCY = 10;

export function createDynamoDbSnapshotStore(
  options: DynamoDbSnapshotStoreOptions,
): DynamoDbSnapshotStore {
  const { client, tableName } = options;
  const inlineBodyBytes = options.inlineBodyBytes ?? 350_000;
  const shardBytes = options.shardBytes ?? 350_000;
  const compression = options.compression ?? 'brotli';
  const consistentRead = options.consistentRead ?? true;
  const retiredShardTtlSeconds = options.retiredShardTtlSeconds ?? 86_400;
  const maxAttempts = options.retry?.maxAttempts ?? 8;
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;
  const maxDelayMs = options.retry?.maxDelayMs ?? 2_000;
  const now = options.now ?? (() => new Date());
  if (shardBytes <= 0 || shardBytes > 390_000) throw new RangeError('shardBytes must be 1..390000');

  const cache = createHeadCache(Math.max(1, options.headCacheSize ?? 10_000));
  const counters = {
    readCalls: 0,
    writeCalls: 0,
    readCapacityUnits: 0,
    writeCapacityUnits: 0,
    headsRead: 0,
    shardsRead: 0,
    headsWritten: 0,
    shardsWritten: 0,
    skippedSaves: 0,
    conflicts: 0,
    retireFailures: 0,
  };

  const capacity = (c: ConsumedCapacity | ConsumedCapacity[] | undefined): number =>
    (Array.isArray(c) ? c : c ? [c] : []).reduce((sum, x) => sum + (x.CapacityUnits ?? 0), 0);

  const backoff = (retry: number): Promise<void> =>
    sleep(fullJitter(retry, { base: baseDelayMs, max: maxDelayMs }));

  async function batchGet(keys: readonly Key[]): Promise<Item[]> {
    const chunks: Key[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX)
      chunks.push(keys.slice(i, i + BATCH_GET_MAX));
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const found: Item[] = [];
        let pending: Record<string, unknown>[] = chunk;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 0) {
            if (attempt >= maxAttempts) {
              throw new Error(
                `BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`,
              );
            }
            await backoff(attempt);
          }
          counters.readCalls++;
          const out = await client.send(
            new BatchGetCommand({
              RequestItems: { [tableName]: { Keys: pending, ConsistentRead: consistentRead } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          counters.readCapacityUnits += capacity(out.ConsumedCapacity);
          found.push(...(out.Responses?.[tableName] ?? []));
          pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
        }
        return found;
      }),
    );
    return pages.flat();
  }

  /**
   * Writes shard items one conditional PutItem each (never BatchWriteItem, whose grant could
   * delete any item): a shard key is never reused, so one already there is this very shard,
   * written by a retry whose first answer was lost.
   */
  async function putShards(items: readonly Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += SHARD_PUT_CONCURRENCY) {
      await Promise.all(
        items.slice(i, i + SHARD_PUT_CONCURRENCY).map(async (Item) => {
          counters.writeCalls++;
          try {
            const out = await client.send(
              new PutCommand({
                TableName: tableName,
                Item,
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnConsumedCapacity: 'TOTAL',
              }),
            );
            counters.writeCapacityUnits += capacity(out.ConsumedCapacity);
          } catch (error) {
            if (!isConditionalCheckFailed(error)) throw error;
          }
        }),
      );
    }
  }

  async function loadMany(
    portalId: string,
    chatIds: readonly ChatId[],
  ): Promise<Map<ChatId, Snapshot>> {
    const unique = [...new Set(chatIds)];
    const chatOf = new Map(unique.map((chatId) => [partitionKey(portalId, chatId), chatId]));
    const heads = await batchGet(
      unique.map((chatId) => ({ pk: partitionKey(portalId, chatId), sk: HEAD_SK })),
    );
    counters.headsRead += heads.length;
    const shardKeysToRead: Key[] = [];
    for (const head of heads) {
      const shards = shardRef(head);
      if (shards) shardKeysToRead.push(...shardKeys(String(head.pk), shards));
    }
    const shardItems = shardKeysToRead.length > 0 ? await batchGet(shardKeysToRead) : [];
    counters.shardsRead += shardItems.length;
    const shardData = new Map(shardItems.map((s) => [`${s.pk}|${s.sk}`, s.data]));

    const result = new Map<ChatId, Snapshot>();
    const unreadable = new Map<ChatId, string>();
    for (const head of heads) {
      const pk = String(head.pk);
      let snapshot: Snapshot;
      try {
        snapshot = decodeSnapshot(head, (key) => shardData.get(`${key.pk}|${key.sk}`));
      } catch (error) {
        if (!(error instanceof SnapshotCorruptError)) throw error;
        // One corrupt chat must not hide the others (SnapshotStore.loadMany).
        cache.delete(pk);
        unreadable.set(chatOf.get(pk) ?? Number(head.chatId), error.message);
        continue;
      }
      result.set(snapshot.chatId, snapshot);
      cache.set(pk, {
        version: snapshot.version,
        pendingId: snapshot.pending?.id,
        state: stateKey(snapshot),
        bodyHash: String(head.bodyHash),
        shards: shardRef(head),
      });
    }
    if (unreadable.size > 0) throw new SnapshotUnreadableError(result, unreadable);
    return result;
  }

  async function save(snapshot: Snapshot, expected: StoredState): Promise<void> {
    const pk = partitionKey(snapshot.portalId, snapshot.chatId);
    const expectedVersion = expected.version;
    // Recording a change or a read's progress keeps the version; committing (or any other save)
    // moves it on by one.
    const version = (expectedVersion ?? 0) + (snapshot.pending || snapshot.readProgress ? 0 : 1);
    if (snapshot.version !== version) {
      throw new RangeError(
        `snapshot version ${snapshot.version} after ${expectedVersion ?? 'none'} must be ${version}`,
      );
    }
    const state = stateKey(snapshot);
    const loaded = cache.get(pk);
    const replaced =
      loaded !== undefined &&
      loaded.version === expectedVersion &&
      loaded.pendingId === expected.pendingId
        ? loaded
        : undefined;
    if (replaced && replaced.state === state) {
      counters.skippedSaves++;
      return;
    }

    const body = encodeBody(snapshot, { compression, brotliQuality: options.brotliQuality ?? 5 });
    let shards: ShardRef | undefined;
    if (body.bytes.length <= inlineBodyBytes) {
      shards = undefined;
    } else if (replaced?.shards && replaced.bodyHash === body.hash) {
      // Same body as the head being replaced (e.g. only accessLostAt changed): reuse its shards.
      shards = replaced.shards;
    } else {
      const cut = encodeShards(snapshot, body, shardBytes);
      await putShards(cut.items);
      counters.shardsWritten += cut.items.length;
      shards = cut.shards;
    }
    const head = encodeHead(snapshot, body, shards);

    counters.writeCalls++;
    try {
      const out = await client.send(
        new PutCommand({
          TableName: tableName,
          Item: head,
          ...condition(expected),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counters.writeCapacityUnits += capacity(out.ConsumedCapacity);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // The SDK retries a PutItem whose answer was lost; the retry then fails our own condition.
      // Only a head that differs from ours means another writer won.
      if (!(await storedHeadIs(head))) {
        counters.conflicts++;
        cache.delete(pk);
        throw new SnapshotConflictError(snapshot.portalId, snapshot.chatId, expectedVersion, {
          cause: error,
        });
      }
    }
    counters.headsWritten++;
    cache.set(pk, {
      version: snapshot.version,
      pendingId: snapshot.pending?.id,
      state,
      bodyHash: body.hash,
      shards,
    });
    if (replaced?.shards && replaced.shards.prefix !== shards?.prefix) {
      await retire(pk, replaced.shards);
    }
  }

  /** Whether the stored head is exactly `head` (body compared by its hash). False if unsure. */
  async function storedHeadIs(head: Item): Promise<boolean> {
    try {
      counters.readCalls++;
      const out = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: head.pk, sk: head.sk },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counters.readCapacityUnits += capacity(out.ConsumedCapacity);
      return out.Item !== undefined && sameHead(out.Item, head);
    } catch {
      return false;
    }
  }

  async function recordPublished(
    portalId: string,
    chatId: ChatId,
    pendingId: string,
    published: number,
  ): Promise<void> {
    const pk = partitionKey(portalId, chatId);
    counters.writeCalls++;
    try {
      const out = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk, sk: HEAD_SK },
          UpdateExpression: 'SET pendingPublished = :n',
          // A cursor may only move within the change it counts. Two runs finishing the same
          // change may race it backwards: harmless, the next attempt re-publishes the same IDs.
          ConditionExpression: 'pendingId = :p',
          ExpressionAttributeValues: { ':p': pendingId, ':n': published },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counters.writeCapacityUnits += capacity(out.ConsumedCapacity);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      cache.delete(pk);
      throw new SnapshotConflictError(portalId, chatId, undefined, { cause: error });
    }
    // The cached state does not include the cursor: nothing to update.
  }

  async function retire(pk: string, shards: ShardRef): Promise<void> {
    if (retiredShardTtlSeconds <= 0) return;
    const expiresAt = Math.floor(now().getTime() / 1000) + retiredShardTtlSeconds;
    await Promise.all(
      shardKeys(pk, shards).map(async (key) => {
        counters.writeCalls++;
        try {
          const out = await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET #ttl = :t',
              // Never create a stub item for a shard that is already gone.
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#ttl': snapshotTableDefinition.timeToLiveAttribute },
              ExpressionAttributeValues: { ':t': expiresAt },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          counters.writeCapacityUnits += capacity(out.ConsumedCapacity);
        } catch {
          counters.retireFailures++;
        }
      }),
    );
  }

  /** Pages of the portal's chat IDs from the keys-only `byPortal` index, `limit` per page. */
  async function* chatIdPages(portalId: string, limit?: number): AsyncIterable<ChatId[]> {
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      counters.readCalls++;
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: snapshotTableDefinition.portalIndex.indexName,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': snapshotTableDefinition.portalIndex.partitionKey.name },
          ExpressionAttributeValues: { ':p': portalId },
          ExclusiveStartKey: exclusiveStartKey,
          ...(limit === undefined ? {} : { Limit: limit }),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counters.readCapacityUnits += capacity(page.ConsumedCapacity);
      yield (page.Items ?? []).map((i) => Number(i.chatId));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  async function* list(portalId: string): AsyncIterable<Snapshot> {
    for await (const chatIds of chatIdPages(portalId, BATCH_GET_MAX)) {
      const loaded = await loadMany(portalId, chatIds);
      for (const chatId of chatIds) {
        const snapshot = loaded.get(chatId);
        if (snapshot) yield snapshot;
      }
    }
  }

  async function listChatIds(portalId: string): Promise<ChatId[]> {
    const all: ChatId[] = [];
    // Keys only, up to 1 MB a page: about 20 bytes a chat, so ~50,000 chats per call.
    for await (const chatIds of chatIdPages(portalId)) all.push(...chatIds);
    return all;
  }

  return {
    loadMany,
    save,
    recordPublished,
    list,
    listChatIds,
    stats: () => ({ ...counters }),
  };
}

/** The write condition for a head expected in state `expected`. */
function condition(expected: StoredState): {
  ConditionExpression: string;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  // Version 0 (or undefined): nothing committed yet. The head may be absent, or hold only the
  // first change in flight or the first read's progress.
  const values: Record<string, unknown> = { ':version': expected.version ?? 0 };
  let pending = 'attribute_not_exists(pendingId)';
  if (expected.pendingId !== undefined) {
    pending = 'pendingId = :pending';
    values[':pending'] = expected.pendingId;
  }
  const stored = `version = :version AND ${pending}`;
  return {
    ConditionExpression:
      (expected.version ?? 0) === 0 && expected.pendingId === undefined
        ? `attribute_not_exists(pk) OR (${stored})`
        : stored,
    ExpressionAttributeValues: values,
  };
}
