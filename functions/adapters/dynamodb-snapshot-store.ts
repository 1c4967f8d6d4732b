import { createHash } from 'node:crypto';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SnapshotConflictError, SnapshotUnreadableError } from '../core/errors.js';
import { isSortedUnique } from '../core/member-set.js';
import type {
  ChatId,
  HeldChange,
  KeysetProgress,
  PendingChange,
  Snapshot,
  UserDetails,
} from '../core/model.js';
import type { SnapshotStore, StoredState } from '../core/ports.js';
import {
  type Compression,
  compress,
  decodeIdLists,
  decompress,
  encodeIdLists,
} from './id-list-codec.js';
import { packBody, unpackBody } from './snapshot-body.js';
import { snapshotTableDefinition } from './snapshot-table.js';

/**
 * SnapshotStore on DynamoDB (key schema: `snapshot-table.ts`).
 *
 * Body: the member IDs and a held change's joined/left IDs, encoded by `id-list-codec.ts`
 * (delta varints, then brotli when smaller). A body up to `inlineBodyBytes` lives in the head
 * item (DynamoDB items are capped at 400 KB including attribute names; the default 350,000 bytes
 * leaves room for the other attributes). A larger body is cut into immutable shard items that are
 * written FIRST; then the head is written conditionally on the version that was read. A crash in
 * between leaves the old head and its shards intact; the new shards are unreferenced orphans.
 * No TransactWriteItems: dynalite (the local emulator) lacks it, and the order above makes it
 * unnecessary.
 *
 * Shard keys include the head version they were written for and the body hash, so two writers
 * racing for the same version never overwrite each other's shards, and a shard key is never
 * reused after its head moved on. That makes retiring replaced shards safe: after a successful
 * head update, the shards of the replaced head get `expiresAt = now + retiredShardTtlSeconds`
 * (readers that loaded the old head may still fetch them meanwhile) and DynamoDB TTL deletes them.
 * Orphans of a crashed save are not retired; a sweeper could Query a chat's partition for shards
 * its head does not reference.
 *
 * The outbox: a snapshot's pending change lives on its head. Its ID lists (and the user details
 * of a member change, as JSON) join the body; its other fields are the head's `pending` map, its
 * ID the top-level `pendingId` that writes are conditional on, and its publish cursor the
 * `pendingPublished` number that `recordPublished` advances with one small UpdateItem.
 *
 * Unchanged saves: the store keeps a bounded cache of the heads it loaded or saved (per instance,
 * per chat, ~200 bytes each). A save whose expected state is the cached one and whose content
 * hash, method, held change, access flag and pending change equal the cached ones returns without
 * any DynamoDB call. A save of a chat
 * this instance never loaded always writes (conditionally). A skipped save cannot detect that
 * another process wrote in between; that is harmless because the skipped write had nothing to add.
 */
export interface DynamoDbSnapshotStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Largest stored body kept inline in the head item. @default 350_000 */
  readonly inlineBodyBytes?: number;
  /** Body bytes per shard item (must stay below 400 KB). @default 350_000 */
  readonly shardBytes?: number;
  /** @default 'brotli' (kept only when smaller than the raw varints) */
  readonly compression?: Compression;
  /** @default 5 */
  readonly brotliQuality?: number;
  /**
   * Strongly consistent reads (2× the read cost). An eventually consistent head read can only
   * cause a version conflict on save, never a wrong diff being saved. @default true
   */
  readonly consistentRead?: boolean;
  /** Grace period before TTL may delete replaced shards; 0 disables retiring. @default 86_400 */
  readonly retiredShardTtlSeconds?: number;
  /** Retries of UnprocessedKeys/UnprocessedItems with full-jitter exponential backoff. */
  readonly retry?: {
    readonly maxAttempts?: number;
    readonly baseDelayMs?: number;
    readonly maxDelayMs?: number;
  };
  readonly now?: () => Date;
  /** Heads remembered for the unchanged-save check (least recently used dropped). @default 10_000 */
  readonly headCacheSize?: number;
}

/** DynamoDB calls made by one store instance, for the benchmark and metrics. */
export interface SnapshotStoreStats {
  /** BatchGetItem and Query calls, retries included. */
  readonly readCalls: number;
  /** PutItem, BatchWriteItem and UpdateItem calls, retries included. */
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

/**
 * A stored snapshot cannot be decoded (missing shard, hash mismatch, bad encoding). `loadMany`
 * reports it per chat inside a {@link SnapshotUnreadableError}.
 */
export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
}

const HEAD_SK = 'head';
/** DynamoDB limits: BatchGetItem 100 keys, BatchWriteItem 25 items. */
const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

