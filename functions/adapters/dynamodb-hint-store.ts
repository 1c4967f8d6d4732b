import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { HintStateConflictError } from '../core/errors.js';
import type { HintRecall, HintStateStore, ReadOutcomes, StoredHints } from '../core/hint-store.js';
import type { ChatId } from '../core/model.js';
import type { ChatHintState, HintState, UnfinishedKind } from '../core/select-reads.js';
import { isConditionalCheckFailed } from './conditional-check.js';
import { BUCKET_SORT_KEY } from './dynamodb-bucket-store.js';
import { compress, decompress } from './id-list-codec.js';
import { portalStatePartitionKey } from './snapshot-table.js';

/**
 * HintStateStore on the snapshot table, in a partition of its own per portal,
 * `pk = <portalId>#portal` (a chat's partitions are `<portalId>#<chatId>`; these items carry no
 * `portalId`/`chatId` attributes, so the `byPortal` index never sees them):
 *
 * - `sk = hints`: the planner's state, `version` (conditional writes), `bodyHash`, and the body
 *   inline or, above `partBytes`, in `sk = hints#<n>` items written first. A reader that meets a
 *   half-written body (hash mismatch) gets no state, which makes that tick a full read: safe.
 * - `sk = hints#ids`: the state's chat IDs (format 3), `hash`, the body inline or in
 *   `sk = hints#ids#<n>` parts, which the head names by `idsHash`. The IDs are most of a state's
 *   bytes and rarely change, while the read times change on most ticks: written first and only
 *   when the list changed, so a tick's save costs the head's write units alone.
 * - `sk = unfinished`: one attribute `c<chatId>` per chat with unfinished business (its kind), and
 *   the recall counters, changed with SET/REMOVE/ADD only: workers never conflict.
 * - `sk = misses`: one attribute `c<chatId>` per chat whose reconcile read found a change the
 *   hints missed (epoch ms of the last one), for the learned reconcile. Workers SET; the planner
 *   REMOVEs old ones on condition that they are unchanged. Kept apart from `unfinished` so that
 *   however large it grows, the unfinished business is still written.
 *
 * The rate budget (`sk = bucket`, `dynamodb-bucket-store.ts`) is returned as it is stored, so
 * the planner takes it up from the same read. One Query reads everything: a quiet tick costs one
 * read.
 *
 * Body: brotli-compressed JSON of columns (chat IDs as deltas; read times as indexes into their
 * few distinct offsets from the watermark; active counts only where kept).
 */
export interface DynamoDbHintStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Largest body kept in the head item. @default 350_000 */
  readonly partBytes?: number | undefined;
}

export interface HintStoreStats {
  /** Query calls (pages included). */
  readonly readCalls: number;
  /** Put and Update calls. */
  readonly writeCalls: number;
}

export interface DynamoDbHintStore extends HintStateStore {
  stats(): HintStoreStats;
}

const HEAD = 'hints';
const IDS = 'hints#ids';
const UNFINISHED = 'unfinished';
const MISSES = 'misses';
/** Written: 3. Read: 1 (per-chat times and counts), 2 (IDs inline) and 3 (IDs apart). */
const FORMAT = 3;
/** Chats per UpdateItem: keeps its expression far below DynamoDB's 4 KB expression limit. */
const CHATS_PER_UPDATE = 100;
const KINDS: ReadonlySet<string> = new Set(['failed', 'held', 'access_lost']);
const NO_RECALL: HintRecall = { byHint: 0, byReconcile: 0 };

