import { createHash } from 'node:crypto';
import { isSortedUnique } from '../core/member-set.js';
import type {
  ChatId,
  HeldChange,
  KeysetProgress,
  PendingChange,
  Snapshot,
  UserDetails,
} from '../core/model.js';
import {
  type Compression,
  type CompressOptions,
  compress,
  decodeIdLists,
  decompress,
  encodeIdLists,
} from './id-list-codec.js';
import { packBody, unpackBody } from './snapshot-body.js';
import { SHARD_PARTITION_SUFFIX, snapshotTableDefinition } from './snapshot-table.js';

/**
 * A snapshot as DynamoDB items (key schema: `snapshot-table.ts`), and back.
 *
 * Head item: the snapshot's scalar fields, a held change's and a pending change's other fields
 * as maps, the pending change's ID (`pendingId`, what writes are conditional on) and publish
 * cursor (`pendingPublished`), a keyset read's progress (`readLastId`, `readStartedAt`), and the
 * body's encoding, hash and length. Body: the member IDs, a held change's joined/left IDs, a
 * pending change's joined/left IDs and a keyset read's IDs so far, encoded by `id-list-codec.ts`
 * (delta varints, then brotli when smaller), with a pending change's user details as JSON
 * (`snapshot-body.ts`). The body lives in the head (`body`) or in shard items
 * (`shardPrefix`, `shardCount`) that the store writes first.
 */
export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };

/**
 * A head's shard items: sort keys `<prefix>#0` … `<prefix>#<count - 1>` in the partition `pk`
 * (absent on heads written before shards had a partition of their own: the head's).
 */
export interface ShardRef {
  readonly prefix: string;
  readonly count: number;
  readonly pk?: string;
}

/** An encoded (possibly compressed) body and its SHA-256, hex. */
export interface EncodedBody {
  readonly bytes: Uint8Array;
  readonly compression: Compression;
  readonly hash: string;
}

/**
 * A stored snapshot cannot be decoded (missing shard, hash mismatch, bad encoding). `loadMany`
 * reports it per chat inside a `SnapshotUnreadableError`.
 */
export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
}

export const HEAD_SK = 'head';

/** Chat IDs are numbers, so the last `#` separates them from any portal slug. */
export function partitionKey(portalId: string, chatId: ChatId): string {
  return `${portalId}#${chatId}`;
}

export function encodeBody(snapshot: Snapshot, options: CompressOptions): EncodedBody {
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
    pendingJson(pending),
  );
  const body = compress(raw, options);
  return { ...body, hash: sha256(body.bytes) };
}

/**
 * The head item of `snapshot` whose encoded body is `body`: inline, or in the shard items
 * `shards` (cut by {@link encodeShards}).
 */
export function encodeHead(
  snapshot: Snapshot,
  body: EncodedBody,
  shards: ShardRef | undefined,
): Item {
  const head: Item = {
    pk: partitionKey(snapshot.portalId, snapshot.chatId),
    sk: HEAD_SK,
    [snapshotTableDefinition.portalIndex.partitionKey.name]: snapshot.portalId,
    [snapshotTableDefinition.portalIndex.sortKey.name]: snapshot.chatId,
    version: snapshot.version,
    contentHash: snapshot.contentHash,
    observedAt: snapshot.observedAt,
    sequence: snapshot.sequence,
    memberCount: snapshot.members.length,
    bodyEncoding: body.compression,
    bodyHash: body.hash,
    bodyBytes: body.bytes.length,
  };
  if (snapshot.accessLostAt !== undefined) head.accessLostAt = snapshot.accessLostAt;
  if (snapshot.retiredAt !== undefined) head.retiredAt = snapshot.retiredAt;
  // Not `readStartedAt`: that attribute is a keyset read's progress.
  if (snapshot.readStartedAt !== undefined) head.membersReadStartedAt = snapshot.readStartedAt;
  if (snapshot.lastEvent !== undefined) {
    head.lastEventId = snapshot.lastEvent.id;
    head.lastEventDigest = snapshot.lastEvent.digest;
  }
  if (snapshot.method !== undefined) head.method = snapshot.method;
  if (snapshot.readProgress) {
    head.readLastId = snapshot.readProgress.lastId;
    head.readStartedAt = snapshot.readProgress.startedAt;
  }
  const pending = snapshot.pending;
  if (pending) {
    const {
      joined: _j,
      left: _l,
      details,
      published,
      id,
      ...fields
    } = pending as PendingChange & { attribution?: unknown };
    delete fields.attribution;
    head.pendingId = id;
    head.pendingPublished = published;
    head.pending = { ...fields, hasDetails: details !== undefined };
  }
  if (snapshot.held) {
    const { baseVersion, detectedAt, observedCount, released } = snapshot.held;
    head.held = { baseVersion, detectedAt, observedCount, released };
  }
  if (shards) {
    head.shardPrefix = shards.prefix;
    head.shardCount = shards.count;
    if (shards.pk !== undefined) head.shardPk = shards.pk;
  } else {
    head.body = body.bytes;
  }
  return head;
}

/**
 * The shard items of a body too large for its head. Their keys name the head's version and the
 * body's hash: never reused, never overwritten by a racing writer (`dynamodb-snapshot-store.ts`).
 */