interface CachedHead {
  readonly version: number;
  readonly pendingId: string | undefined;
  /** {@link stateKey} of the stored snapshot. */
  readonly state: string;
  readonly bodyHash: string;
  readonly shards: { readonly prefix: string; readonly count: number } | undefined;
}

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
  const baseDelayMs = options.retry?.baseDelayMs ?? 50;
  const maxDelayMs = options.retry?.maxDelayMs ?? 2_000;
  const now = options.now ?? (() => new Date());
  if (shardBytes <= 0 || shardBytes > 390_000) throw new RangeError('shardBytes must be 1..390000');

  const headCacheSize = Math.max(1, options.headCacheSize ?? 10_000);
  const headCache = new Map<string, CachedHead>();
  const cache = {
    get(pk: string): CachedHead | undefined {
      const hit = headCache.get(pk);
      if (hit) {
        headCache.delete(pk);
        headCache.set(pk, hit);
      }
      return hit;
    },
    set(pk: string, head: CachedHead): void {
      headCache.delete(pk);
      headCache.set(pk, head);
      if (headCache.size > headCacheSize) headCache.delete(headCache.keys().next().value as string);
    },
    delete(pk: string): void {
      headCache.delete(pk);
    },
  };
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

  const backoff = (attempt: number): Promise<void> =>
    sleep(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));

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

  async function batchPut(items: readonly Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) {
      let pending = items.slice(i, i + BATCH_WRITE_MAX).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) {
          if (attempt >= maxAttempts) {
            throw new Error(
              `BatchWriteItem left ${pending.length} items unprocessed after ${attempt} attempts`,
            );
          }
          await backoff(attempt);
        }
        counters.writeCalls++;
        const out = await client.send(
          new BatchWriteCommand({
            RequestItems: { [tableName]: pending },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        counters.writeCapacityUnits += capacity(out.ConsumedCapacity);
        pending = (out.UnprocessedItems?.[tableName] ?? []).flatMap((r) =>
          r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
        );
      }
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
    const shardKeys: Key[] = [];
    for (const head of heads) {
      const shards = shardRef(head);
      if (shards) {
        for (let n = 0; n < shards.count; n++)
          shardKeys.push({ pk: String(head.pk), sk: `${shards.prefix}#${n}` });
      }
    }
    const shardItems = shardKeys.length > 0 ? await batchGet(shardKeys) : [];
    counters.shardsRead += shardItems.length;
    const shardData = new Map(shardItems.map((s) => [`${s.pk}|${s.sk}`, s.data]));

    const result = new Map<ChatId, Snapshot>();
    const unreadable = new Map<ChatId, string>();
    for (const head of heads) {
      const pk = String(head.pk);
      const shards = shardRef(head);
      let snapshot: Snapshot;
      try {
        snapshot = decodeHead(head, assembleBody(head, shards, shardData));
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
        shards,
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

    const pending = snapshot.pending;
    const raw = packBody(
      encodeIdLists([
        snapshot.members,
        sortedUnique(snapshot.held?.joined ?? []),
        sortedUnique(snapshot.held?.left ?? []),
        pending?.joined ?? [],
        pending?.left ?? [],
        snapshot.readProgress?.memberIds ?? [],
      ]),
      pending?.details,
    );
    const body = compress(raw, { compression, brotliQuality: options.brotliQuality ?? 5 });
    const bodyHash = sha256(body.bytes);

    const head: Item = {
      pk,
      sk: HEAD_SK,
      [snapshotTableDefinition.portalIndex.partitionKey.name]: snapshot.portalId,
      [snapshotTableDefinition.portalIndex.sortKey.name]: snapshot.chatId,
      version: snapshot.version,
      contentHash: snapshot.contentHash,
      observedAt: snapshot.observedAt,
      sequence: snapshot.sequence,
      memberCount: snapshot.members.length,
      bodyEncoding: body.compression,
      bodyHash,
      bodyBytes: body.bytes.length,
    };
    if (snapshot.accessLostAt !== undefined) head.accessLostAt = snapshot.accessLostAt;
    if (snapshot.method !== undefined) head.method = snapshot.method;
    if (snapshot.readProgress) {
      head.readLastId = snapshot.readProgress.lastId;
      head.readStartedAt = snapshot.readProgress.startedAt;
    }
    if (pending) {
      const { joined: _j, left: _l, details, published, id, ...fields } = pending;
      head.pendingId = id;
      head.pendingPublished = published;
      head.pending = { ...fields, hasDetails: details !== undefined };
    }
    if (snapshot.held) {
      const { baseVersion, detectedAt, observedCount, released } = snapshot.held;
      head.held = { baseVersion, detectedAt, observedCount, released };
    }

    let shards: CachedHead['shards'];
    if (body.bytes.length <= inlineBodyBytes) {
      head.body = body.bytes;
    } else if (replaced?.shards && replaced.bodyHash === bodyHash) {
      // Same body as the head being replaced (e.g. only accessLostAt changed): reuse its shards.
      shards = replaced.shards;
    } else {
      const prefix = `shard#${snapshot.version}#${bodyHash.slice(0, 16)}`;
      const items: Item[] = [];
      for (let at = 0, n = 0; at < body.bytes.length; at += shardBytes, n++) {
        items.push({ pk, sk: `${prefix}#${n}`, data: body.bytes.subarray(at, at + shardBytes) });
      }
      await batchPut(items);
      counters.shardsWritten += items.length;
      shards = { prefix, count: items.length };
    }
    if (shards) {
      head.shardPrefix = shards.prefix;
      head.shardCount = shards.count;
    }

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
    cache.set(pk, { version: snapshot.version, pendingId: pending?.id, state, bodyHash, shards });
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
      const stored = out.Item;
      if (stored === undefined) return false;
      const keys = new Set([...Object.keys(stored), ...Object.keys(head)]);
      keys.delete('body');
      for (const key of keys) {
        if (canonical(stored[key]) !== canonical(head[key])) return false;
      }
      return true;
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

  async function retire(pk: string, shards: { prefix: string; count: number }): Promise<void> {
    if (retiredShardTtlSeconds <= 0) return;
    const expiresAt = Math.floor(now().getTime() / 1000) + retiredShardTtlSeconds;
    await Promise.all(
      Array.from({ length: shards.count }, async (_, n) => {
        counters.writeCalls++;
        try {
          const out = await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { pk, sk: `${shards.prefix}#${n}` },
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

  async function* list(portalId: string): AsyncIterable<Snapshot> {
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
          Limit: BATCH_GET_MAX,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      counters.readCapacityUnits += capacity(page.ConsumedCapacity);
      const chatIds = (page.Items ?? []).map((i) => Number(i.chatId));
      const loaded = await loadMany(portalId, chatIds);
      for (const chatId of chatIds) {
        const snapshot = loaded.get(chatId);
        if (snapshot) yield snapshot;
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  return { loadMany, save, recordPublished, list, stats: () => ({ ...counters }) };
}

/** The stored body of a head: inline, or its shards concatenated. */
function assembleBody(
  head: Item,
  shards: { prefix: string; count: number } | undefined,
  shardData: ReadonlyMap<string, unknown>,
): Uint8Array {
  const pk = String(head.pk);
  if (shards) {
    const parts: Uint8Array[] = [];
    for (let n = 0; n < shards.count; n++) {
      const part = shardData.get(`${pk}|${shards.prefix}#${n}`);
      if (!(part instanceof Uint8Array))
        throw new SnapshotCorruptError(`${pk}: shard ${n} is missing`);
      parts.push(part);
    }
    return Buffer.concat(parts);
  }
  if (head.body instanceof Uint8Array) return head.body;
  throw new SnapshotCorruptError(`${pk}: head has neither body nor shards`);
}

function decodeHead(head: Item, stored: Uint8Array): Snapshot {
  const pk = String(head.pk);
  if (sha256(stored) !== head.bodyHash) throw new SnapshotCorruptError(`${pk}: body hash mismatch`);
  const encoding = head.bodyEncoding;
  if (encoding !== 'none' && encoding !== 'deflate' && encoding !== 'brotli') {
    throw new SnapshotCorruptError(`${pk}: unknown body encoding`);
  }
  let lists: number[][];
  let json: unknown;
  try {
    const body = unpackBody(decompress(stored, encoding));
    lists = decodeIdLists(body.idLists);
    json = body.json;
  } catch (error) {
    throw new SnapshotCorruptError(`${pk}: body does not decode`, { cause: error });
  }
  const [members = [], joined = [], left = [], pendingJoined = [], pendingLeft = [], readIds = []] =
    lists;
  if (members.length !== Number(head.memberCount)) {
    throw new SnapshotCorruptError(`${pk}: member count mismatch`);
  }
  if (!isSortedUnique(members)) throw new SnapshotCorruptError(`${pk}: members not ascending`);
  // The version and sequence become event IDs, sequences and the save condition: a head without
  // them would publish `NaN` events and then fail every save, run after run.
  const version = Number(head.version);
  const sequence = Number(head.sequence);
  const pending = decodePending(pk, head, pendingJoined, pendingLeft, json);
  const readProgress = decodeReadProgress(pk, head, readIds);
  // Version 0: nothing committed yet (the first change is pending, or the first read goes on).
  if (!Number.isSafeInteger(version) || version < (pending || readProgress ? 0 : 1)) {
    throw new SnapshotCorruptError(`${pk}: version is not a positive integer`);
  }
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new SnapshotCorruptError(`${pk}: sequence is not a non-negative integer`);
  }
  if (typeof head.observedAt !== 'string' || typeof head.contentHash !== 'string') {
    throw new SnapshotCorruptError(`${pk}: observedAt or contentHash missing`);
  }
  const heldAttrs = head.held as Omit<HeldChange, 'joined' | 'left'> | undefined;
  return {
    portalId: String(head.portalId),
    chatId: Number(head.chatId),
    members,
    version,
    contentHash: head.contentHash,
    observedAt: head.observedAt,
    sequence,
    ...(heldAttrs
      ? {
          held: {
            baseVersion: Number(heldAttrs.baseVersion),
            detectedAt: String(heldAttrs.detectedAt),
            joined,
            left,
            observedCount: Number(heldAttrs.observedCount),
            released: heldAttrs.released === true,
          },
        }
      : {}),
    ...(typeof head.accessLostAt === 'string' ? { accessLostAt: head.accessLostAt } : {}),
    ...(head.method === 'im.chat.user.list' || head.method === 'im.dialog.users.list'
      ? { method: head.method }
      : {}),
    ...(pending ? { pending } : {}),
    ...(readProgress ? { readProgress } : {}),
  };
}

function decodeReadProgress(
  pk: string,
  head: Item,
  memberIds: number[],
): KeysetProgress | undefined {
  if (head.readLastId === undefined) return undefined;
  const lastId = Number(head.readLastId);
  if (
    !Number.isSafeInteger(lastId) ||
    typeof head.readStartedAt !== 'string' ||
    (memberIds.length > 0 && memberIds[memberIds.length - 1] !== lastId)
  ) {
    throw new SnapshotCorruptError(`${pk}: keyset read progress is malformed`);
  }
  return { lastId, memberIds, startedAt: head.readStartedAt };
}

const PENDING_KINDS: ReadonlySet<unknown> = new Set(['baseline', 'apply', 'hold', 'access_lost']);

function decodePending(
  pk: string,
  head: Item,
  joined: number[],
  left: number[],
  details: unknown,
): PendingChange | undefined {
  if (head.pendingId === undefined) return undefined;
  const fields = head.pending as Record<string, unknown> | undefined;
  const published = Number(head.pendingPublished);
  const eventCount = Number(fields?.eventCount);
  if (
    typeof head.pendingId !== 'string' ||
    fields === undefined ||
    !PENDING_KINDS.has(fields.kind) ||
    typeof fields.observedAt !== 'string' ||
    !Number.isSafeInteger(eventCount) ||
    !Number.isSafeInteger(published) ||
    published < 0 ||
    published > eventCount ||
    (fields.hasDetails === true) !== Array.isArray(details)
  ) {
    throw new SnapshotCorruptError(`${pk}: pending change is malformed`);
  }
  const { hasDetails: _flag, ...rest } = fields;
  return {
    ...rest,
    id: head.pendingId,
    joined,
    left,
    eventCount,
    published,
    ...(Array.isArray(details) ? { details: details as UserDetails[] } : {}),
  } as unknown as PendingChange;
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

/** Everything a save could change, as one comparable string (the cursor excluded). */
function stateKey(snapshot: Snapshot): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      snapshot.contentHash,
      snapshot.method ?? null,
      snapshot.accessLostAt ?? null,
      snapshot.pending?.id ?? null,
      snapshot.readProgress?.lastId ?? null,
      heldKey(snapshot.held),
    ]),
  );
  return h.digest('hex');
}

function shardRef(head: Item): { prefix: string; count: number } | undefined {
  return typeof head.shardPrefix === 'string'
    ? { prefix: head.shardPrefix, count: Number(head.shardCount) }
    : undefined;
}

/** Chat IDs are numbers, so the last `#` separates them from any portal slug. */
function partitionKey(portalId: string, chatId: ChatId): string {
  return `${portalId}#${chatId}`;
}

/** Held joined/left lists are sets; they are stored (and come back) sorted ascending. */
function sortedUnique(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

function heldKey(held: HeldChange | undefined): string {
  if (!held) return '';
  const h = createHash('sha256');
  h.update(JSON.stringify([held.baseVersion, held.detectedAt, held.observedCount, held.released]));
  h.update(encodeIdLists([sortedUnique(held.joined), sortedUnique(held.left)]));
  return h.digest('hex');
}

/** JSON with object keys sorted: DynamoDB does not keep a map's key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