export function createDynamoDbHintStore(options: DynamoDbHintStoreOptions): DynamoDbHintStore {
  const { client, tableName } = options;
  const partBytes = options.partBytes ?? 350_000;
  const counters = { readCalls: 0, writeCalls: 0 };
  /** Per portal, the hash of the chat-ID list stored now (as last loaded or saved here). */
  const storedIds = new Map<string, string>();

  async function load(portalId: string): Promise<StoredHints> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      counters.readCalls++;
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': portalStatePartitionKey(portalId) },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    const bySk = new Map(items.map((item) => [String(item.sk), item]));
    const head = bySk.get(HEAD);
    // Only an intact list counts as stored: a torn one is written again by the next save.
    const ids = intactIds(bySk);
    if (ids) storedIds.set(portalId, ids.hash);
    else storedIds.delete(portalId);
    const unfinishedItem = bySk.get(UNFINISHED);
    const missesItem = bySk.get(MISSES);
    const bucket = bySk.get(BUCKET_SORT_KEY);
    return {
      state: head ? decodeState(head, bySk, ids) : undefined,
      version: typeof head?.version === 'number' ? head.version : undefined,
      unfinished: unfinishedItem ? decodeUnfinished(unfinishedItem) : new Map(),
      recall: unfinishedItem ? decodeRecall(unfinishedItem) : NO_RECALL,
      misses: missesItem ? decodeMisses(missesItem) : new Map(),
      ...(bucket && typeof bucket.level === 'number' && typeof bucket.at === 'number'
        ? {
            bucket: {
              level: bucket.level,
              at: bucket.at,
              ...(typeof bucket.version === 'number' ? { version: bucket.version } : {}),
            },
          }
        : {}),
    };
  }

  /** The body inline, or its parts (`<sk>#<n>`) written first and counted. */
  async function bodyAttributes(pk: string, sk: string, body: Uint8Array) {
    if (body.length <= partBytes) return { body };
    let parts = 0;
    for (let at = 0; at < body.length; at += partBytes, parts++) {
      counters.writeCalls++;
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk, sk: `${sk}#${parts}`, body: body.subarray(at, at + partBytes) },
        }),
      );
    }
    return { parts };
  }

  async function saveState(
    portalId: string,
    state: HintState,
    expectedVersion: number | undefined,
  ): Promise<void> {
    const pk = portalStatePartitionKey(portalId);
    const encoded = encodeStateItems(state);
    const idsHash = sha256(encoded.ids);
    if (storedIds.get(portalId) !== idsHash) {
      const attributes = await bodyAttributes(pk, IDS, encoded.ids);
      counters.writeCalls++;
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk, sk: IDS, hash: idsHash, ...attributes },
        }),
      );
      storedIds.set(portalId, idsHash);
    }
    const body = encoded.head(idsHash);
    const attributes = await bodyAttributes(pk, HEAD, body);
    const version = (expectedVersion ?? 0) + 1;
    counters.writeCalls++;
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk, sk: HEAD, version, bodyHash: sha256(body), ...attributes },
          ConditionExpression:
            expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
          ...(expectedVersion === undefined
            ? {}
            : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new HintStateConflictError(portalId);
      }
      throw error;
    }
  }

  async function recordOutcomes(portalId: string, outcomes: ReadOutcomes): Promise<void> {
    const changes: [ChatId, UnfinishedKind | undefined][] = [
      ...outcomes.unfinished,
      ...outcomes.finished
        .filter((id) => !outcomes.unfinished.has(id))
        .map((id): [ChatId, undefined] => [id, undefined]),
    ];
    const { byHint, byReconcile } = outcomes.detected;
    const counts = byHint > 0 || byReconcile > 0;
    for (let at = 0; at < changes.length || (at === 0 && counts); at += CHATS_PER_UPDATE) {
      const chunk = changes.slice(at, at + CHATS_PER_UPDATE);
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const set: string[] = [];
      const remove: string[] = [];
      chunk.forEach(([chatId, kind], i) => {
        names[`#c${i}`] = `c${chatId}`;
        if (kind === undefined) remove.push(`#c${i}`);
        else {
          values[`:c${i}`] = kind;
          set.push(`#c${i} = :c${i}`);
        }
      });
      const add: string[] = [];
      if (at === 0 && counts) {
        values[':h'] = byHint;
        values[':r'] = byReconcile;
        add.push('recallHint :h', 'recallReconcile :r');
      }
      const expression = [
        set.length ? `SET ${set.join(', ')}` : '',
        remove.length ? `REMOVE ${remove.join(', ')}` : '',
        add.length ? `ADD ${add.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      counters.writeCalls++;
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: portalStatePartitionKey(portalId), sk: UNFINISHED },
          UpdateExpression: expression,
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    }
  }

  async function recordMisses(portalId: string, chatIds: readonly ChatId[], at: number) {
    const unique = [...new Set(chatIds)];
    for (let start = 0; start < unique.length; start += CHATS_PER_UPDATE) {
      const chunk = unique.slice(start, start + CHATS_PER_UPDATE);
      counters.writeCalls++;
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: portalStatePartitionKey(portalId), sk: MISSES },
          UpdateExpression: `SET ${chunk.map((_, i) => `#c${i} = :at`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(chunk.map((id, i) => [`#c${i}`, `c${id}`])),
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    }
  }

  async function forgetMisses(portalId: string, misses: ReadonlyMap<ChatId, number>) {
    const entries = [...misses];
    for (let start = 0; start < entries.length; start += CHATS_PER_UPDATE) {
      const chunk = entries.slice(start, start + CHATS_PER_UPDATE);
      counters.writeCalls++;
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: portalStatePartitionKey(portalId), sk: MISSES },
            UpdateExpression: `REMOVE ${chunk.map((_, i) => `#c${i}`).join(', ')}`,
            ConditionExpression: chunk.map((_, i) => `#c${i} = :c${i}`).join(' AND '),
            ExpressionAttributeNames: Object.fromEntries(
              chunk.map(([id], i) => [`#c${i}`, `c${id}`]),
            ),
            ExpressionAttributeValues: Object.fromEntries(chunk.map(([, at], i) => [`:c${i}`, at])),
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
  }

  return {
    load,
    saveState,
    recordOutcomes,
    recordMisses,
    forgetMisses,
    stats: () => ({ ...counters }),
  };
}

interface StateBody {
  readonly format: number;
  readonly watermark: number;
  readonly settingsKey: string;
  readonly discoveredAt?: number;
  /** Formats 1 and 2: chat IDs ascending, as differences (the first absolute). */
  readonly ids?: number[];
  /** Format 3: the hash of the `hints#ids` body holding the IDs. */
  readonly idsHash?: string;
  /** Format 1: per chat, watermark − lastFullReadAt, ms. */
  readonly readAgo?: number[];
  /**
   * Formats 2 and 3: the distinct watermark − lastFullReadAt values (ms; few: one per tick of a
   * reconcile period), and per chat (in ID order) the index of its own.
   */
  readonly readTimes?: number[];
  readonly readAt?: number[];
  /** Format 1: per chat, active count or -1. Later: [chat ID, active count] of the chats that have one. */
  readonly active: number[] | [number, number][];
  /** [chat ID, date_update − watermark in ms] of the rows the next call returns again. */
  readonly recent: [number, number][];
  /** Chats that left the set and still owe their last word (absent: none; older states). */
  readonly departed?: number[];
}

/**
 * The stored bodies of a state: the chat IDs (ascending, as differences) and the head, which
 * names the IDs' hash (exported for the bench's size measurement).
 */
export function encodeStateItems(state: HintState): {
  readonly ids: Uint8Array;
  readonly head: (idsHash: string) => Uint8Array;
} {
  const ids = [...state.chats.keys()].sort((a, b) => a - b);
  const ago = ids.map(
    (id) => state.watermark - (state.chats.get(id) as ChatHintState).lastFullReadAt,
  );
  const readTimes = [...new Set(ago)].sort((a, b) => a - b);
  const timeIndex = new Map(readTimes.map((value, i) => [value, i]));
  return {
    ids: pack(ids.map((id, i) => (i === 0 ? id : id - (ids[i - 1] as number)))),
    head: (idsHash) =>
      pack({
        format: FORMAT,
        watermark: state.watermark,
        settingsKey: state.settingsKey,
        ...(state.discoveredAt === undefined ? {} : { discoveredAt: state.discoveredAt }),
        idsHash,
        readTimes,
        readAt: ago.map((value) => timeIndex.get(value) as number),
        active: ids.flatMap((id): [number, number][] => {
          const count = state.chats.get(id)?.activeCount;
          return count === undefined ? [] : [[id, count]];
        }),
        recent: [...state.recentRows].map(([id, at]) => [id, at - state.watermark]),
        ...(state.departed && state.departed.length > 0 ? { departed: [...state.departed] } : {}),
      } satisfies StateBody),
  };
}

/** One flag byte (1 = brotli, 0 = raw), then the JSON. */
function pack(value: unknown): Uint8Array {
  const packed = compress(Buffer.from(JSON.stringify(value), 'utf8'), { compression: 'brotli' });
  return Buffer.concat([Uint8Array.of(packed.compression === 'brotli' ? 1 : 0), packed.bytes]);
}

function unpack(bytes: Uint8Array): unknown {
  const json = decompress(bytes.subarray(1), bytes[0] === 1 ? 'brotli' : 'none');
  return JSON.parse(Buffer.from(json).toString('utf8'));
}

/** An item's body, inline or from its parts (`<sk>#<n>`); undefined when a part is missing. */
function bodyOf(
  item: Record<string, unknown>,
  sk: string,
  bySk: ReadonlyMap<string, Record<string, unknown>>,
): Uint8Array | undefined {
  if (item.body instanceof Uint8Array) return item.body;
  if (typeof item.parts !== 'number') return undefined;
  const parts: Uint8Array[] = [];
  for (let n = 0; n < item.parts; n++) {
    const part = bySk.get(`${sk}#${n}`)?.body;
    if (!(part instanceof Uint8Array)) return undefined;
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/**
 * Undefined when a body is missing, torn, of an unknown format, or (format 3) `ids` (the intact
 * stored list) is not the list it names: the tick reads everything.
 */
function decodeState(
  head: Record<string, unknown>,
  bySk: ReadonlyMap<string, Record<string, unknown>>,
  ids: IntactIds | undefined,
): HintState | undefined {
  const bytes = bodyOf(head, HEAD, bySk);
  if (!bytes || sha256(bytes) !== head.bodyHash) return undefined;
  try {
    const body = unpack(bytes) as StateBody;
    if (body.format !== FORMAT && body.format !== 2 && body.format !== 1) return undefined;
    const deltas =
      body.format !== FORMAT
        ? body.ids
        : ids && ids.hash === body.idsHash
          ? (unpack(ids.bytes) as number[])
          : undefined;
    if (!Array.isArray(deltas)) return undefined;
    const counts = new Map<number, number>(
      body.format === 1 ? [] : (body.active as [number, number][]),
    );
    const chats = new Map<ChatId, ChatHintState>();
    let id = 0;
    deltas.forEach((delta, i) => {
      id += delta;
      const active =
        body.format === 1 ? ((body.active as number[])[i] ?? -1) : (counts.get(id) ?? -1);
      const ago =
        body.format === 1 ? (body.readAgo?.[i] ?? 0) : body.readTimes?.[body.readAt?.[i] ?? -1];
      if (ago === undefined) throw new Error('hint state: a chat without its read time');
      const lastFullReadAt = body.watermark - ago;
      chats.set(id, active < 0 ? { lastFullReadAt } : { lastFullReadAt, activeCount: active });
    });
    return {
      watermark: body.watermark,
      settingsKey: body.settingsKey,
      chats,
      recentRows: new Map(body.recent.map(([chatId, at]) => [chatId, body.watermark + at])),
      ...(body.discoveredAt === undefined ? {} : { discoveredAt: body.discoveredAt }),
      ...(Array.isArray(body.departed) && body.departed.length > 0
        ? { departed: body.departed }
        : {}),
    };
  } catch {
    return undefined;
  }
}

interface IntactIds {
  readonly hash: string;
  readonly bytes: Uint8Array;
}

/** The `hints#ids` body, when all of it is there and matches its hash. */
function intactIds(bySk: ReadonlyMap<string, Record<string, unknown>>): IntactIds | undefined {
  const item = bySk.get(IDS);
  const bytes = item && bodyOf(item, IDS, bySk);
  if (!bytes || typeof item?.hash !== 'string' || sha256(bytes) !== item.hash) return undefined;
  return { hash: item.hash, bytes };
}

function decodeUnfinished(item: Record<string, unknown>): Map<ChatId, UnfinishedKind> {
  const unfinished = new Map<ChatId, UnfinishedKind>();
  for (const [name, value] of Object.entries(item)) {
    const chatId = /^c(\d+)$/.exec(name)?.[1];
    if (chatId !== undefined && typeof value === 'string' && KINDS.has(value)) {
      unfinished.set(Number(chatId), value as UnfinishedKind);
    }
  }
  return unfinished;
}

function decodeMisses(item: Record<string, unknown>): Map<ChatId, number> {
  const misses = new Map<ChatId, number>();
  for (const [name, value] of Object.entries(item)) {
    const chatId = /^c(\d+)$/.exec(name)?.[1];
    if (chatId !== undefined && typeof value === 'number') misses.set(Number(chatId), value);
  }
  return misses;
}

function decodeRecall(item: Record<string, unknown>): HintRecall {
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  return { byHint: count(item.recallHint), byReconcile: count(item.recallReconcile) };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