export function encodeShards(
  snapshot: Snapshot,
  body: EncodedBody,
  shardBytes: number,
): { readonly shards: ShardRef; readonly items: Item[] } {
  const pk = `${partitionKey(snapshot.portalId, snapshot.chatId)}${SHARD_PARTITION_SUFFIX}`;
  const prefix = `shard#${snapshot.version}#${body.hash.slice(0, 16)}`;
  const items: Item[] = [];
  for (let at = 0, n = 0; at < body.bytes.length; at += shardBytes, n++) {
    items.push({ pk, sk: `${prefix}#${n}`, data: body.bytes.subarray(at, at + shardBytes) });
  }
  return { shards: { prefix, count: items.length, pk }, items };
}

/** The shard items a head refers to; undefined when its body is inline. */
export function shardRef(head: Item): ShardRef | undefined {
  if (typeof head.shardPrefix !== 'string') return undefined;
  return {
    prefix: head.shardPrefix,
    count: Number(head.shardCount),
    ...(typeof head.shardPk === 'string' ? { pk: head.shardPk } : {}),
  };
}

/** The keys of a head's shard items; `headPk` is where shards of the older layout live. */
export function shardKeys(headPk: string, shards: ShardRef): Key[] {
  const pk = shards.pk ?? headPk;
  const keys: Key[] = [];
  for (let n = 0; n < shards.count; n++) keys.push({ pk, sk: `${shards.prefix}#${n}` });
  return keys;
}

/**
 * The snapshot a head item stores; `shardData` gives the `data` of its shard items.
 *
 * @throws {SnapshotCorruptError} when a shard is missing, the body does not match its hash or
 * does not decode, or the head's fields are malformed.
 */
export function decodeSnapshot(head: Item, shardData: (key: Key) => unknown): Snapshot {
  return decodeHead(head, assembleBody(head, shardRef(head), shardData));
}

/** The stored body of a head: inline, or its shards concatenated. */
function assembleBody(
  head: Item,
  shards: ShardRef | undefined,
  shardData: (key: Key) => unknown,
): Uint8Array {
  const pk = String(head.pk);
  if (shards) {
    const parts: Uint8Array[] = [];
    for (const [n, key] of shardKeys(pk, shards).entries()) {
      const part = shardData(key);
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
    ...(typeof head.retiredAt === 'string' ? { retiredAt: head.retiredAt } : {}),
    ...(typeof head.membersReadStartedAt === 'string'
      ? { readStartedAt: head.membersReadStartedAt }
      : {}),
    ...(typeof head.lastEventId === 'string' && typeof head.lastEventDigest === 'string'
      ? { lastEvent: { id: head.lastEventId, digest: head.lastEventDigest } }
      : {}),
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

const PENDING_KINDS: ReadonlySet<unknown> = new Set([
  'baseline',
  'apply',
  'hold',
  'access_lost',
  'retire',
]);

function decodePending(
  pk: string,
  head: Item,
  joined: number[],
  left: number[],
  json: unknown,
): PendingChange | undefined {
  if (head.pendingId === undefined) return undefined;
  // The body's JSON is the details list alone, or, once attribution is recorded, an object with both.
  const wrapped = typeof json === 'object' && json !== null && !Array.isArray(json);
  const details = wrapped ? (json as { details?: unknown }).details : json;
  const attribution = wrapped ? (json as { attribution?: unknown }).attribution : undefined;
  if (wrapped && !Array.isArray(attribution)) {
    throw new SnapshotCorruptError(`${pk}: pending change attribution is malformed`);
  }
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
    ...(Array.isArray(attribution) ? { attribution } : {}),
  } as unknown as PendingChange;
}

/** The pending change's JSON part of the body: its details, and its attribution when recorded. */
function pendingJson(pending: PendingChange | undefined): unknown {
  if (pending?.kind === 'apply' && pending.attribution !== undefined) {
    return {
      ...(pending.details === undefined ? {} : { details: pending.details }),
      attribution: pending.attribution,
    };
  }
  return pending?.details;
}

/** Everything a save could change, as one comparable string (the publish cursor excluded). */
export function stateKey(snapshot: Snapshot): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      snapshot.contentHash,
      snapshot.method ?? null,
      snapshot.accessLostAt ?? null,
      snapshot.pending?.id ?? null,
      snapshot.readProgress?.lastId ?? null,
      heldKey(snapshot.held),
      // Appended only when set, so the keys of snapshots stored before it existed stay the same.
      ...(snapshot.retiredAt === undefined ? [] : [snapshot.retiredAt]),
    ]),
  );
  return h.digest('hex');
}

function heldKey(held: HeldChange | undefined): string {
  if (!held) return '';
  const h = createHash('sha256');
  h.update(JSON.stringify([held.baseVersion, held.detectedAt, held.observedCount, held.released]));
  h.update(encodeIdLists([sortedUnique(held.joined), sortedUnique(held.left)]));
  return h.digest('hex');
}

/** Whether two head items store the same snapshot (the body compared by its hash). */
export function sameHead(a: Item, b: Item): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('body');
  for (const key of keys) {
    if (canonical(a[key]) !== canonical(b[key])) return false;
  }
  return true;
}

/** JSON with object keys sorted: DynamoDB does not keep a map's key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Held joined/left lists are sets; they are stored (and come back) sorted ascending. */
function sortedUnique(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
